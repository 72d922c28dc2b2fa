// SPDX-License-Identifier: GPL-2.0-or-later
// IPv6 (RFC 8200) and ICMPv6 (RFC 4443) for slirpd's stack, pure: parsing with the whole
// extension-header chain walked and bounds-checked, and building packets. Nothing here
// is trusted: a Payload Length past the packet, a chain that runs past it or is longer
// than 8 headers, a Hop-by-Hop header anywhere but first, or options that say "discard"
// give an error; those for which RFC 8200 wants an ICMPv6 Parameter Problem say so
// (code and pointer).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/net.hpp"
#include "inet_checksum.hpp"

namespace alopex::slirp::stack {

using Address6 = std::array<uint8_t, 16>;
inline constexpr uint8_t proto_icmpv6 = 58;
inline constexpr uint8_t proto_none6 = 59;   // No Next Header
inline constexpr size_t ipv6_header = 40;
inline constexpr size_t ipv6_min_mtu = 1280;

struct Ipv6 {
    uint8_t traffic_class = 0, hop_limit = 0;
    Address6 src{}, dst{};
    uint8_t next = 0;                   // the upper-layer protocol after the extension headers
    size_t next_at = 6;                 // the offset of the field that names it (for Parameter Problem)
    bool fragment = false;              // a Fragment header: the upper layer is not here whole
    std::span<const uint8_t> packet;    // up to Payload Length
    std::span<const uint8_t> payload;   // the upper-layer header and data
};

// Why a packet cannot be taken, and the Parameter Problem (RFC 4443 §3.4) to answer
// with, if any: code 0 (erroneous header field), 1 (unrecognized Next Header), 2
// (unrecognized option), and the offset it points at.
struct Ipv6Problem {
    std::optional<uint8_t> code;
    uint32_t pointer = 0;
    bool even_to_multicast = false;   // an option of type 10xxxxxx: answered for multicast too
};

Result<Ipv6> parse_ipv6(std::span<const uint8_t> packet, Ipv6Problem *problem = nullptr);

// The ICMPv6 type of a packet that parse_ipv6() refused, when its chain (walked only
// as far as it stays in bounds, options not looked at) ends in ICMPv6: an error is never
// answered with one.
std::optional<uint8_t> icmp6_type_of(std::span<const uint8_t> packet);

// The partial checksum of the IPv6 pseudo-header (RFC 8200 §8.1).
uint32_t pseudo6_sum(const Address6 &src, const Address6 &dst, uint8_t next, size_t length);

// The 40 octets of an IPv6 header at `h`, for `length` octets of payload.
void put_ipv6_header(uint8_t *h, const Address6 &src, const Address6 &dst, uint8_t next, uint8_t hop_limit,
                     size_t length);
// Appends an IPv6 header and `payload` (no extension headers).
void build_ipv6(std::vector<uint8_t> &out, const Address6 &src, const Address6 &dst, uint8_t next, uint8_t hop_limit,
                std::span<const uint8_t> payload);

// ICMPv6 (RFC 4443): types, a message checked (its checksum over the pseudo-header),
// and one built (checksum filled in).
inline constexpr uint8_t icmp6_unreachable = 1, icmp6_packet_too_big = 2, icmp6_time_exceeded = 3,
                         icmp6_parameter_problem = 4, icmp6_echo_request = 128, icmp6_echo_reply = 129,
                         icmp6_router_solicitation = 133, icmp6_neighbor_solicitation = 135;
struct Icmp6 {
    uint8_t type = 0, code = 0;
    std::span<const uint8_t> rest;   // after type, code and checksum
};
Result<Icmp6> parse_icmp6(const Ipv6 &ip);
void build_icmp6(std::vector<uint8_t> &out, const Address6 &src, const Address6 &dst, uint8_t type, uint8_t code,
                 std::span<const uint8_t> rest);

inline bool is_multicast(const Address6 &a) { return a[0] == 0xFF; }
inline net::Address to_address(const Address6 &a)
{
    return *net::Address::from_bytes(AF_INET6, std::span<const uint8_t>(a));
}
// The 16 octets of an IPv6 address (zeros for another).
inline Address6 to_address6(const net::Address &a)
{
    Address6 r{};
    if (a.is_v6())
        std::copy_n(a.data(), 16, r.begin());
    return r;
}
inline bool is_unspecified(const Address6 &a) { return a == Address6{}; }

} // namespace alopex::slirp::stack
