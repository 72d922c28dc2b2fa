// SPDX-License-Identifier: GPL-2.0-or-later
#include "match.hpp"

#include <fnmatch.h>

namespace alopex::linkd::profile {

bool matches(const Match &m, const netlink::Link &link)
{
    if (m.name.empty() && !m.mac)
        return false; // refused by the parser; never match everything by accident
    if (!m.name.empty() && fnmatch(m.name.c_str(), link.name.c_str(), 0) != 0)
        return false;
    if (m.mac) {
        if (link.kind == "vlan" || link.kind == "bridge" || link.kind == "bond")
            return false;
        if (link.mac != *m.mac)
            return false;
    }
    return true;
}

const LinkProfile *match(const Profiles &p, const netlink::Link &link)
{
    for (const auto &lp : p.links)
        if (matches(lp.match, link))
            return &lp;
    return nullptr;
}

const NetdevProfile *netdev_named(const Profiles &p, const std::string &name)
{
    for (const auto &nd : p.netdevs)
        if (nd.name == name)
            return &nd;
    return nullptr;
}

std::optional<Matched> settings_for(const Profiles &p, const netlink::Link &link)
{
    if (const auto *nd = netdev_named(p, link.name))
        return Matched{&nd->settings, &nd->file, nd};
    if (const auto *lp = match(p, link))
        return Matched{&lp->settings, &lp->file, nullptr};
    return std::nullopt;
}

} // namespace alopex::linkd::profile
