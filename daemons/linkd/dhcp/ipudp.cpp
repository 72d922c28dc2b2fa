// SPDX-License-Identifier: GPL-2.0-or-later
#include "ipudp.hpp"

namespace alopex::dhcp {

namespace {

uint16_t be16(const uint8_t *p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t *p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
void put16(uint8_t *p, uint16_t v) { p[0] = uint8_t(v >> 8), p[1] = uint8_t(v); }
void put32(uint8_t *p, uint32_t v)
{
    p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}

uint32_t sum(std::span<const uint8_t> d, uint32_t acc)
{
    size_t i = 0;
    for (; i + 1 < d.size(); i += 2)
        acc += uint32_t(d[i] << 8 | d[i + 1]);
    if (i < d.size())
        acc += uint32_t(d[i] << 8);
    return acc;
}

uint32_t pseudo_header(Ipv4 src, Ipv4 dst, uint16_t udp_len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17u + udp_len;
}

constexpr size_t ip_len = 20, udp_len = 8;

} // namespace

uint16_t inet_checksum(std::span<const uint8_t> data, uint32_t initial)
{
    uint64_t acc = sum(data, 0) + uint64_t(initial);
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return uint16_t(~acc);
}

std::vector<uint8_t> build_ipv4_udp(Ipv4 src, Ipv4 dst, uint16_t sport, uint16_t dport,
                                    std::span<const uint8_t> payload)
{
    std::vector<uint8_t> f(ip_len + udp_len + payload.size());
    uint8_t *ip = f.data(), *udp = f.data() + ip_len;
    ip[0] = 0x45;
    ip[1] = 0x10;   // TOS: low delay, as other DHCP clients send
    put16(ip + 2, uint16_t(f.size()));
    ip[8] = 64;
    ip[9] = 17;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, inet_checksum({ip, ip_len}));
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, uint16_t(udp_len + payload.size()));
    std::copy(payload.begin(), payload.end(), udp + udp_len);
    uint16_t c = inet_checksum({udp, udp_len + payload.size()},
                               pseudo_header(src, dst, uint16_t(udp_len + payload.size())));
    put16(udp + 6, c ? c : 0xffff);
    return f;
}

Result<UdpDatagram> parse_ipv4_udp(std::span<const uint8_t> f, uint16_t want_dport,
                                   bool check_udp_sum)
{
    if (f.size() < ip_len)
        return failf(EBADMSG, "IP: truncated ({} bytes)", f.size());
    if (f[0] >> 4 != 4)
        return failf(EBADMSG, "IP: version {}", f[0] >> 4);
    size_t ihl = size_t(f[0] & 0xf) * 4;
    if (ihl < ip_len || ihl > f.size())
        return failf(EBADMSG, "IP: header length {} invalid", ihl);
    size_t total = be16(&f[2]);
    if (total < ihl + udp_len || total > f.size())
        return failf(EBADMSG, "IP: total length {} does not fit {} bytes", total, f.size());
    if (be16(&f[6]) & 0x3fff)
        return fail(EBADMSG, "IP: fragment");
    if (f[9] != 17)
        return failf(EBADMSG, "IP: protocol {} is not UDP", f[9]);
    if (inet_checksum(f.first(ihl)) != 0)
        return fail(EBADMSG, "IP: bad header checksum");
    UdpDatagram d;
    d.src = be32(&f[12]);
    d.dst = be32(&f[16]);
    auto udp = f.subspan(ihl, total - ihl);
    d.sport = be16(&udp[0]);
    d.dport = be16(&udp[2]);
    size_t ulen = be16(&udp[4]);
    if (ulen < udp_len || ulen > udp.size())
        return failf(EBADMSG, "UDP: length {} does not fit {} bytes", ulen, udp.size());
    if (d.dport != want_dport)
        return failf(EBADMSG, "UDP: destination port {}", d.dport);
    udp = udp.first(ulen);
    if (check_udp_sum && be16(&udp[6]) != 0 &&
        inet_checksum(udp, pseudo_header(d.src, d.dst, uint16_t(ulen))) != 0)
        return fail(EBADMSG, "UDP: bad checksum");
    d.payload = udp.subspan(udp_len);
    return d;
}

} // namespace alopex::dhcp
