// SPDX-License-Identifier: GPL-2.0-or-later
#include "blocklist/zones.hpp"

#include <algorithm>
#include <unordered_set>

namespace alopex::dns {

namespace {

// Whether a proper parent of `name` is in `set`.
template <typename Set> bool under_any(std::string_view name, const Set &set)
{
    for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1))
        if (set.contains(std::string(name.substr(dot + 1))))
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
    std::unordered_set<std::string> blocked(block.begin(), block.end());
    std::unordered_set<std::string> allowed(allow.begin(), allow.end());
    for (const auto &a : allowed)
        blocked.erase(a);
    Zones out;
    out.reserve(blocked.size());
    for (const auto &b : blocked)
        if (!under_any(b, blocked))
            out.emplace(b, ZoneType::always_nxdomain);
    for (const auto &a : allowed)
        if (under_any(a, blocked))
            out.emplace(a, ZoneType::transparent);
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
