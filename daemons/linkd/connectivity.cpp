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

std::set<int> usable_links(const netlink::Snapshot &s)
{
    std::set<int> usable;
    for (const auto &[ifindex, l] : s.links) {
        if (l.type == ARPHRD_LOOPBACK || (l.flags & IFF_LOOPBACK))
            continue;
        if ((l.flags & IFF_UP) && l.carrier)
            usable.insert(ifindex);
    }
    return usable;
}

bool is_global(const netlink::Address &a, const std::set<int> &usable)
{
    return usable.contains(a.ifindex) && a.scope == RT_SCOPE_UNIVERSE;
}

bool is_default(const netlink::Route &r, const std::set<int> &usable)
{
    return r.dst_len == 0 && r.type == RTN_UNICAST && r.table == RT_TABLE_MAIN &&
           (r.oif == 0 || usable.contains(r.oif));
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

} // namespace alopex::linkd
