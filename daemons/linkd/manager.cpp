// SPDX-License-Identifier: GPL-2.0-or-later
// Following the kernel: monitor events folded into LinkStates, the state generation,
// connectivity, and the setters the profile and DHCP parts call.
#include "manager.hpp"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>

#include <utility>

#include <fmt/format.h>

#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "alopex/log.hpp"

namespace alopex::linkd {

namespace l1 = ipc::link1;
namespace mp = ipc::link1::manager::property;

Manager::Manager(sd_event *event, Executor executor, StatsReader stats)
    : event_(event), executor_(std::move(executor)), stats_(std::move(stats))
{
}

Manager::~Manager() = default;

Result<std::unique_ptr<Manager>> Manager::create(sd_event *event, sd_bus *bus,
                                                 ManagerOptions options, Executor executor,
                                                 StatsReader stats)
{
    std::unique_ptr<Manager> m(new Manager(event, std::move(executor), std::move(stats)));
    if (bus) {
        m->service_ = std::make_unique<bus::Service>(bus, event);
        if (auto r = m->attach_bus(); !r)
            return std::unexpected(r.error());
    }
    if (options.start_monitor) {
        Manager *self = m.get();
        options.monitor.route_filter = [self](const netlink::RouteHeader &r) {
            return self->wanted_route(r);
        };
        netlink::MonitorCallbacks cb;
        cb.on_event = [self](const netlink::Event &e) { self->handle(e); };
        cb.on_synced = [self](bool initial) { self->handle_synced(initial); };
        // Links and addresses first: linkd serves them (and says READY) while a routing
        // daemon's full table is still being dumped (monitor.hpp).
        options.monitor.routes_after_links = true;
        cb.on_links_synced = [self] { self->handle_links_known(); };
        cb.on_error = [](const Error &e) {
            log::warning("rtnetlink monitor: {}", e.to_string());
        };
        auto mon = netlink::Monitor::create(event, std::move(options.monitor), std::move(cb));
        if (!mon)
            return std::unexpected(mon.error());
        m->monitor_ = std::move(*mon);
    }
    return m;
}

// The routes of the host's own configuration in the tables linkd manages: the kernel's
// (prefix and local routes), boot (`ip route add`, ifupdown), static (linkd's profiles
// and AddRoute, networkd), ra, dhcp (linkd's client and others); and every default
// route, whoever installed it (connectivity). A routing daemon's table (FRR, BIRD:
// protocols bgp, ospf, zebra, bird, ...) is not cached route by route: linkd neither
// owns, checkpoints nor plans around those routes, and a full BGP table would be
// 600,000 of them.
bool Manager::wanted_route(const netlink::RouteHeader &r) const
{
    if (!tables_.contains(r.table))
        return false;
    switch (r.protocol) {
    case RTPROT_KERNEL:
    case RTPROT_BOOT:
    case RTPROT_STATIC:
    case RTPROT_RA:
    case RTPROT_DHCP:
        return true;
    default:
        return r.dst_len == 0;
    }
}

void Manager::manage_table(uint32_t table)
{
    if (tables_.insert(table).second && monitor_) {
        resync_reason_ = fmt::format("to follow routing table {}", table);
        monitor_->request_resync();   // pick up the routes the filter dropped so far
    }
}

const LinkState *Manager::link(int ifindex) const
{
    auto it = links_.find(ifindex);
    return it == links_.end() ? nullptr : it->second.get();
}

const LinkState *Manager::link_by_name(std::string_view name) const
{
    for (const auto &[i, l] : links_)
        if (l->kernel().name == name)
            return l.get();
    return nullptr;
}

std::string Manager::link_path(int ifindex)
{
    return fmt::format("{}/{}", l1::link_prefix, ifindex);
}

Origin Manager::origin_of(const netlink::Address &a) const
{
    if (auto it = owned_.find(netlink::key_of(a)); it != owned_.end())
        return it->second;
    auto l = snapshot().links.find(a.ifindex);
    bool loopback = l != snapshot().links.end() &&
                    (l->second.type == ARPHRD_LOOPBACK || (l->second.flags & IFF_LOOPBACK));
    return default_origin(a, loopback);
}

void Manager::refresh_addresses(int ifindex)
{
    auto it = links_.find(ifindex);
    if (it == links_.end())
        return;
    std::vector<AddressState> list;
    auto lo = snapshot().addresses.lower_bound(netlink::AddressKey{ifindex, 0, {}, 0});
    for (; lo != snapshot().addresses.end() && lo->first.ifindex == ifindex; ++lo)
        list.push_back(AddressState{lo->second, origin_of(lo->second)});
    link_properties_changed(ifindex, it->second->set_addresses(std::move(list)));
}

void Manager::link_properties_changed(int ifindex, const Changed &props)
{
    if (props.empty() || !service_)
        return;
    std::string path = link_path(ifindex);
    for (const auto *p : props)
        service_->changed(path, ipc::link1::link::spec, *p);
}

void Manager::manager_property_changed(const bus::PropertySpec &prop)
{
    if (service_)
        service_->changed(l1::path, ipc::link1::manager::spec, prop);
}

void Manager::bump()
{
    ++generation_;
    manager_property_changed(mp::StateGeneration);
}

void Manager::schedule_connectivity()
{
    if (!synced_)
        return;   // the first dump is folded in at once when it is complete
    if (!event_) {
        recompute_connectivity();
        return;
    }
    if (!connectivity_defer_) {
        sd_event_source *s = nullptr;
        if (sd_event_add_defer(event_, &s, &Manager::on_connectivity, this) < 0) {
            recompute_connectivity();
            return;
        }
        connectivity_defer_.reset(s);
    }
    sd_event_source_set_enabled(connectivity_defer_.get(), SD_EVENT_ONESHOT);
}

int Manager::on_connectivity(sd_event_source *, void *userdata) noexcept
{
    try {
        static_cast<Manager *>(userdata)->recompute_connectivity();
    } catch (const std::exception &e) {
        log::err("connectivity: {}", e.what());
    }
    return 0;
}

void Manager::recompute_connectivity()
{
    tracker_.update(snapshot());
    auto c = tracker_.value(probe_);
    if (c == connectivity_)
        return;
    log::info({{"ALOPEX_CONNECTIVITY", std::string(to_string(c))}}, "connectivity {} -> {}",
              to_string(connectivity_), to_string(c));
    connectivity_ = c;
    manager_property_changed(mp::Connectivity);
}

void Manager::handle(const netlink::Event &e)
{
    if (!monitor_)
        netlink::fold(fed_, e);
    tracker_.event(e);
    bool removed = e.change == netlink::Change::Removed;
    if (const auto *l = std::get_if<netlink::Link>(&e.object)) {
        auto it = links_.find(l->ifindex);
        if (removed) {
            if (it != links_.end()) {
                std::string name = it->second->kernel().name;
                if (service_ && known_)
                    service_->interfaces_removed(link_path(l->ifindex), ipc::link1::link::spec);
                links_.erase(it);
                learned_dns_.erase(l->ifindex);
                runtime_dns_.erase(l->ifindex);
                manager_property_changed(mp::Links);
                log::debug({{"ALOPEX_LINK", name}}, "link {} ({}) gone", name, l->ifindex);
                hooks.link_removed(l->ifindex, name);
            }
        } else if (it == links_.end()) {
            auto [nit, _] = links_.emplace(l->ifindex, std::make_unique<LinkState>(*l));
            refresh_addresses(l->ifindex);
            // Not during the initial dump: nobody can know the objects before READY, and a
            // thousand signals would only slow the start down.
            if (service_ && known_)
                service_->interfaces_added(link_path(l->ifindex), ipc::link1::link::spec);
            manager_property_changed(mp::Links);
            log::debug({{"ALOPEX_LINK", l->name}}, "link {} ({}) appeared", l->name, l->ifindex);
            hooks.link_added(*nit->second);
        } else {
            netlink::Link previous = it->second->kernel();
            link_properties_changed(l->ifindex, it->second->set_kernel(*l));
            hooks.link_changed(*it->second, previous);
        }
    } else if (const auto *a = std::get_if<netlink::Address>(&e.object)) {
        if (removed)
            owned_.erase(netlink::key_of(*a));
        refresh_addresses(a->ifindex);
    }
    // Routes are not published one by one: they count for connectivity.
    bump();
    schedule_connectivity();
    hooks.state_changed();
}

void Manager::handle_synced(bool initial)
{
    if (!initial) {
        // A resync linkd did not ask for is the monitor's answer to an overrun (ENOBUFS).
        log::info("resynced with the kernel {}", resync_reason_.empty() ? "after an overrun" : resync_reason_);
        resync_reason_.clear();
        return;
    }
    if (!known_)
        handle_links_known();
    synced_ = true;
    recompute_connectivity();   // once for the whole dump
    log::info("initial dump in: {} links, {} addresses, {} routes ({} routes of routing daemons not followed)",
              snapshot().links.size(), snapshot().addresses.size(), snapshot().routes.size(),
              monitor_ ? monitor_->routes_not_kept() : 0);
    hooks.synced();
}

void Manager::handle_links_known()
{
    if (known_)
        return;
    known_ = true;
    log::debug("links and addresses in: {} links, {} addresses; the routes follow", snapshot().links.size(),
               snapshot().addresses.size());
    hooks.links_known();
}

void Manager::end_startup()
{
    if (!starting_)
        return;
    starting_ = false;
    manager_property_changed(mp::Startup);
    for (auto &then : std::exchange(started_waiters_, {}))
        then();
}

void Manager::when_started(std::function<void()> then)
{
    if (starting_)
        started_waiters_.push_back(std::move(then));
    else
        then();
}

void Manager::note_owned_address(int ifindex, uint8_t family, const net::Address &address,
                                 uint8_t prefixlen, Origin origin)
{
    owned_[netlink::AddressKey{ifindex, family, address, prefixlen}] = origin;
    refresh_addresses(ifindex);
}

void Manager::forget_owned_address(int ifindex, uint8_t family, const net::Address &address,
                                   uint8_t prefixlen)
{
    owned_.erase(netlink::AddressKey{ifindex, family, address, prefixlen});
    refresh_addresses(ifindex);
}

bool Manager::set_zone(int ifindex, std::string zone)
{
    auto it = links_.find(ifindex);
    if (it == links_.end())
        return false;
    auto changed = it->second->set_zone(zone);
    if (changed.empty())
        return true;
    log::info({{"ALOPEX_LINK", it->second->kernel().name}, {"ALOPEX_ZONE", zone}},
              "link {} now in zone '{}'", it->second->kernel().name, zone);
    link_properties_changed(ifindex, changed);
    bump();
    hooks.zone_changed(ifindex, zone);
    return true;
}

bool Manager::set_managed(int ifindex, bool managed)
{
    auto it = links_.find(ifindex);
    if (it == links_.end())
        return false;
    auto changed = it->second->set_managed(managed);
    if (!changed.empty()) {
        link_properties_changed(ifindex, changed);
        bump();
    }
    return true;
}

bool Manager::set_dns(int ifindex, std::vector<std::string> servers,
                      std::vector<std::string> domains)
{
    if (!links_.contains(ifindex))
        return false;
    learned_dns_[ifindex] = Dns{std::move(servers), std::move(domains)};
    publish_dns(ifindex);
    return true;
}

bool Manager::set_dhcp_lease(int ifindex, std::optional<DhcpLease> lease)
{
    auto it = links_.find(ifindex);
    if (it == links_.end())
        return false;
    auto changed = it->second->set_dhcp(std::move(lease));
    if (!changed.empty()) {
        link_properties_changed(ifindex, changed);
        bump();
    }
    return true;
}

void Manager::set_probe_result(std::optional<bool> ok)
{
    probe_ = ok;
    recompute_connectivity();
}

Result<netlink::LinkStats> Manager::read_stats(int ifindex)
{
    if (stats_)
        return stats_(ifindex);
    if (const auto *l = link(ifindex))
        return l->kernel().stats;
    return failf(ENODEV, "no link {}", ifindex);
}

} // namespace alopex::linkd
