// SPDX-License-Identifier: GPL-2.0-or-later
// Field checks for the request builders: names, addresses, prefixes, bond modes.
#include <arpa/inet.h>

#include <cctype>
#include <string>

#include <fmt/ranges.h>

#include "internal.hpp"

namespace alopex::linkd::rtnl {

namespace {

constexpr std::string_view bond_modes[] = {"balance-rr", "active-backup", "balance-xor", "broadcast",
                                           "802.3ad",    "balance-tlb",   "balance-alb"};
static_assert(std::size(bond_modes) == 7);

// Text for an error message: printable ASCII kept, anything else escaped, bounded.
std::string quoted(std::string_view s)
{
    std::string out = "'";
    for (size_t i = 0; i < s.size() && i < 64; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
            out += static_cast<char>(c);
        else
            out += fmt::format("\\x{:02x}", c);
    }
    if (s.size() > 64)
        out += "...";
    return out + "'";
}

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

Result<Ip> parse_ip(uint8_t family, std::string_view text, std::string_view field)
{
    if (auto r = check_family(family); !r)
        return std::unexpected(r.error());
    const char *fam = family == AF_INET ? "IPv4" : "IPv6";
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN || text.find('\0') != text.npos)
        return field_fail(field, "{} is not an {} address", quoted(text), fam);
    Ip ip;
    ip.family = family;
    std::string z(text);
    if (inet_pton(family, z.c_str(), ip.bytes.data()) != 1)
        return field_fail(field, "{} is not an {} address", quoted(text), fam);
    return ip;
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

Result<> check_mac(const Mac &mac, std::string_view field)
{
    if (mac[0] & 1)
        return field_fail(field, "{:02x} is a multicast address", fmt::join(mac, ":"));
    if (mac == Mac{})
        return field_fail(field, "00:00:00:00:00:00 is not an address");
    return {};
}

Ip broadcast_of(const Ip &addr, unsigned prefixlen)
{
    Ip b = addr;
    for (unsigned bit = prefixlen; bit < addr.len() * 8; ++bit)
        b.bytes[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
    return b;
}

bool host_bits_set(const Ip &addr, unsigned prefixlen)
{
    for (unsigned bit = prefixlen; bit < addr.len() * 8; ++bit)
        if (addr.bytes[bit / 8] & (0x80u >> (bit % 8)))
            return true;
    return false;
}

} // namespace detail
} // namespace alopex::linkd::rtnl
