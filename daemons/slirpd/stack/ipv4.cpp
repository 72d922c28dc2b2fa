// SPDX-License-Identifier: GPL-2.0-or-later
#include "ipv4.hpp"

#include <bit>
#include <cerrno>
#include <cstring>

#include "wire.hpp"

namespace alopex::slirp::stack {

using wire::be16;
using wire::be32;
using wire::put16;
using wire::put32;

// RFC 1071: the ones' complement sum does not depend on byte order (§2(B)) and can be
// taken in wider words with the carries added back (§2(C)). So: 64-bit words as the CPU
// loads them, each carry out added back in, folded to 16 bits, and turned to network
// order at the end. `sum` (any 32-bit partial sum) and the result are in network order;
// the result is folded to 16 bits.
uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data)
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

uint16_t checksum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

Result<Ipv4> parse_ipv4(std::span<const uint8_t> p)
{
    if (p.size() < ipv4_min_header)
        return failf(EBADMSG, "IPv4: {} octets, shorter than a header", p.size());
    if (p[0] >> 4 != 4)
        return failf(EBADMSG, "IPv4: version {}", p[0] >> 4);
    size_t ihl = size_t{p[0] & 0x0Fu} * 4;
    if (ihl < ipv4_min_header || ihl > p.size())
        return failf(EBADMSG, "IPv4: header length {} with {} octets", ihl, p.size());
    size_t total = be16(&p[2]);
    if (total < ihl || total > p.size())
        return failf(EBADMSG, "IPv4: total length {} with a {}-octet header and {} octets", total, ihl, p.size());
    if (checksum(p.first(ihl)) != 0)
        return fail(EBADMSG, "IPv4: bad header checksum");
    Ipv4 h;
    h.tos = p[1];
    h.id = be16(&p[4]);
    uint16_t frag = be16(&p[6]);
    h.dont_fragment = frag & 0x4000;
    h.more_fragments = frag & 0x2000;
    h.fragment_offset = frag & 0x1FFF;
    h.ttl = p[8];
    h.protocol = p[9];
    h.src = be32(&p[12]);
    h.dst = be32(&p[16]);
    h.header = p.first(ihl);
    h.payload = p.subspan(ihl, total - ihl);
    return h;
}

bool build_ipv4(std::vector<uint8_t> &out, const Ipv4Out &h, std::span<const uint8_t> payload)
{
    if (payload.size() > 0xFFFF - ipv4_min_header)
        return false;
    size_t start = out.size();
    out.resize(start + ipv4_min_header);
    out.insert(out.end(), payload.begin(), payload.end());
    return finish_ipv4(out, start, h);
}

bool finish_ipv4(std::vector<uint8_t> &out, size_t start, const Ipv4Out &h)
{
    if (start > out.size() || out.size() - start < ipv4_min_header || out.size() - start > 0xFFFF)
        return false;
    uint8_t *p = out.data() + start;
    p[0] = 0x45;
    p[1] = h.tos;
    wire::set16(out, start + 2, static_cast<uint16_t>(out.size() - start));
    wire::set16(out, start + 4, h.id);
    wire::set16(out, start + 6, h.dont_fragment ? 0x4000 : 0);
    p[8] = h.ttl;
    p[9] = h.protocol;
    wire::set16(out, start + 10, 0);
    wire::set32(out, start + 12, h.src);
    wire::set32(out, start + 16, h.dst);
    wire::set16(out, start + 10, checksum(std::span(out).subspan(start, ipv4_min_header)));
    return true;
}

Result<Icmp> parse_icmp(std::span<const uint8_t> m)
{
    if (m.size() < 8)
        return failf(EBADMSG, "ICMP: {} octets, shorter than a header", m.size());
    if (checksum(m) != 0)
        return fail(EBADMSG, "ICMP: bad checksum");
    return Icmp{m[0], m[1], m.subspan(4)};
}

void build_icmp(std::vector<uint8_t> &out, uint8_t type, uint8_t code, std::span<const uint8_t> rest)
{
    size_t start = out.size();
    out.push_back(type);
    out.push_back(code);
    put16(out, 0);
    out.insert(out.end(), rest.begin(), rest.end());
    wire::set16(out, start + 2, checksum(std::span(out).subspan(start)));
}

} // namespace alopex::slirp::stack
