// SPDX-License-Identifier: GPL-2.0-or-later
// Link and address events -> zone membership (interface maps) and zone address sets, as
// one element batch per event; the first sync -> the first full apply.
//
// Which addresses a zone holds: every address on an interface of the zone, IPv4 and IPv6,
// including IPv6 link-local and tentative (DAD not finished) ones, but not those whose DAD
// failed (another node on the link has them). "@self" in a rule means "this host's
// addresses on that zone's interfaces"; a tentative address is this host's once DAD ends
// (the kernel does not deliver to it before), and holding it from the start keeps a rule
// such as "ssh to @self" from changing when DAD ends.
#include <linux/if_addr.h>

#include <utility>

#include <fmt/format.h>

#include "alopex/ipc/firewall1.hpp"
#include "alopex/log.hpp"
#include "compile/compile.hpp"
#include "manager.hpp"

namespace alopex::fwd {

namespace f1 = ipc::firewall1;

Membership Manager::desired(const Model &model, const std::map<std::string, std::string> &explicit_zones) const
{
    // SetInterfaceZone over linkd's zones over the file's patterns. Assignments to zones
    // the model does not have are kept (in the state), not applied.
    std::map<std::string, std::string> assigned;
    for (const auto &[name, zone] : explicit_zones)
        if (model.zones.contains(zone))
            assigned.emplace(name, zone);
    for (const auto &[name, zone] : linkd_zones_)
        if (model.zones.contains(zone))
            assigned.emplace(name, zone);   // emplace: an explicit assignment stays
    Membership m;
    std::map<int, const std::string *> zone_of_index;
    for (const auto &[index, link] : kernel_.links) {
        auto zone = compile::zone_of(model, assigned, link.name);
        if (zone.empty() || !model.zones.contains(zone))
            continue;
        auto [it, _] = m.interfaces.insert_or_assign(link.name, std::move(zone));
        zone_of_index[index] = &it->second;
    }
    for (const auto &[key, a] : kernel_.addresses) {
        auto it = zone_of_index.find(a.ifindex);
        if (it == zone_of_index.end())
            continue;
        if (a.flags & IFA_F_DADFAILED)
            continue;   // another node's address
        if (!a.address.empty())
            ++m.addresses[*it->second][a.address];
    }
    return m;
}

std::vector<nft::ElementOp> Manager::membership_ops(const Model &model, const Membership &from,
                                                    const Membership &to)
{
    std::vector<nft::ElementOp> removes, moves, adds;
    auto append = [](std::vector<nft::ElementOp> &out, std::vector<nft::ElementOp> ops) {
        out.insert(out.end(), std::make_move_iterator(ops.begin()), std::make_move_iterator(ops.end()));
    };
    static const std::string none;
    auto zone_in = [](const Membership &m, const std::string &name) -> const std::string & {
        auto it = m.interfaces.find(name);
        return it == m.interfaces.end() ? none : it->second;
    };
    for (const auto &[name, zone] : from.interfaces)
        if (zone_in(to, name) != zone)
            append(moves, compile::interface_ops(model, name, zone, zone_in(to, name)));
    for (const auto &[name, zone] : to.interfaces)
        if (!from.interfaces.contains(name))
            append(moves, compile::interface_ops(model, name, "", zone));

    static const std::map<net::Address, unsigned> empty;
    auto hosts_in = [](const Membership &m, const std::string &zone) -> const std::map<net::Address, unsigned> & {
        auto it = m.addresses.find(zone);
        return it == m.addresses.end() ? empty : it->second;
    };
    for (const auto &[zone, hosts] : from.addresses) {
        const auto &now = hosts_in(to, zone);
        for (const auto &[c, _] : hosts)
            if (!now.contains(c))
                append(removes, compile::address_ops(zone, c, false));
    }
    for (const auto &[zone, hosts] : to.addresses) {
        const auto &before = hosts_in(from, zone);
        for (const auto &[c, _] : hosts)
            if (!before.contains(c))
                append(adds, compile::address_ops(zone, c, true));
    }
    append(removes, std::move(moves));
    append(removes, std::move(adds));
    return removes;
}

Result<> Manager::sync_membership(const std::map<std::string, std::string> &assigned,
                                  bool *committed_batch)
{
    if (committed_batch)
        *committed_batch = false;
    Membership want = desired(*model_, assigned);
    auto ops = membership_ops(*model_, applied_, want);
    if (ops.empty()) {
        // Nothing the kernel holds changes (reference counts may have).
        applied_ = std::move(want);
        if (&assigned != &state_.interfaces)
            state_.interfaces = assigned;
        return {};
    }
    bool interfaces_changed = want.interfaces != applied_.interfaces;
    if (auto r = apply_elements(ops, "interfaces"); !r) {
        log::warning("rebuilding the table instead of the refused element batch");
        auto old = state_.interfaces;
        state_.interfaces = std::map<std::string, std::string>(assigned);
        if (auto b = rebuild(*model_, state_, "interfaces", &resolved_); !b) {
            state_.interfaces = std::move(old);
            return b;
        }
        if (committed_batch)
            *committed_batch = true;
        return {};
    }
    if (committed_batch)
        *committed_batch = true;
    for (const auto &[name, zone] : want.interfaces)
        if (auto it = applied_.interfaces.find(name); it == applied_.interfaces.end() || it->second != zone)
            log::info({{"ALOPEX_LINK", name}, {"ALOPEX_ZONE", zone}}, "{} is in zone {}", name, zone);
    for (const auto &[name, zone] : applied_.interfaces)
        if (!want.interfaces.contains(name))
            log::info({{"ALOPEX_LINK", name}, {"ALOPEX_ZONE", zone}}, "{} left zone {}", name, zone);
    applied_ = std::move(want);
    if (&assigned != &state_.interfaces)
        state_.interfaces = assigned;
    if (interfaces_changed)
        property_changed(f1::property::Interfaces);
    property_changed(f1::property::ZoneAddresses);
    return {};
}

void Manager::handle(const netlink::Event &e)
{
    // From the moment the event was read from the socket (not this call): an event that
    // waited behind earlier ones of the same read counts that wait.
    const uint64_t received = monitor_ && monitor_->received_us() ? monitor_->received_us() : monotonic_us();
    netlink::fold(kernel_, e);
    if (!ready_)
        return;   // the first full apply (on the first sync) takes everything in
    // Only links and addresses matter; a link change other than its name moves nothing.
    if (e.change == netlink::Change::Changed) {
        const auto *l = std::get_if<netlink::Link>(&e.object);
        const auto *p = e.previous ? std::get_if<netlink::Link>(&*e.previous) : nullptr;
        if (l && p && l->name == p->name)
            return;
    }
    bool batch = false;
    if (auto r = sync_membership(state_.interfaces, &batch); !r) {
        log::err("following {}: {}", std::holds_alternative<netlink::Link>(e.object) ? "a link" : "an address",
                 r.error().to_string());
        return;
    }
    if (batch) {
        histogram_.record(monotonic_us() - received);
        property_changed(f1::property::LatencyHistogram);
    }
}

void Manager::set_linkd_zones(std::map<std::string, std::string> zones)
{
    if (zones == linkd_zones_)
        return;
    linkd_zones_ = std::move(zones);
    log::info("alopex-linkd's link zones: {} link(s) with a zone", linkd_zones_.size());
    if (!ready_)
        return;   // the first full apply takes them in
    if (auto r = sync_membership(state_.interfaces); !r)
        log::err("following alopex-linkd's zones: {}", r.error().to_string());
}

void Manager::handle_synced(bool initial)
{
    if (!initial) {
        log::info("resynced with the kernel after an overrun");
        return;
    }
    synced_ = true;
    log::info("links and addresses in: {} links, {} addresses", kernel_.links.size(),
              kernel_.addresses.size());
    // The Session takes over a table a previous fwd left (persist): the kernel goes from
    // that table to this one in one transaction, so there is never a moment without one.
    if (auto r = rebuild(*model_, state_, "start", &resolved_); !r) {
        if (on_fatal)
            on_fatal(r.error());
        return;
    }
    ready_ = true;
    // The start's success must not hide that the runtime state was unreadable.
    if (!load_error_.empty())
        set_last_error(std::exchange(load_error_, {}));
    arm_expiry();
    if (on_ready)
        on_ready();
}

} // namespace alopex::fwd
