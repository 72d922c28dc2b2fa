// SPDX-License-Identifier: GPL-2.0-or-later
// Value checks shared by the profile schema and linkd's D-Bus boundary: interface names,
// name globs, IP addresses and prefixes, MAC addresses, DNS domains, zone names. Pure;
// errors carry a message without a position (the caller adds file:line:col).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "alopex/error.hpp"
#include "rtnl.hpp"

namespace alopex::linkd::profile {

using Mac = rtnl::Mac;

// An address with its text normalized by inet_ntop ("2001:db8::10"), the same text the
// netlink parser produces, so it compares equal to kernel state.
struct Ip {
    uint8_t family = 0; // AF_INET or AF_INET6
    std::string address;
    auto operator<=>(const Ip &) const = default;
};

struct Prefix {
    uint8_t family = 0;
    std::string address; // normalized text
    uint8_t prefixlen = 0;
    auto operator<=>(const Prefix &) const = default;
};

// Kernel rules (dev_valid_name) plus printable ASCII only: 1..15 bytes, not "." or "..",
// no '/', ':', whitespace, control or non-ASCII bytes.
bool valid_ifname(std::string_view name);

// A [match] name: an interface name or an fnmatch(3) glob of one (*, ?, [set], [!set],
// \x). Same byte rules as valid_ifname but up to 64 bytes; brackets must close and a
// trailing backslash is refused.
Result<> check_name_glob(std::string_view glob);
bool is_glob(std::string_view s);

// IPv4 dotted quad or IPv6 text (no zone index). `family` 0 accepts either.
Result<Ip> parse_ip(std::string_view text, uint8_t family = 0);

// "address/len". `family` 0 accepts either. The length is 1..32 / 1..128 (0 too when
// `allow_zero`), decimal without sign or leading zeros. With `network` set, host bits
// must be zero ("to" of a route); otherwise they may be set (an interface address).
Result<Prefix> parse_prefix(std::string_view text, uint8_t family, bool network, bool allow_zero);

// "aa:bb:cc:dd:ee:ff", hex digits of either case.
Result<Mac> parse_mac(std::string_view text);
std::string format_mac(const Mac &mac); // lowercase, like the netlink parser
// A unicast, non-zero address that can be assigned to an interface.
bool assignable_mac(const Mac &mac);

// A search domain: labels of [A-Za-z0-9_-], 1..63 bytes, not starting or ending with
// '-', total 1..253 bytes; one trailing dot allowed (stripped by the caller).
bool valid_domain(std::string_view name);

// A firewall zone name: 1..64 bytes of [A-Za-z0-9_.-].
bool valid_zone(std::string_view name);

// For messages: "192.0.2.10/24".
std::string to_string(const Prefix &p);

} // namespace alopex::linkd::profile
