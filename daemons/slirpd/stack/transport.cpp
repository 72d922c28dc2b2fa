// SPDX-License-Identifier: GPL-2.0-or-later
#include "transport.hpp"

#include <algorithm>
#include <cerrno>

#include "wire.hpp"

namespace alopex::slirp::stack {

using wire::be16;
using wire::be32;
using wire::put16;
using wire::put32;
using wire::set16;

namespace {

Result<TcpOptions> parse_tcp_options(std::span<const uint8_t> o)
{
    TcpOptions out;
    size_t i = 0;
    while (i < o.size()) {
        uint8_t kind = o[i];
        if (kind == 0)
            break;   // end of option list
        if (kind == 1) {
            ++i;     // no-operation
            continue;
        }
        if (i + 1 >= o.size() || o[i + 1] < 2 || o[i + 1] > o.size() - i)
            return failf(EBADMSG, "TCP option {} at octet {}: bad length", kind, i);
        auto v = o.subspan(i + 2, o[i + 1] - 2u);
        switch (kind) {
        case 2:
            if (v.size() == 2)
                out.mss = be16(v.data());
            break;
        case 3:
            if (v.size() == 1)
                out.window_scale = v[0];
            break;
        case 4:
            out.sack_permitted = v.empty();
            break;
        case 5:
            // SACK: 1 to 4 blocks of two sequence numbers (RFC 2018 §3); another length is
            // read past. Whether the blocks make sense is the connection's to judge.
            if (!v.empty() && v.size() % 8 == 0 && v.size() <= 32) {
                out.sack_blocks = static_cast<uint8_t>(v.size() / 8);
                for (size_t b = 0; b < out.sack_blocks; ++b)
                    out.sack[b] = {be32(v.data() + 8 * b), be32(v.data() + 8 * b + 4)};
            }
            break;
        case 8:
            if (v.size() == 8)
                out.timestamps = std::pair{be32(v.data()), be32(v.data() + 4)};
            break;
        default:
            break;   // anything else: read past
        }
        i += o[i + 1];
    }
    return out;
}

} // namespace

uint32_t pseudo_header_sum(uint32_t src, uint32_t dst, uint8_t protocol, size_t length)
{
    uint32_t s = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + protocol;
    s += static_cast<uint32_t>(length >> 16) + static_cast<uint32_t>(length & 0xFFFF);
    return s;
}

Result<Udp> parse_udp(const Ipv4 &ip)
{
    return parse_udp_segment(ip.payload, pseudo_header_sum(ip.src, ip.dst, proto_udp, 0), false);
}

Result<Udp> parse_udp_segment(std::span<const uint8_t> d, uint32_t pseudo, bool checksum_required)
{
    if (d.size() < 8)
        return failf(EBADMSG, "UDP: {} octets, shorter than a header", d.size());
    size_t len = be16(&d[4]);
    if (len < 8 || len > d.size())
        return failf(EBADMSG, "UDP: length {} with {} octets", len, d.size());
    pseudo += static_cast<uint32_t>(len);   // the pseudo-header's length is the UDP Length
    d = d.first(len);
    if (be16(&d[6]) == 0 && checksum_required)
        return fail(EBADMSG, "UDP: no checksum, which IPv6 requires");
    if (be16(&d[6]) != 0 && checksum_fold(checksum_add(pseudo, d)) != 0)
        return fail(EBADMSG, "UDP: bad checksum");
    return Udp{be16(&d[0]), be16(&d[2]), d.subspan(8)};
}

void build_udp(std::vector<uint8_t> &out, uint32_t src, uint32_t dst, uint16_t src_port, uint16_t dst_port,
               std::span<const uint8_t> payload)
{
    size_t start = put_udp(out, src_port, dst_port, payload);
    set_udp_checksum(out, start, pseudo_header_sum(src, dst, proto_udp, out.size() - start));
}

size_t put_udp(std::vector<uint8_t> &out, uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> payload)
{
    size_t start = out.size();
    put16(out, src_port);
    put16(out, dst_port);
    put16(out, static_cast<uint16_t>(8 + payload.size()));
    put16(out, 0);
    out.insert(out.end(), payload.begin(), payload.end());
    return start;
}

void set_udp_checksum(std::vector<uint8_t> &out, size_t start, uint32_t pseudo)
{
    uint16_t c = checksum_fold(checksum_add(pseudo, std::span(out).subspan(start)));
    set16(out, start + 6, c == 0 ? 0xFFFF : c);   // 0 would mean "no checksum"
}

Result<Tcp> parse_tcp(const Ipv4 &ip)
{
    return parse_tcp_segment(ip.payload, pseudo_header_sum(ip.src, ip.dst, proto_tcp, ip.payload.size()));
}

Tcp reset_for(const Tcp &t)
{
    Tcp r;
    r.src_port = t.dst_port;
    r.dst_port = t.src_port;
    if (t.flags & tcp_flag::ack) {
        r.seq = t.ack;
        r.flags = tcp_flag::rst;
    } else {
        uint32_t len = static_cast<uint32_t>(t.payload.size()) + ((t.flags & tcp_flag::syn) ? 1 : 0) +
                       ((t.flags & tcp_flag::fin) ? 1 : 0);
        r.ack = t.seq + len;
        r.flags = tcp_flag::rst | tcp_flag::ack;
    }
    return r;
}

Result<Tcp> parse_tcp_segment(std::span<const uint8_t> d, uint32_t pseudo)
{
    if (d.size() < 20)
        return failf(EBADMSG, "TCP: {} octets, shorter than a header", d.size());
    size_t off = static_cast<size_t>(d[12] >> 4) * 4;
    if (off < 20 || off > d.size())
        return failf(EBADMSG, "TCP: data offset {} with {} octets", off, d.size());
    if (checksum_fold(checksum_add(pseudo, d)) != 0)
        return fail(EBADMSG, "TCP: bad checksum");
    auto options = parse_tcp_options(d.subspan(20, off - 20));
    if (!options)
        return std::unexpected(options.error());
    Tcp t;
    t.src_port = be16(&d[0]);
    t.dst_port = be16(&d[2]);
    t.seq = be32(&d[4]);
    t.ack = be32(&d[8]);
    t.flags = d[13] & 0x3F;
    t.window = be16(&d[14]);
    t.urgent = be16(&d[18]);
    t.options = *options;
    t.payload = d.subspan(off);
    return t;
}

void build_tcp(std::vector<uint8_t> &out, uint32_t src, uint32_t dst, const Tcp &t, std::span<const uint8_t> payload)
{
    size_t start = put_tcp(out, t, payload);
    set_tcp_checksum(out, start, pseudo_header_sum(src, dst, proto_tcp, out.size() - start));
}

void set_tcp_checksum(std::vector<uint8_t> &out, size_t start, uint32_t pseudo)
{
    set16(out, start + 16, 0);
    set16(out, start + 16, checksum_fold(checksum_add(pseudo, std::span(out).subspan(start))));
}

size_t put_tcp(std::vector<uint8_t> &out, const Tcp &t, std::span<const uint8_t> payload)
{
    std::vector<uint8_t> opts;
    if (t.options.mss) {
        opts.insert(opts.end(), {2, 4});
        put16(opts, *t.options.mss);
    }
    if (t.options.sack_permitted)
        opts.insert(opts.end(), {4, 2});
    if (t.options.timestamps) {
        opts.insert(opts.end(), {1, 1, 8, 10});
        put32(opts, t.options.timestamps->first);
        put32(opts, t.options.timestamps->second);
    }
    if (t.options.window_scale)
        opts.insert(opts.end(), {1, 3, 3, *t.options.window_scale});
    if (t.options.sack_blocks) {
        uint8_t n = std::min<uint8_t>(t.options.sack_blocks, 4);
        opts.insert(opts.end(), {1, 1, 5, static_cast<uint8_t>(2 + 8 * n)});
        for (uint8_t b = 0; b < n; ++b) {
            put32(opts, t.options.sack[b].start);
            put32(opts, t.options.sack[b].end);
        }
    }
    while (opts.size() % 4)
        opts.push_back(0);
    size_t start = out.size(), header = 20 + opts.size();
    put16(out, t.src_port);
    put16(out, t.dst_port);
    put32(out, t.seq);
    put32(out, t.ack);
    out.push_back(static_cast<uint8_t>(header / 4 << 4));
    out.push_back(t.flags & 0x3F);
    put16(out, t.window);
    put16(out, 0);
    put16(out, t.urgent);
    out.insert(out.end(), opts.begin(), opts.end());
    out.insert(out.end(), payload.begin(), payload.end());
    return start;
}

} // namespace alopex::slirp::stack
