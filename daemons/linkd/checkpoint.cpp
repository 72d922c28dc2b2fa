// SPDX-License-Identifier: GPL-2.0-or-later
// Checkpoints: what is captured and how it is put back (pure), and the timers.
#include "checkpoint.hpp"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "alopex/log.hpp"
#include "manager.hpp"

namespace alopex::linkd {
namespace {

bool covered(const netlink::Address &a)
{
    return (a.flags & IFA_F_PERMANENT) && (a.scope == RT_SCOPE_UNIVERSE || a.scope == RT_SCOPE_SITE);
}

bool covered(const netlink::Route &r)
{
    return (r.protocol == RTPROT_STATIC || r.protocol == RTPROT_BOOT) && r.type == RTN_UNICAST;
}

rtnl::Request address_request(const netlink::Address &a, bool add, const std::string &link)
{
    rtnl::Request q;
    q.op = add ? rtnl::Request::Op::AddAddress : rtnl::Request::Op::RemoveAddress;
    q.address.ifindex = a.ifindex;
    q.address.family = a.family;
    q.address.address = a.address;
    q.address.prefixlen = a.prefixlen;
    q.address.scope = a.scope;
    q.address.noprefixroute = (a.flags & IFA_F_NOPREFIXROUTE) != 0;
    q.what = fmt::format("checkpoint: {} {}/{} on {}", add ? "restore" : "remove", a.address, a.prefixlen, link);
    return q;
}

rtnl::Request route_request(const netlink::Route &r, bool add)
{
    rtnl::Request q;
    q.op = add ? rtnl::Request::Op::AddRoute : rtnl::Request::Op::RemoveRoute;
    q.route.family = r.family;
    q.route.dst = r.dst_len ? r.dst : "";
    q.route.dst_len = r.dst_len;
    q.route.gateway = r.gateway;
    q.route.prefsrc = r.prefsrc;
    q.route.oif = r.oif;
    q.route.table = r.table;
    q.route.metric = r.priority;
    q.route.scope = r.scope;
    q.route.protocol = r.protocol;
    q.route.type = r.type;
    q.what = fmt::format("checkpoint: {} route {}/{}{} table {}", add ? "restore" : "remove", r.dst, r.dst_len,
                         r.gateway.empty() ? "" : " via " + r.gateway, r.table);
    return q;
}

} // namespace

CheckpointState capture(const netlink::Snapshot &kernel)
{
    CheckpointState s;
    for (const auto &[index, l] : kernel.links)
        s.links[index] = {l.name, (l.flags & IFF_UP) != 0, l.mtu};
    for (const auto &[k, a] : kernel.addresses)
        if (covered(a))
            s.addresses.emplace(k, a);
    for (const auto &[k, r] : kernel.routes)
        if (covered(r))
            s.routes.emplace(k, r);
    return s;
}

std::vector<rtnl::Request> rollback_requests(const CheckpointState &then, const CheckpointState &now)
{
    std::vector<rtnl::Request> out;
    auto name = [&](int index) {
        auto it = now.links.find(index);
        return it == now.links.end() ? std::to_string(index) : it->second.name;
    };
    for (const auto &[index, was] : then.links) {
        auto it = now.links.find(index);
        if (it == now.links.end() || it->second == was)
            continue;
        rtnl::Request q;
        q.op = rtnl::Request::Op::SetLink;
        q.link.ifindex = index;
        if (it->second.up != was.up)
            q.link.up = was.up;
        if (it->second.mtu != was.mtu)
            q.link.mtu = was.mtu;
        if (!q.link.up && !q.link.mtu)
            continue;   // a rename is not rolled back
        q.what = fmt::format("checkpoint: restore {} (up {}, mtu {})", it->second.name, was.up, was.mtu);
        out.push_back(std::move(q));
    }
    for (const auto &[k, r] : now.routes)
        if (!then.routes.contains(k) && now.links.contains(r.oif))
            out.push_back(route_request(r, false));
    for (const auto &[k, a] : now.addresses)
        if (!then.addresses.contains(k))
            out.push_back(address_request(a, false, name(a.ifindex)));
    for (const auto &[k, a] : then.addresses)
        if (!now.addresses.contains(k) && now.links.contains(a.ifindex))
            out.push_back(address_request(a, true, name(a.ifindex)));
    for (const auto &[k, r] : then.routes)
        if (!now.routes.contains(k) && (r.oif == 0 || now.links.contains(r.oif)))
            out.push_back(route_request(r, true));
    return out;
}

Checkpoints::Checkpoints(sd_event *event, Manager &manager, rtnl::Client &client)
    : event_(event), manager_(manager), client_(client)
{
}

Checkpoints::~Checkpoints() = default;

Result<std::string> Checkpoints::create_checkpoint(uint32_t timeout_s)
{
    auto c = std::make_unique<Checkpoint>();
    c->state = capture(manager_.snapshot());
    for (const auto &p : participants_)
        if (p.capture)
            c->restores.push_back(p.capture());
    std::string path = fmt::format("/org/alopex/Link1/checkpoint/{}", next_id_++);
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    sd_event_source *s = nullptr;
    int r = sd_event_add_time(event_, &s, CLOCK_MONOTONIC, now + uint64_t{timeout_s} * 1000000, 10000, on_deadline,
                              this);
    if (r < 0)
        return fail(-r, "cannot arm the checkpoint timer");
    c->timer.reset(s);
    auto [it, _] = active_.emplace(path, std::move(c));
    sd_event_source_set_description(s, it->first.c_str());
    log::info("{}: created, rolled back in {} s unless confirmed ({} addresses, {} routes, {} links)", path,
              timeout_s, it->second->state.addresses.size(), it->second->state.routes.size(),
              it->second->state.links.size());
    return path;
}

void Checkpoints::restore(Checkpoint &c, const char *why, const std::string &path)
{
    auto reqs = rollback_requests(c.state, capture(manager_.snapshot()));
    size_t failed = 0;
    if (!reqs.empty()) {
        auto results = client_.run(reqs);
        if (!results) {
            log::err("{}: rollback failed: {}", path, results.error().to_string());
        } else {
            for (const auto &r : *results)
                if (!r) {
                    ++failed;
                    log::warning("{}: {}", path, r.error().message);
                }
        }
    }
    for (auto it = c.restores.rbegin(); it != c.restores.rend(); ++it)
        if (*it)
            (*it)();
    log::notice("{}: rolled back ({}): {} change(s), {} failed", path, why, reqs.size(), failed);
}

int Checkpoints::on_deadline(sd_event_source *s, uint64_t, void *userdata) noexcept
{
    auto self = static_cast<Checkpoints *>(userdata);
    try {
        const char *desc = nullptr;
        sd_event_source_get_description(s, &desc);
        std::string path = desc ? desc : "";
        auto it = self->active_.find(path);
        if (it == self->active_.end())
            return 0;
        auto c = std::move(it->second);
        self->active_.erase(it);
        self->restore(*c, "not confirmed in time", path);
    } catch (const std::exception &e) {
        log::err("checkpoint rollback failed: {}", e.what());
    }
    return 0;
}

Result<> Checkpoints::confirm(const std::string &path)
{
    auto it = active_.find(path);
    if (it == active_.end())
        return bus_fail(bus_error::NoSuchId, "checkpoint: no active checkpoint {}", path);
    active_.erase(it);
    log::info("{}: confirmed", path);
    return {};
}

Result<> Checkpoints::rollback(const std::string &path)
{
    auto it = active_.find(path);
    if (it == active_.end())
        return bus_fail(bus_error::NoSuchId, "checkpoint: no active checkpoint {}", path);
    auto c = std::move(it->second);
    active_.erase(it);
    restore(*c, "asked", path);
    return {};
}

} // namespace alopex::linkd
