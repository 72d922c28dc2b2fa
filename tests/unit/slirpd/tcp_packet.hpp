// SPDX-License-Identifier: GPL-2.0-or-later
// IPv4 TCP segments built by hand for the PPP-side tests (VJ, the link): header checksum
// and TCP checksums right (VJ's decompressor checks what it rebuilt), data a pattern.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "inet_checksum.hpp"
#include "wire.hpp"

namespace slirp_test {

struct Seg {
    uint32_t src = 0x0A000002, dst = 0x0A000001;
    uint16_t sport = 40000, dport = 22;
    uint32_t seq = 1000, ack = 5000;
    uint8_t flags = 0x10;   // ACK
    uint16_t window = 29200, urgent = 0, id = 100;
    uint8_t ttl = 64, tos = 0;
    std::vector<uint8_t> tcp_options;
    size_t data = 0;
};

// Sets the TCP checksum of IPv4 packet `p` (a 20-octet IP header) to what its octets
// need: for a packet whose data was changed after packet() built it.
inline void set_tcp_checksum(std::vector<uint8_t> &p)
{
    using namespace alopex::slirp;
    wire::store16(&p[36], 0);
    uint32_t sum = inet::checksum_add(inet::pseudo_sum(p.data(), 6, p.size() - 20), std::span<const uint8_t>(p).subspan(20));
    wire::store16(&p[36], inet::checksum_fold(sum));
}

// An IPv4 packet of `s`, its checksums right.
inline std::vector<uint8_t> packet(const Seg &s)
{
    using namespace alopex::slirp::wire;
    size_t th = 20 + s.tcp_options.size(), len = 20 + th + s.data;
    std::vector<uint8_t> p(len, 0);
    p[0] = 0x45;
    p[1] = s.tos;
    store16(&p[2], static_cast<uint16_t>(len));
    store16(&p[4], s.id);
    store16(&p[6], 0x4000);
    p[8] = s.ttl;
    p[9] = 6;
    store32(&p[12], s.src);
    store32(&p[16], s.dst);
    store16(&p[10], alopex::slirp::inet::checksum(std::span<const uint8_t>(p).first(20)));
    uint8_t *t = &p[20];
    store16(t, s.sport);
    store16(t + 2, s.dport);
    store32(t + 4, s.seq);
    store32(t + 8, s.ack);
    t[12] = static_cast<uint8_t>(th / 4 << 4);
    t[13] = s.flags;
    store16(t + 14, s.window);
    store16(t + 18, s.urgent);
    std::copy(s.tcp_options.begin(), s.tcp_options.end(), t + 20);
    for (size_t i = 0; i < s.data; ++i)
        p[20 + th + i] = static_cast<uint8_t>(s.seq + i);
    set_tcp_checksum(p);
    return p;
}

} // namespace slirp_test
