// SPDX-License-Identifier: GPL-2.0-or-later
// DHCPv4 message builders: the client's DISCOVER/REQUEST/RELEASE (RFC 2131 table 5) and a
// server-side reply builder used by tests and fuzz seeds.
#include "packet.hpp"

namespace alopex::dhcp {

namespace {

constexpr size_t min_bootp_len = 300;      // RFC 1542: some relays drop shorter ones
constexpr uint16_t max_message_size = 1472; // 1500 - IP - UDP

constexpr uint8_t prl[] = {option::subnet_mask, option::router, option::dns, option::hostname,
                           option::domain, option::mtu, option::lease_time, option::server_id,
                           option::t1, option::t2, option::classless_routes};

struct Writer {
    std::vector<uint8_t> b;
    void u8(uint8_t v) { b.push_back(v); }
    void u16(uint16_t v) { b.insert(b.end(), {uint8_t(v >> 8), uint8_t(v)}); }
    void u32(uint32_t v)
    {
        b.insert(b.end(), {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)});
    }
    void opt(uint8_t code, std::span<const uint8_t> v)
    {
        // Values over 255 bytes are split into consecutive instances (RFC 3396).
        size_t i = 0;
        do {
            size_t n = std::min<size_t>(255, v.size() - i);
            u8(code);
            u8(uint8_t(n));
            b.insert(b.end(), v.begin() + long(i), v.begin() + long(i + n));
            i += n;
        } while (i < v.size());
    }
    void opt_u8(uint8_t code, uint8_t v) { opt(code, std::span<const uint8_t>(&v, 1)); }
    void opt_u16(uint8_t code, uint16_t v)
    {
        uint8_t x[2] = {uint8_t(v >> 8), uint8_t(v)};
        opt(code, x);
    }
    void opt_u32(uint8_t code, uint32_t v)
    {
        uint8_t x[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
        opt(code, x);
    }
    void opt_ips(uint8_t code, const std::vector<Ipv4> &ips)
    {
        std::vector<uint8_t> v;
        for (Ipv4 a : ips)
            v.insert(v.end(), {uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)});
        opt(code, v);
    }
};

Writer header(uint8_t op, uint32_t xid, uint16_t secs, Ipv4 ciaddr, Ipv4 yiaddr, const Mac &mac)
{
    Writer w;
    w.b.reserve(min_bootp_len);
    w.u8(op);
    w.u8(1);    // htype Ethernet
    w.u8(6);    // hlen
    w.u8(0);    // hops
    w.u32(xid);
    w.u16(secs);
    w.u16(0);   // flags: no broadcast bit, replies reach the packet socket by MAC
    w.u32(ciaddr);
    w.u32(yiaddr);
    w.u32(0);   // siaddr
    w.u32(0);   // giaddr
    w.b.insert(w.b.end(), mac.begin(), mac.end());
    w.b.resize(236, 0);   // chaddr padding, sname, file
    w.u32(0x63825363);
    return w;
}

void client_common(Writer &w, const Identity &id, MessageType t, bool with_prl)
{
    w.opt_u8(option::message_type, uint8_t(t));
    if (id.client_id.empty()) {
        uint8_t cid[7] = {1};
        std::copy(id.mac.begin(), id.mac.end(), cid + 1);
        w.opt(option::client_id, cid);
    } else {
        w.opt(option::client_id, id.client_id);
    }
    if (with_prl) {
        w.opt_u16(option::max_size, max_message_size);
        w.opt(option::param_request, prl);
        if (!id.hostname.empty())
            w.opt(option::hostname, std::span(reinterpret_cast<const uint8_t *>(id.hostname.data()),
                                              std::min<size_t>(id.hostname.size(), 255)));
    }
}

std::vector<uint8_t> finish(Writer &w)
{
    w.u8(option::end);
    if (w.b.size() < min_bootp_len)
        w.b.resize(min_bootp_len, 0);
    return std::move(w.b);
}

} // namespace

std::span<const uint8_t> default_param_request() { return prl; }

std::vector<uint8_t> encode_classless_routes(const std::vector<Route> &routes)
{
    std::vector<uint8_t> v;
    for (const Route &r : routes) {
        v.push_back(r.prefixlen);
        for (unsigned k = 0; k < (r.prefixlen + 7u) / 8u; ++k)
            v.push_back(uint8_t(r.dest >> (24 - 8 * k)));
        for (int s = 24; s >= 0; s -= 8)
            v.push_back(uint8_t(r.gateway >> s));
    }
    return v;
}

std::vector<uint8_t> build_discover(const Identity &id, uint32_t xid, uint16_t secs,
                                    std::optional<Ipv4> requested_ip)
{
    Writer w = header(1, xid, secs, 0, 0, id.mac);
    client_common(w, id, MessageType::discover, true);
    if (requested_ip)
        w.opt_u32(option::requested_ip, *requested_ip);
    return finish(w);
}

std::vector<uint8_t> build_request(const Identity &id, uint32_t xid, uint16_t secs,
                                   RequestKind kind, Ipv4 address, Ipv4 server_id)
{
    bool in_ciaddr = kind == RequestKind::renewing || kind == RequestKind::rebinding;
    Writer w = header(1, xid, secs, in_ciaddr ? address : 0, 0, id.mac);
    client_common(w, id, MessageType::request, true);
    if (!in_ciaddr)
        w.opt_u32(option::requested_ip, address);
    if (kind == RequestKind::selecting)
        w.opt_u32(option::server_id, server_id);
    return finish(w);
}

std::vector<uint8_t> build_release(const Identity &id, uint32_t xid, Ipv4 address,
                                   Ipv4 server_id)
{
    Writer w = header(1, xid, 0, address, 0, id.mac);
    client_common(w, id, MessageType::release, false);
    w.opt_u32(option::server_id, server_id);
    return finish(w);
}

std::vector<uint8_t> build_reply(const ReplySpec &s)
{
    Writer w = header(2, s.xid, 0, 0, s.type == MessageType::nak ? 0 : s.yiaddr, s.chaddr);
    w.opt_u8(option::message_type, uint8_t(s.type));
    if (s.server_id)
        w.opt_u32(option::server_id, s.server_id);
    if (s.lease_time)
        w.opt_u32(option::lease_time, *s.lease_time);
    if (s.t1)
        w.opt_u32(option::t1, *s.t1);
    if (s.t2)
        w.opt_u32(option::t2, *s.t2);
    if (s.subnet_mask)
        w.opt_u32(option::subnet_mask, *s.subnet_mask);
    if (!s.routers.empty())
        w.opt_ips(option::router, s.routers);
    if (!s.dns.empty())
        w.opt_ips(option::dns, s.dns);
    if (!s.domain.empty())
        w.opt(option::domain, std::span(reinterpret_cast<const uint8_t *>(s.domain.data()),
                                        s.domain.size()));
    if (s.mtu)
        w.opt_u16(option::mtu, *s.mtu);
    if (!s.classless_routes.empty())
        w.opt(option::classless_routes, encode_classless_routes(s.classless_routes));
    return finish(w);
}

} // namespace alopex::dhcp
