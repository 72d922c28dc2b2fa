// SPDX-License-Identifier: GPL-2.0-or-later
#include "ipv4.hpp"

#include <cerrno>

#include "wire.hpp"

namespace alopex::slirp::stack {

using wire::be16;
using wire::be32;
using wire::put16;
using wire::put32;

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
