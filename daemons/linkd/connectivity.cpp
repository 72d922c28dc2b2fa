// SPDX-License-Identifier: GPL-2.0-or-later
#include "connectivity.hpp"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>

#include <set>

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

Connectivity compute_connectivity(const netlink::Snapshot &s, std::optional<bool> probe)
{
    std::set<int> usable;
    for (const auto &[ifindex, l] : s.links) {
        if (l.type == ARPHRD_LOOPBACK || (l.flags & IFF_LOOPBACK))
            continue;
        if ((l.flags & IFF_UP) && l.carrier)
            usable.insert(ifindex);
    }
    if (usable.empty())
        return Connectivity::None;
    bool global = false;
    for (const auto &[key, a] : s.addresses)
        if (usable.contains(a.ifindex) && a.scope == RT_SCOPE_UNIVERSE)
            global = true;
    if (!global)
        return Connectivity::Local;
    bool default_route = false;
    for (const auto &[key, r] : s.routes)
        if (r.dst_len == 0 && r.type == RTN_UNICAST && r.table == RT_TABLE_MAIN &&
            (r.oif == 0 || usable.contains(r.oif)))
            default_route = true;
    if (default_route && probe.value_or(false))
        return Connectivity::Full;
    return Connectivity::Limited;
}

} // namespace alopex::linkd
