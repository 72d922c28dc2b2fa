// SPDX-License-Identifier: GPL-2.0-or-later
#include "dhcp_links.hpp"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <time.h>

#include <fmt/format.h>

#include "alopex/ipc/link1.hpp"
#include "alopex/log.hpp"

namespace alopex::linkd {
namespace {

constexpr uint32_t dhcp_route_metric = 1024;   // as systemd-networkd
constexpr uint8_t rtprot_dhcp = RTPROT_DHCP;

bool usable(const netlink::Link &l) { return (l.flags & IFF_UP) && l.carrier; }

uint64_t realtime_usec()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

} // namespace

DhcpLinks::DhcpLinks(sd_event *event, Manager &manager, ChangeQueue &queue, std::filesystem::path state_dir)
    : event_(event), manager_(manager), queue_(queue), state_dir_(std::move(state_dir))
{
}

DhcpLinks::~DhcpLinks() = default;

std::vector<rtnl::Request> DhcpLinks::requests(int ifindex, const dhcp::Lease &lease, bool add) const
{
    std::vector<rtnl::Request> out;
    auto addr = net::Address::v4(lease.address);
    const std::string &name = entries_.at(ifindex).name;
    rtnl::Request a;
    a.op = add ? rtnl::Request::Op::AddAddress : rtnl::Request::Op::RemoveAddress;
    a.address.ifindex = ifindex;
    a.address.family = AF_INET;
    a.address.address = addr;
    a.address.prefixlen = lease.prefixlen;
    a.address.replace = add;
    if (add && !lease.infinite()) {
        a.address.valid_lft = lease.lease_s;
        a.address.preferred_lft = lease.lease_s;
    }
    a.what = fmt::format("DHCP address {}/{} on {}", addr, lease.prefixlen, name);
    if (add)
        out.push_back(a);
    if (add && lease.mtu) {
        rtnl::Request m;
        m.op = rtnl::Request::Op::SetLink;
        m.link.ifindex = ifindex;
        m.link.mtu = *lease.mtu;
        m.what = fmt::format("DHCP MTU {} on {}", *lease.mtu, name);
        out.push_back(m);
    }
    for (const auto &r : lease.effective_routes()) {
        rtnl::Request q;
        q.op = add ? rtnl::Request::Op::ReplaceRoute : rtnl::Request::Op::RemoveRoute;
        q.route.family = AF_INET;
        q.route.dst = net::Address::v4(r.dest);
        q.route.dst_len = r.prefixlen;
        q.route.gateway = r.gateway ? net::Address::v4(r.gateway) : net::Address();
        q.route.prefsrc = addr;
        q.route.oif = ifindex;
        q.route.metric = dhcp_route_metric;
        q.route.protocol = rtprot_dhcp;
        q.route.scope = r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
        q.what = fmt::format("DHCP route {}/{}{} on {}", q.route.dst, r.prefixlen,
                             r.gateway ? fmt::format(" via {}", q.route.gateway) : "", name);
        out.push_back(q);
    }
    if (!add)
        out.push_back(a);   // routes first: they go with the address anyway
    return out;
}

void DhcpLinks::update(const std::vector<profile::LinkIntent> &intents)
{
    std::map<int, const profile::LinkIntent *> want;
    for (const auto &i : intents)
        if (i.dhcp4)
            want[i.ifindex] = &i;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (!want.contains(it->first)) {
            stop(it->first, it->second);
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto &[ifindex, intent] : want) {
        auto [it, fresh] = entries_.try_emplace(ifindex);
        Entry &e = it->second;
        e.name = intent->name;
        e.intent = *intent;
        const LinkState *l = manager_.link(ifindex);
        if (fresh || (!e.runner && !e.released))
            if (l && usable(l->kernel()))
                start(ifindex, e);
    }
}

void DhcpLinks::start(int ifindex, Entry &e)
{
    dhcp::Runner::Config cfg;
    cfg.ifindex = ifindex;
    std::error_code ec;
    std::filesystem::create_directories(state_dir_, ec);
    cfg.lease_file = state_dir_ / fmt::format("dhcp4-{}.lease", e.name);
    dhcp::Runner::Callbacks cb;
    cb.on_bound = [this, ifindex](const dhcp::Lease &lease, bool) { bound(ifindex, lease); };
    cb.on_lost = [this, ifindex](const dhcp::Lease &) { lost(ifindex); };
    cb.on_state = [this, ifindex](dhcp::State, dhcp::State to) {
        auto it = entries_.find(ifindex);
        if (it == entries_.end())
            return;
        it->second.state = std::string(dhcp::to_string(to));
        publish(ifindex);
    };
    auto r = dhcp::Runner::create(event_, std::move(cfg), std::move(cb));
    if (!r) {
        log::err({{"ALOPEX_LINK", e.name}}, "DHCPv4 on {}: {}", e.name, r.error().to_string());
        return;
    }
    e.runner = std::move(*r);
    e.released = false;
    log::info({{"ALOPEX_LINK", e.name}}, "DHCPv4 client started on {}", e.name);
    e.runner->start();
}

void DhcpLinks::stop(int ifindex, Entry &e)
{
    if (e.applied)
        lost(ifindex);
    e.runner.reset();
    e.state.clear();
    manager_.set_dhcp_lease(ifindex, std::nullopt);
}

void DhcpLinks::bound(int ifindex, const dhcp::Lease &lease)
{
    auto it = entries_.find(ifindex);
    if (it == entries_.end())
        return;
    Entry &e = it->second;
    const auto &current = e.applying ? e.applying : e.applied;
    if (current && (current->address != lease.address || current->prefixlen != lease.prefixlen))
        lost(ifindex);
    manager_.note_owned_address(ifindex, AF_INET, net::Address::v4(lease.address), lease.prefixlen, Origin::Dhcp);
    // In the kernel once the queue's turn comes and the kernel has answered; until then the
    // link's DHCP properties stay as they were (publish() holds them).
    uint64_t serial = next_serial_++;
    e.serial = serial;
    e.applying = lease;
    queue_.enqueue([this, ifindex, serial, name = e.name,
                    reqs = requests(ifindex, lease, true)](ChangeQueue::Finish finish) mutable {
        if (!in_flight(ifindex, serial)) {
            finish();   // lost, stopped or replaced before its turn: nothing to put in
            return;
        }
        queue_.submit(std::move(reqs), [this, ifindex, serial, name, finish](Result<std::vector<Result<>>> r) {
            applied(ifindex, serial, name, r);
            finish();
        });
    });
}

bool DhcpLinks::in_flight(int ifindex, uint64_t serial) const
{
    auto it = entries_.find(ifindex);
    return it != entries_.end() && it->second.serial == serial && it->second.applying;
}

void DhcpLinks::applied(int ifindex, uint64_t serial, const std::string &name,
                        const Result<std::vector<Result<>>> &results)
{
    if (!results) {
        log::err({{"ALOPEX_LINK", name}}, "DHCPv4 on {}: {}", name, results.error().to_string());
    } else {
        for (const auto &r : *results)
            if (!r)
                log::err({{"ALOPEX_LINK", name}}, "DHCPv4 on {}: {}", name, r.error().message);
    }
    // Lost meanwhile: lost() has queued its removal behind this, and nothing is published.
    if (!in_flight(ifindex, serial))
        return;
    Entry &e = entries_.at(ifindex);
    e.applied = std::move(e.applying);
    e.applying.reset();
    const dhcp::Lease &lease = *e.applied;
    if (e.intent.dns_servers.empty() && e.intent.dns_domains.empty()) {
        std::vector<std::string> servers, domains;
        for (auto s : lease.dns)
            servers.push_back(dhcp::ip_to_string(s));
        if (!lease.domain.empty())
            domains.push_back(lease.domain);
        manager_.set_dns(ifindex, std::move(servers), std::move(domains));
    }
    log::info({{"ALOPEX_LINK", e.name}}, "DHCPv4 lease on {}: {}/{} from {} for {}s", e.name,
              dhcp::ip_to_string(lease.address), lease.prefixlen, dhcp::ip_to_string(lease.server_id), lease.lease_s);
    publish(ifindex);
}

void DhcpLinks::lost(int ifindex)
{
    auto it = entries_.find(ifindex);
    if (it == entries_.end() || !(it->second.applied || it->second.applying))
        return;
    Entry &e = it->second;
    // The lease in the kernel or on its way there (queued or in flight: its removal is
    // queued behind it, and it is not published as applied).
    dhcp::Lease lease = e.applying ? *e.applying : *e.applied;
    e.applied.reset();
    e.applying.reset();
    e.serial = 0;
    // The address (and with it its routes) may be gone already: errors are expected.
    queue_.enqueue([this, reqs = requests(ifindex, lease, false)](ChangeQueue::Finish finish) mutable {
        queue_.submit(std::move(reqs), [finish](Result<std::vector<Result<>>>) { finish(); });
    });
    manager_.forget_owned_address(ifindex, AF_INET, net::Address::v4(lease.address), lease.prefixlen);
    if (e.intent.dns_servers.empty() && e.intent.dns_domains.empty())
        manager_.set_dns(ifindex, {}, {});
    log::info({{"ALOPEX_LINK", e.name}}, "DHCPv4 lease on {} gone: {}/{} removed", e.name,
              dhcp::ip_to_string(lease.address), lease.prefixlen);
    publish(ifindex);
}

void DhcpLinks::publish(int ifindex)
{
    auto it = entries_.find(ifindex);
    if (it == entries_.end())
        return;
    const Entry &e = it->second;
    if (e.applying)
        return;   // "bound" only once the lease is in the kernel: applied() publishes
    DhcpLease p;
    p.state = e.state;
    if (e.applied && e.runner) {
        const dhcp::Lease &l = *e.applied;
        p.address = fmt::format("{}/{}", dhcp::ip_to_string(l.address), l.prefixlen);
        p.server = dhcp::ip_to_string(l.server_id);
        p.lease_time = l.lease_s;
        p.t1 = l.t1_s;
        p.t2 = l.t2_s;
        if (!l.infinite()) {
            int64_t left = l.expiry_at() - e.runner->now();
            p.expiry_usec = realtime_usec() + static_cast<uint64_t>(std::max<int64_t>(left, 0));
        }
    }
    manager_.set_dhcp_lease(ifindex, p);
}

void DhcpLinks::link_changed(const LinkState &l, const netlink::Link &previous)
{
    auto it = entries_.find(l.ifindex());
    if (it == entries_.end())
        return;
    Entry &e = it->second;
    bool now = usable(l.kernel()), before = usable(previous);
    if (before && !now && e.runner) {
        e.runner->link_down();
    } else if (!before && now && !e.released) {
        if (e.runner)
            e.runner->start();
        else
            start(l.ifindex(), e);
    }
}

void DhcpLinks::link_removed(int ifindex)
{
    auto it = entries_.find(ifindex);
    if (it == entries_.end())
        return;
    it->second.applied.reset();   // the kernel took the address with the link
    it->second.applying.reset();   // and an answer still to come finds no entry
    it->second.runner.reset();
    entries_.erase(it);
}

Result<> DhcpLinks::renew(int ifindex)
{
    auto it = entries_.find(ifindex);
    if (it == entries_.end())
        return std::unexpected(Error{EINVAL, fmt::format("ifindex: no DHCPv4 client is configured on link {}", ifindex),
                                     bus_error::InvalidArgument});
    Entry &e = it->second;
    if (!e.runner) {
        start(ifindex, e);
        if (!e.runner)
            return fail(EIO, "ifindex: the DHCPv4 client could not start");
        return {};
    }
    e.runner->renew();
    return {};
}

Result<> DhcpLinks::release(int ifindex)
{
    auto it = entries_.find(ifindex);
    if (it == entries_.end() || !it->second.runner)
        return std::unexpected(Error{EINVAL, fmt::format("ifindex: no DHCPv4 client runs on link {}", ifindex),
                                     bus_error::InvalidArgument});
    Entry &e = it->second;
    e.runner->release();
    lost(ifindex);
    e.runner.reset();
    e.released = true;
    e.state = "released";
    manager_.set_dhcp_lease(ifindex, DhcpLease{e.state, "", "", 0, 0, 0, 0});
    return {};
}

} // namespace alopex::linkd
