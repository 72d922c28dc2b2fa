// SPDX-License-Identifier: GPL-2.0-or-later
// Field checks for the request builders: names, addresses, prefixes, bond modes.
#include <cctype>
#include <string>

#include "internal.hpp"

namespace alopex::linkd::rtnl {

namespace {

constexpr std::string_view bond_modes[] = {"balance-rr", "active-backup", "balance-xor", "broadcast",
                                           "802.3ad",    "balance-tlb",   "balance-alb"};
static_assert(std::size(bond_modes) == 7);

} // namespace

std::optional<uint8_t> bond_mode(std::string_view name)
{
    for (size_t i = 0; i < std::size(bond_modes); ++i)
        if (bond_modes[i] == name)
            return static_cast<uint8_t>(i);
    if (name.size() == 1 && name[0] >= '0' && name[0] <= '6')
        return static_cast<uint8_t>(name[0] - '0');
    return std::nullopt;
}

Result<> check_ifname(std::string_view name, std::string_view field)
{
    using detail::field_fail;
    using net::quoted;
    if (name.empty())
        return field_fail(field, "empty interface name");
    if (name.size() > 15)
        return field_fail(field, "interface name {} longer than 15 bytes", quoted(name));
    if (name == "." || name == "..")
        return field_fail(field, "interface name {} not allowed", quoted(name));
    for (char ch : name) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '/' || c == ':' || std::isspace(c) || c < 0x20 || c == 0x7f)
            return field_fail(field, "interface name {} contains '/', ':', whitespace or a control character",
                              quoted(name));
    }
    return {};
}

namespace detail {

Result<> check_family(uint8_t family, std::string_view field)
{
    if (family != AF_INET && family != AF_INET6)
        return field_fail(field, "{} is neither AF_INET nor AF_INET6", family);
    return {};
}

Result<> check_address(uint8_t family, const net::Address &address, std::string_view field)
{
    if (address.empty())
        return field_fail(field, "no address");
    if (address.family() != family)
        return field_fail(field, "{} is not an {} address", address, family == AF_INET ? "IPv4" : "IPv6");
    return {};
}

Result<> check_prefix(uint8_t family, unsigned len, std::string_view field)
{
    unsigned max = family == AF_INET ? 32 : 128;
    if (len > max)
        return field_fail(field, "prefix length {} over {}", len, max);
    return {};
}

Result<> check_ifindex(int ifindex, std::string_view field)
{
    if (ifindex <= 0)
        return field_fail(field, "ifindex {} is not positive", ifindex);
    return {};
}

} // namespace detail
} // namespace alopex::linkd::rtnl
