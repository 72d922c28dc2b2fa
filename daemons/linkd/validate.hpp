// SPDX-License-Identifier: GPL-2.0-or-later
// Meaning checks for the D-Bus boundary, after sd-bus checked the types. Pure: every
// function takes values and returns a value or an org.alopex.Error.InvalidArgument whose
// message starts with the argument's name ("address: ...").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "alopex/error.hpp"
#include "alopex/net.hpp"
#include "rtnl/rtnl.hpp"

namespace alopex::linkd {

// Addresses are parsed with alopex/net.hpp where they arrive: an interface address as
// net::Prefix::parse(text, arg, {.bare = true}) ("192.0.2.10/24"; without "/N" the host's
// prefix), a gateway as net::Address::parse(text, arg).

// A route destination: a network (no host bits), a bare address as a host route, or
// "default": 0.0.0.0/0 when `family` is AF_INET or unset, ::/0 for AF_INET6.
Result<net::Prefix> parse_network(std::string_view text, std::string_view arg, uint8_t family = 0);

Result<> check_ifindex(int32_t ifindex, std::string_view arg = "ifindex");
// A kernel interface name: 1..15 bytes, no '/', ':', whitespace or control characters.
Result<> check_ifname(std::string_view name, std::string_view arg);
// 68..65535 (the IPv4 minimum); the kernel still checks the device's own range.
Result<> check_mtu(uint32_t mtu, std::string_view arg = "mtu");
// 0..32 bytes of [A-Za-z0-9_.-]; "" clears the zone.
Result<> check_zone(std::string_view zone, std::string_view arg = "zone");
// "aa:bb:cc:dd:ee:ff", unicast and not all zeros.
Result<net::Mac> parse_mac(std::string_view text, std::string_view arg);
Result<rtnl::NetdevKind> parse_kind(std::string_view kind, std::string_view arg = "kind");
std::string_view to_string(rtnl::NetdevKind k);
// The bond modes the kernel knows, by name.
bool valid_bond_mode(std::string_view mode);

// AddRoute/RemoveRoute arguments: `to` a network or "default", `via` "" or an address of
// the same family, `ifindex` 0 (only with a gateway) or a link, `table` 0 (= main) or
// 1..2^32-1 other than 253 (default), 255 (local).
Result<rtnl::RouteSpec> route_spec(std::string_view to, std::string_view via, int32_t ifindex,
                                   uint32_t metric, uint32_t table);

} // namespace alopex::linkd
