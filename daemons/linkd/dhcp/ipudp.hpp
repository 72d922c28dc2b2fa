// SPDX-License-Identifier: GPL-2.0-or-later
// IPv4 + UDP framing for the packet socket (pure): the client sends and receives whole IP
// datagrams before it has an address, so it writes and checks these headers itself.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "packet.hpp"

namespace alopex::dhcp {

// RFC 1071 one's-complement sum, folded and inverted.
uint16_t inet_checksum(std::span<const uint8_t> data, uint32_t initial = 0);

// An IPv4 header (no options, TTL 64, DF clear) + UDP header with both checksums.
std::vector<uint8_t> build_ipv4_udp(Ipv4 src, Ipv4 dst, uint16_t sport, uint16_t dport,
                                    std::span<const uint8_t> payload);

struct UdpDatagram {
    Ipv4 src = 0, dst = 0;
    uint16_t sport = 0, dport = 0;
    std::span<const uint8_t> payload;
};

// Checks version, IHL, total length against the bytes received (trailing link padding is
// cut), no fragment, protocol UDP, header checksum, UDP length, destination port
// `want_dport`, and the UDP checksum when non-zero and `check_udp_sum` (false when the
// kernel reports TP_STATUS_CSUMNOTREADY: the sender's offload left it unfinished).
Result<UdpDatagram> parse_ipv4_udp(std::span<const uint8_t> frame, uint16_t want_dport,
                                   bool check_udp_sum = true);

} // namespace alopex::dhcp
