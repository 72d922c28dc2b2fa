// SPDX-License-Identifier: GPL-2.0-or-later
// The Internet checksum (RFC 1071), for slirpd's IPv4 stack and for what PPP rebuilds
// (VJ's decompressed headers): checksum_add() continues a partial sum over `data`,
// checksum_fold() folds and complements, checksum() does both from 0; pseudo_sum() starts
// a TCP or UDP checksum with an IPv4 packet's pseudo-header.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace alopex::slirp::inet {

// RFC 1071: the ones' complement sum does not depend on byte order (§2(B)) and can be
// taken in wider words with the carries added back (§2(C)). So: 64-bit words as the CPU
// loads them, each carry out added back in, folded to 16 bits, and turned to network
// order at the end. `sum` (any 32-bit partial sum) and the result are in network order;
// the result is folded to 16 bits.
inline uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data)
{
    const uint8_t *p = data.data();
    size_t n = data.size();
    uint64_t acc = 0;
    auto add = [&acc](uint64_t w) {
        acc += w;
        acc += acc < w;   // the end-around carry
    };
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        add(w);
    }
    uint8_t tail[8] = {};
    std::memcpy(tail, p, n);   // the rest, zero-padded: a lone last octet is a word's first
    uint64_t w;
    std::memcpy(&w, tail, 8);
    add(w);
    acc = (acc & 0xFFFFFFFF) + (acc >> 32);
    acc = (acc & 0xFFFF) + (acc >> 16);
    acc = (acc & 0xFFFF) + (acc >> 16);
    acc = (acc & 0xFFFF) + (acc >> 16);
    uint32_t folded = static_cast<uint32_t>(acc);
    if constexpr (std::endian::native == std::endian::little)
        folded = static_cast<uint32_t>((folded >> 8 | folded << 8) & 0xFFFF);
    uint64_t total = uint64_t{sum} + folded;
    while (total >> 16)
        total = (total & 0xFFFF) + (total >> 16);
    return static_cast<uint32_t>(total);
}

inline uint16_t checksum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

inline uint16_t checksum(std::span<const uint8_t> data) { return checksum_fold(checksum_add(0, data)); }

// The partial sum of the pseudo-header (RFC 793 §3.1) of IPv4 header `ip` (its addresses
// at octets 12..19) for `length` octets of `protocol`.
inline uint32_t pseudo_sum(const uint8_t *ip, uint8_t protocol, size_t length)
{
    uint8_t pseudo[12] = {};
    std::memcpy(pseudo, ip + 12, 8);
    pseudo[9] = protocol;
    pseudo[10] = static_cast<uint8_t>(length >> 8);
    pseudo[11] = static_cast<uint8_t>(length);
    return checksum_add(0, pseudo);
}

} // namespace alopex::slirp::inet
