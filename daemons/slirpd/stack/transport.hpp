// SPDX-License-Identifier: GPL-2.0-or-later
// UDP (RFC 768) and TCP (RFC 9293) headers as slirpd's stack reads and writes them,
// pure. The checksums cover the IPv4 pseudo-header and are always verified (a UDP
// checksum of 0 means none was sent). Lengths are never trusted: a UDP Length past the
// IP payload or under 8, a TCP data offset under 5 words or past the segment, and a TCP
// option whose length is under 2 or runs past the header are errors. The urgent pointer
// is read but means nothing here (URG is plain data, RFC 9293 §3.8.5 allows no more).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "alopex/error.hpp"
#include "ipv4.hpp"

namespace alopex::slirp::stack {

// The partial checksum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768).
uint32_t pseudo_header_sum(uint32_t src, uint32_t dst, uint8_t protocol, size_t length);

struct Udp {
    uint16_t src_port = 0, dst_port = 0;
    std::span<const uint8_t> payload;
};
Result<Udp> parse_udp(const Ipv4 &ip);
// A datagram `d` of either IP version, `pseudo` the partial sum of its pseudo-header
// with a length of 0 (the UDP Length, which may be under d's size, is added here). IPv6 requires the checksum (RFC 8200 §8.1): a zero one
// is then an error.
Result<Udp> parse_udp_segment(std::span<const uint8_t> d, uint32_t pseudo, bool checksum_required);
// Appends a UDP datagram (header, payload; checksum over the pseudo-header filled in).
void build_udp(std::vector<uint8_t> &out, uint32_t src, uint32_t dst, uint16_t src_port, uint16_t dst_port,
               std::span<const uint8_t> payload);
// The same in two steps, for either IP version (as put_tcp, set_tcp_checksum below).
size_t put_udp(std::vector<uint8_t> &out, uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> payload);
void set_udp_checksum(std::vector<uint8_t> &out, size_t start, uint32_t pseudo);

namespace tcp_flag {
inline constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20;
}

// A SACK block (RFC 2018 §3): the left edge and the sequence number after the right one.
struct SackBlock {
    uint32_t start = 0, end = 0;
    bool operator==(const SackBlock &) const = default;
};

struct TcpOptions {
    std::optional<uint16_t> mss;
    std::optional<uint8_t> window_scale;
    bool sack_permitted = false;
    std::optional<std::pair<uint32_t, uint32_t>> timestamps;   // TSval, TSecr
    std::array<SackBlock, 4> sack{};                           // the first sack_blocks of them
    uint8_t sack_blocks = 0;
    bool operator==(const TcpOptions &) const = default;
};

struct Tcp {
    uint16_t src_port = 0, dst_port = 0;
    uint32_t seq = 0, ack = 0;
    uint8_t flags = 0;
    uint16_t window = 0, urgent = 0;
    TcpOptions options;
    std::span<const uint8_t> payload;
};
Result<Tcp> parse_tcp(const Ipv4 &ip);
// The RST that answers segment `t` where nothing listens (RFC 9293 §3.10.7.1, the CLOSED
// state): seq from its ACK, or an ACK of everything it carried.
Tcp reset_for(const Tcp &t);
// A segment `d` of either IP version, `pseudo` the partial sum of its pseudo-header.
Result<Tcp> parse_tcp_segment(std::span<const uint8_t> d, uint32_t pseudo);
// Appends a TCP segment with `t`'s fields and options (payload from `payload`, not t.payload).
void build_tcp(std::vector<uint8_t> &out, uint32_t src, uint32_t dst, const Tcp &t, std::span<const uint8_t> payload);
// The same in two steps, for either IP version: the segment with a zero checksum (its
// start returned), then the checksum over `pseudo` (the pseudo-header's partial sum).
size_t put_tcp(std::vector<uint8_t> &out, const Tcp &t, std::span<const uint8_t> payload);
void set_tcp_checksum(std::vector<uint8_t> &out, size_t start, uint32_t pseudo);

} // namespace alopex::slirp::stack
