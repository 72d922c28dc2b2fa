// SPDX-License-Identifier: GPL-2.0-or-later
// What unbound must hold for a blocklist, and the way from what it holds to that, the
// pure part. Every blocked name is a local zone of type always_nxdomain (it answers
// NXDOMAIN for the name and everything under it); a blocked name under another blocked
// name is left out (the parent covers it, and unbound 1.17.1 can answer wrongly for
// zones nested at run time); an allowed name equal to a blocked one unblocks it, and one
// under a blocked name is a transparent zone (answered normally: the more specific zone
// wins).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace alopex::dns {

enum class ZoneType : uint8_t { always_nxdomain, transparent };
std::string_view to_string(ZoneType t);

using Zones = std::unordered_map<std::string, ZoneType>;

// Names as blocklist_name() gives them (lower case, no trailing dot).
Zones desired_zones(const std::vector<std::string> &block, const std::vector<std::string> &allow);

// From `applied` to `desired`: the zones to remove (names, for local_zones_remove) and to
// add or change (lines "name type", for local_zones), each sorted.
struct ZoneDiff {
    std::vector<std::string> remove, add;
    bool empty() const noexcept { return remove.empty() && add.empty(); }
};
ZoneDiff diff_zones(const Zones &applied, const Zones &desired);

// The name of a local_zones line ("a.example always_nxdomain" -> "a.example").
std::string_view zone_line_name(std::string_view line);

} // namespace alopex::dns
