// SPDX-License-Identifier: GPL-2.0-or-later
// IPv4 and ICMP as slirpd's stack reads and writes them (RFC 791, RFC 792, RFC 1071),
// pure. Parsing checks what a host must before it believes anything: version, header
// length, total length against the bytes there (bytes past it are link padding and cut
// off), the header checksum; for ICMP the checksum over the whole message. Nothing here
// reassembles fragments: is_fragment() lets the stack drop them (four libslirp CVEs
// lived in reassembly).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "alopex/error.hpp"
#include "inet_checksum.hpp"

namespace alopex::slirp::stack {

inline constexpr uint8_t proto_icmp = 1;
inline constexpr uint8_t proto_tcp = 6;
inline constexpr uint8_t proto_udp = 17;
inline constexpr size_t ipv4_min_header = 20;

// The Internet checksum (RFC 1071, inet_checksum.hpp).
using inet::checksum;
using inet::checksum_add;
using inet::checksum_fold;

struct Ipv4 {
    uint8_t tos = 0;
    uint16_t id = 0;
    bool dont_fragment = false, more_fragments = false;
    uint16_t fragment_offset = 0;   // in 8-octet units
    uint8_t ttl = 0, protocol = 0;
    uint32_t src = 0, dst = 0;      // host order
    std::span<const uint8_t> header;    // with options
    std::span<const uint8_t> payload;   // up to Total Length

    bool is_fragment() const noexcept { return more_fragments || fragment_offset != 0; }
};

Result<Ipv4> parse_ipv4(std::span<const uint8_t> packet);

// Appends an IPv4 packet without options (header checksum filled in). `payload` longer
// than 65535 - 20 octets is refused (nothing appended, false).
struct Ipv4Out {
    uint8_t tos = 0;
    uint16_t id = 0;
    bool dont_fragment = true;
    uint8_t ttl = 64, protocol = 0;
    uint32_t src = 0, dst = 0;
};
bool build_ipv4(std::vector<uint8_t> &out, const Ipv4Out &h, std::span<const uint8_t> payload);
// The same for a packet built in place: `out` from `start` holds 20 octets for the header,
// then the payload up to its end. The header is filled in; false (nothing changed) when the
// packet is longer than 65535 octets or the 20 octets are not there.
bool finish_ipv4(std::vector<uint8_t> &out, size_t start, const Ipv4Out &h);

struct Icmp {
    uint8_t type = 0, code = 0;
    std::span<const uint8_t> rest;   // after type, code and checksum (id and sequence for echo)
};
inline constexpr uint8_t icmp_echo_reply = 0;
inline constexpr uint8_t icmp_unreachable = 3;
inline constexpr uint8_t icmp_echo_request = 8;
inline constexpr uint8_t icmp_time_exceeded = 11;

Result<Icmp> parse_icmp(std::span<const uint8_t> message);
void build_icmp(std::vector<uint8_t> &out, uint8_t type, uint8_t code, std::span<const uint8_t> rest);

} // namespace alopex::slirp::stack
