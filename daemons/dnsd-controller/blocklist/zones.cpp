// SPDX-License-Identifier: GPL-2.0-or-later
#include "blocklist/zones.hpp"

#include <algorithm>
#include <unordered_set>

namespace alopex::dns {

namespace {

// Views into the caller's vectors: a million names are looked up without a copy each.
using NameSet = std::unordered_set<std::string_view>;

// Whether a proper parent of `name` is in `set`.
bool under_any(std::string_view name, const NameSet &set)
{
    for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1))
        if (set.contains(name.substr(dot + 1)))
            return true;
    return false;
}

} // namespace

std::string_view to_string(ZoneType t)
{
    return t == ZoneType::always_nxdomain ? "always_nxdomain" : "transparent";
}

Zones desired_zones(const std::vector<std::string> &block, const std::vector<std::string> &allow)
{
    NameSet allowed(allow.begin(), allow.end());
    NameSet blocked;
    blocked.reserve(block.size());
    for (const auto &b : block)
        if (!allowed.contains(b))
            blocked.insert(b);
    Zones out;
    out.reserve(blocked.size());
    for (std::string_view b : blocked)
        if (!under_any(b, blocked))
            out.emplace(std::string(b), ZoneType::always_nxdomain);
    for (std::string_view a : allowed)
        if (under_any(a, blocked))
            out.emplace(std::string(a), ZoneType::transparent);
    return out;
}

ZoneDiff diff_zones(const Zones &applied, const Zones &desired)
{
    ZoneDiff d;
    for (const auto &[name, type] : applied)
        if (!desired.contains(name))
            d.remove.push_back(name);
    for (const auto &[name, type] : desired)
        if (auto it = applied.find(name); it == applied.end() || it->second != type)
            d.add.push_back(name + " " + std::string(to_string(type)));
    std::sort(d.remove.begin(), d.remove.end());
    std::sort(d.add.begin(), d.add.end());
    return d;
}

std::string_view zone_line_name(std::string_view line) { return line.substr(0, line.find(' ')); }

} // namespace alopex::dns
