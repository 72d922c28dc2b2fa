// SPDX-License-Identifier: GPL-2.0-or-later
#include "reconcile.hpp"

#include <algorithm>

#include "block.hpp"

namespace alopex::ovs {

using ovsdb::Atom;

namespace {

bool matches(const std::string &name, const std::vector<std::string> &prefixes)
{
    return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string &p) { return name.starts_with(p); });
}

std::optional<int64_t> integer(const ovsdb::Datum &d)
{
    const Atom *a = d.single();
    if (a && std::holds_alternative<int64_t>(*a))
        return std::get<int64_t>(*a);
    return std::nullopt;
}

} // namespace

Plan plan(const ovsdb::Replica &r, std::string_view bridge, const std::set<std::string> &links,
          const std::vector<std::string> &prefixes, const std::map<std::string, VlanSettings, std::less<>> &vlans,
          const Requests &requests)
{
    Plan p;
    BridgeRef b = find_bridge(r, bridge);
    std::set<std::string> ours, on_bridge, anywhere;
    for (const auto &[uuid, row] : bridge_ports(r, b)) {
        on_bridge.insert(name_of(*row));
        if (owned(*row))
            ours.insert(name_of(*row));
    }
    for (const auto &[uuid, row] : r.rows("Port"))
        anywhere.insert(name_of(row));
    for (const auto &link : links) {
        auto asked = requests.attach.find(link);
        bool wanted = asked != requests.attach.end() || (matches(link, prefixes) && !requests.exclude.contains(link));
        if (!wanted || on_bridge.contains(link))
            continue;
        if (anywhere.contains(link)) {
            p.elsewhere.push_back(link);
            continue;
        }
        PortSpec spec = asked != requests.attach.end() ? asked->second : PortSpec{link, "", vmid_of(link), std::nullopt, {}};
        spec.name = link;
        if (auto v = vlans.find(link); v != vlans.end())
            spec.tag = v->second.tag, spec.trunks = v->second.trunks;
        p.attach.push_back(std::move(spec));
    }
    for (const auto &name : ours)
        if (!links.contains(name) || (requests.exclude.contains(name) && !requests.attach.contains(name)))
            p.detach.push_back(name);
    for (const auto &port : block_ports(r, bridge)) {   // the agent's ports with their VLANs
        auto v = vlans.find(port.name);
        if (v == vlans.end() || !links.contains(port.name) || requests.exclude.contains(port.name) ||
            (v->second.tag == port.tag && v->second.trunks == port.trunks))
            continue;
        p.retag.push_back({port.name, "", std::nullopt, v->second.tag, v->second.trunks});
    }
    return p;
}

void Confirmations::expect(int64_t cfg, std::vector<std::string> interfaces, uint64_t deadline, Done done)
{
    waiting_.push_back({cfg, std::move(interfaces), deadline, std::move(done)});
}

// cur_cfg reached cfg, and every interface either has an ofport or has failed.
bool Confirmations::settled(const ovsdb::Replica &r, const Index &by_name, const Waiting &w, Outcome &out)
{
    const auto &ovs = r.rows("Open_vSwitch");
    auto cur = ovs.empty() ? std::nullopt : integer(ovs.begin()->second.get("cur_cfg"));
    if (!cur || *cur < w.cfg)
        return false;
    out = {};
    for (const auto &name : w.interfaces) {
        auto found = by_name.find(name);
        const ovsdb::Row *iface = found == by_name.end() ? nullptr : found->second;
        if (!iface) {
            out.failed.emplace_back(name, "not in the database (removed meanwhile)");
            continue;
        }
        auto ofport = integer(iface->get("ofport"));
        const Atom *error = iface->get("error").single();
        if (ofport && *ofport >= 1)
            out.attached.emplace_back(name, *ofport);
        else if (error || (ofport && *ofport < 0))
            out.failed.emplace_back(name, error ? std::get<std::string>(*error) : std::string("no ofport"));
        else
            return false;   // applied, the port not opened yet
    }
    return true;
}

Confirmations::Index Confirmations::index(const ovsdb::Replica &r)
{
    Index by_name;
    for (const auto &[uuid, row] : r.rows("Interface"))
        by_name.emplace(name_of(row), &row);
    return by_name;
}

void Confirmations::check(const ovsdb::Replica &r)
{
    if (waiting_.empty())
        return;
    Index by_name = index(r);
    for (size_t i = 0; i < waiting_.size();) {
        Outcome out;
        if (!settled(r, by_name, waiting_[i], out)) {
            ++i;
            continue;
        }
        Done done = std::move(waiting_[i].done);
        waiting_.erase(waiting_.begin() + static_cast<long>(i));
        done(std::move(out));
    }
}

// What check() has not completed by its deadline did not settle.
void Confirmations::advance(uint64_t now)
{
    for (size_t i = 0; i < waiting_.size();) {
        if (waiting_[i].deadline > now) {
            ++i;
            continue;
        }
        Outcome out;
        out.timed_out = true;
        for (const auto &n : waiting_[i].interfaces)
            out.failed.emplace_back(n, "ovs-vswitchd did not apply the change in time");
        Done done = std::move(waiting_[i].done);
        waiting_.erase(waiting_.begin() + static_cast<long>(i));
        done(std::move(out));
    }
}

uint64_t Confirmations::next_deadline() const noexcept
{
    uint64_t next = UINT64_MAX;
    for (const auto &w : waiting_)
        next = std::min(next, w.deadline);
    return next;
}

} // namespace alopex::ovs
