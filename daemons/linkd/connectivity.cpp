// SPDX-License-Identifier: GPL-2.0-or-later
#include "connectivity.hpp"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>

#include <set>

#include <fmt/format.h>

namespace alopex::linkd {

std::string_view to_string(Connectivity c)
{
    switch (c) {
    case Connectivity::None:
        return "none";
    case Connectivity::Local:
        return "local";
    case Connectivity::Limited:
        return "limited";
    case Connectivity::Full:
        return "full";
    }
    return "none";
}

namespace {

bool usable_link(const netlink::Link &l)
{
    if (l.type == ARPHRD_LOOPBACK || (l.flags & IFF_LOOPBACK))
        return false;
    return (l.flags & IFF_UP) && l.carrier;
}

std::set<int> usable_links(const netlink::Snapshot &s)
{
    std::set<int> usable;
    for (const auto &[ifindex, l] : s.links)
        if (usable_link(l))
            usable.insert(ifindex);
    return usable;
}

bool is_global(const netlink::Address &a, const std::set<int> &usable)
{
    return usable.contains(a.ifindex) && a.scope == RT_SCOPE_UNIVERSE;
}

bool default_shape(uint8_t dst_len, uint8_t type, uint32_t table)
{
    return dst_len == 0 && type == RTN_UNICAST && table == RT_TABLE_MAIN;
}

bool is_default(const netlink::Route &r, const std::set<int> &usable)
{
    return default_shape(r.dst_len, r.type, r.table) && (r.oif == 0 || usable.contains(r.oif));
}


} // namespace

Connectivity compute_connectivity(const netlink::Snapshot &s, std::optional<bool> probe)
{
    auto usable = usable_links(s);
    if (usable.empty())
        return Connectivity::None;
    bool global = false;
    for (const auto &[key, a] : s.addresses)
        if (is_global(a, usable))
            global = true;
    if (!global)
        return Connectivity::Local;
    bool default_route = false;
    for (const auto &[key, r] : s.routes)
        if (is_default(r, usable))
            default_route = true;
    if (default_route && probe.value_or(false))
        return Connectivity::Full;
    return Connectivity::Limited;
}

std::string probe_context(const netlink::Snapshot &s)
{
    if (compute_connectivity(s, true) != Connectivity::Full)
        return {};
    auto usable = usable_links(s);
    std::string out;
    for (const auto &[key, r] : s.routes)
        if (is_default(r, usable))
            out += fmt::format("route {} via {} dev {} metric {};", r.family, r.gateway, r.oif,
                               r.priority);
    for (const auto &[key, a] : s.addresses)
        if (is_global(a, usable))
            out += fmt::format("addr {} {}/{};", a.ifindex, a.address, a.prefixlen);
    return out;
}

void ConnectivityTracker::event(const netlink::Event &e)
{
    if (const auto *l = std::get_if<netlink::Link>(&e.object)) {
        dirty_.insert(l->ifindex);
    } else if (const auto *a = std::get_if<netlink::Address>(&e.object)) {
        dirty_.insert(a->ifindex);
    } else if (const auto *r = std::get_if<netlink::Route>(&e.object)) {
        if (!default_shape(r->dst_len, r->type, r->table))
            return;
        auto key = netlink::key_of(*r);
        if (e.change == netlink::Change::Removed) {
            if (defaults_.erase(key) && --defaults_by_oif_[r->oif] == 0)
                defaults_by_oif_.erase(r->oif);
        } else if (defaults_.insert(key).second) {
            ++defaults_by_oif_[r->oif];
        }
    }
}

void ConnectivityTracker::set(int ifindex, Entry e)
{
    auto it = links_.find(ifindex);
    Entry old = it == links_.end() ? Entry{} : it->second;
    usable_ -= old.usable;
    usable_global_ -= old.usable && old.global;
    usable_ += e.usable;
    usable_global_ += e.usable && e.global;
    if (!e.usable && !e.global) {
        if (it != links_.end())
            links_.erase(it);
    } else if (it != links_.end()) {
        it->second = e;
    } else {
        links_.emplace(ifindex, e);
    }
}

void ConnectivityTracker::update(const netlink::Snapshot &s)
{
    for (int ifindex : dirty_) {
        Entry e;
        if (auto l = s.links.find(ifindex); l != s.links.end())
            e.usable = usable_link(l->second);
        auto a = s.addresses.lower_bound(netlink::AddressKey{ifindex, 0, {}, 0});
        for (; a != s.addresses.end() && a->first.ifindex == ifindex && !e.global; ++a)
            e.global = a->second.scope == RT_SCOPE_UNIVERSE;
        set(ifindex, e);
        ++recomputed_;
    }
    dirty_.clear();
}

Connectivity ConnectivityTracker::value(std::optional<bool> probe) const
{
    if (usable_ == 0)
        return Connectivity::None;
    if (usable_global_ == 0)
        return Connectivity::Local;
    if (!probe.value_or(false))
        return Connectivity::Limited;
    for (const auto &[oif, n] : defaults_by_oif_) {
        if (oif == 0)
            return Connectivity::Full;
        if (auto it = links_.find(oif); it != links_.end() && it->second.usable)
            return Connectivity::Full;
    }
    return Connectivity::Limited;
}

} // namespace alopex::linkd
