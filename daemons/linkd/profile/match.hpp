// SPDX-License-Identifier: GPL-2.0-or-later
// Which profile configures a link.
//
// - A device a netdev profile creates is configured by that netdev file's own settings,
//   and [match] profiles never apply to it (its file is its profile). A veth's peer is
//   not covered by the netdev file and is matched like any other link.
// - Otherwise the first link profile in file-name order whose [match] fits wins: `name`
//   is an fnmatch(3) glob (flags 0) on the interface name, `mac` compares the link's
//   current MAC; a profile with both needs both.
// - Links of kind "vlan", "bridge" and "bond" take their MAC from a port or parent, so
//   they never match by `mac` (only by `name`); otherwise a MAC profile for a NIC would
//   also grab every VLAN on it.
#pragma once

#include <optional>
#include <string>

#include "alopex/netlink/types.hpp"
#include "profile.hpp"

namespace alopex::linkd::profile {

bool matches(const Match &m, const netlink::Link &link);

// The first link profile (file-name order) that matches, ignoring netdev profiles.
const LinkProfile *match(const Profiles &p, const netlink::Link &link);

// The netdev profile that creates a device named `name` (not its veth peer), if any.
const NetdevProfile *netdev_named(const Profiles &p, const std::string &name);

// The settings that apply to `link` and the file they come from, per the rules above.
struct Matched {
    const Settings *settings = nullptr;
    const std::string *file = nullptr;
    const NetdevProfile *netdev = nullptr; // set when the settings come from a netdev file
};
std::optional<Matched> settings_for(const Profiles &p, const netlink::Link &link);

} // namespace alopex::linkd::profile
