// SPDX-License-Identifier: GPL-2.0-or-later
// DHCPv4 message parser: every length is checked against the bytes actually present.
#include "packet.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <map>

#include "alopex/net.hpp"

namespace alopex::dhcp {

namespace {

constexpr size_t header_len = 236;          // op .. file
constexpr size_t sname_off = 44, sname_len = 64, file_off = 108, file_len = 128;
constexpr uint32_t magic_cookie = 0x63825363;

uint32_t be32(const uint8_t *p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
uint16_t be16(const uint8_t *p) { return uint16_t(p[0] << 8 | p[1]); }

using Options = std::map<uint8_t, std::vector<uint8_t>>;

// Walks one options field, appending each value to the concatenation for its code
// (RFC 3396). Returns the overload value if option 52 was seen.
Result<void> walk(std::span<const uint8_t> f, std::string_view where, Options &out,
                  bool allow_overload)
{
    size_t i = 0;
    while (i < f.size()) {
        uint8_t code = f[i++];
        if (code == option::pad)
            continue;
        if (code == option::end)
            return {};
        if (i >= f.size())
            return failf(EBADMSG, "{}: option {} has no length byte", where, code);
        size_t len = f[i++];
        if (len > f.size() - i)
            return failf(EBADMSG, "{}: option {} length {} runs past the end ({} left)", where,
                         code, len, f.size() - i);
        if (code == option::overload && !allow_overload)
            return failf(EBADMSG, "{}: option overload (52) inside an overloaded field", where);
        auto &v = out[code];
        v.insert(v.end(), f.begin() + long(i), f.begin() + long(i + len));
        i += len;
    }
    return {};
}

Result<Ipv4> one_ip(const std::vector<uint8_t> &v, uint8_t code)
{
    if (v.size() != 4)
        return failf(EBADMSG, "option {}: length {}, expected 4", code, v.size());
    return be32(v.data());
}

Result<uint32_t> one_u32(const std::vector<uint8_t> &v, uint8_t code)
{
    if (v.size() != 4)
        return failf(EBADMSG, "option {}: length {}, expected 4", code, v.size());
    return be32(v.data());
}

Result<std::vector<Ipv4>> ip_list(const std::vector<uint8_t> &v, uint8_t code)
{
    if (v.empty() || v.size() % 4)
        return failf(EBADMSG, "option {}: length {} is not a non-zero multiple of 4", code,
                     v.size());
    std::vector<Ipv4> r;
    for (size_t i = 0; i < v.size(); i += 4)
        r.push_back(be32(v.data() + i));
    return r;
}

// Host and domain names: trailing NULs (some servers add one) are cut; the rest must be
// letters, digits, '-', '_' and '.', 1..255 bytes.
Result<std::string> name(const std::vector<uint8_t> &v, uint8_t code)
{
    size_t n = v.size();
    while (n > 0 && v[n - 1] == 0)
        --n;
    if (n == 0)
        return failf(EBADMSG, "option {}: empty name", code);
    std::string s(v.begin(), v.begin() + long(n));
    for (unsigned char c : s)
        if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.'))
            return failf(EBADMSG, "option {}: invalid character 0x{:02x} in name", code, c);
    return s;
}

bool unusable_unicast(Ipv4 a)
{
    uint8_t first = uint8_t(a >> 24);
    return first == 0 || first == 127 || first >= 224;
}

} // namespace

std::string ip_to_string(Ipv4 a) { return net::Address::v4(a).to_string(); }

Result<Ipv4> parse_ip(std::string_view s)
{
    ALOPEX_TRY(a, net::Address::parse(s, AF_INET, ""));
    return a.v4_number();
}

std::string mac_to_string(const Mac &m) { return net::Mac::eui48(m).to_string(); }

std::string_view to_string(MessageType t)
{
    static constexpr std::string_view names[] = {"DISCOVER", "OFFER", "REQUEST", "DECLINE",
                                                 "ACK", "NAK", "RELEASE", "INFORM"};
    static_assert(std::size(names) == 8);
    auto i = static_cast<unsigned>(t);
    return i >= 1 && i <= 8 ? names[i - 1] : "?";
}

Result<uint8_t> netmask_to_prefixlen(Ipv4 mask)
{
    uint8_t n = uint8_t(std::countl_one(mask));
    if (n < 32 && (mask << n) != 0)
        return failf(EBADMSG, "netmask {} is not contiguous", ip_to_string(mask));
    return n;
}

Ipv4 prefixlen_to_netmask(uint8_t p)
{
    return p == 0 ? 0 : p >= 32 ? 0xffffffffu : ~((1u << (32 - p)) - 1);
}

Result<std::vector<Route>> parse_classless_routes(std::span<const uint8_t> v)
{
    if (v.empty())
        return fail(EBADMSG, "option 121: empty");
    std::vector<Route> out;
    size_t i = 0;
    while (i < v.size()) {
        uint8_t width = v[i++];
        if (width > 32)
            return failf(EBADMSG, "option 121: prefix width {} over 32", width);
        size_t sig = (width + 7u) / 8u;
        if (v.size() - i < sig + 4)
            return failf(EBADMSG, "option 121: descriptor /{} truncated", width);
        Ipv4 dest = 0;
        for (size_t k = 0; k < sig; ++k)
            dest |= Ipv4(v[i + k]) << (24 - 8 * k);
        i += sig;
        if (dest & ~prefixlen_to_netmask(width))
            return failf(EBADMSG, "option 121: destination {}/{} has bits set beyond the prefix",
                         ip_to_string(dest), width);
        Ipv4 gw = be32(v.data() + i);
        i += 4;
        out.push_back({dest, width, gw});
    }
    return out;
}

Result<Packet> parse_packet(std::span<const uint8_t> b)
{
    if (b.size() < header_len + 4)
        return failf(EBADMSG, "truncated: {} bytes, a DHCP message has at least {}", b.size(),
                     header_len + 4);
    Packet p;
    p.op = b[0];
    if (p.op != 1 && p.op != 2)
        return failf(EBADMSG, "op {} is neither BOOTREQUEST nor BOOTREPLY", p.op);
    if (b[1] != 1 || b[2] != 6)
        return failf(EBADMSG, "htype {} hlen {}: only Ethernet (1, 6) is handled", b[1], b[2]);
    p.xid = be32(&b[4]);
    p.secs = be16(&b[8]);
    p.flags = be16(&b[10]);
    p.ciaddr = be32(&b[12]);
    p.yiaddr = be32(&b[16]);
    p.siaddr = be32(&b[20]);
    p.giaddr = be32(&b[24]);
    std::copy_n(&b[28], 6, p.chaddr.begin());
    if (be32(&b[header_len]) != magic_cookie)
        return fail(EBADMSG, "no DHCP magic cookie");

    Options opts;
    if (auto r = walk(b.subspan(header_len + 4), "options", opts, true); !r)
        return std::unexpected(r.error());
    if (auto it = opts.find(option::overload); it != opts.end()) {
        if (it->second.size() != 1 || it->second[0] < 1 || it->second[0] > 3)
            return fail(EBADMSG, "option 52: invalid overload value");
        uint8_t ov = it->second[0];
        if (ov & 1)
            if (auto r = walk(b.subspan(file_off, file_len), "file", opts, false); !r)
                return std::unexpected(r.error());
        if (ov & 2)
            if (auto r = walk(b.subspan(sname_off, sname_len), "sname", opts, false); !r)
                return std::unexpected(r.error());
    }

    auto mt = opts.find(option::message_type);
    if (mt == opts.end())
        return fail(EBADMSG, "no message type (option 53)");
    if (mt->second.size() != 1 || mt->second[0] < 1 || mt->second[0] > 8)
        return fail(EBADMSG, "option 53: invalid message type");
    p.type = static_cast<MessageType>(mt->second[0]);

    for (auto &[code, v] : opts) {
        switch (code) {
        case option::subnet_mask: {
            auto m = one_ip(v, code);
            if (!m)
                return std::unexpected(m.error());
            if (auto pl = netmask_to_prefixlen(*m); !pl)
                return std::unexpected(pl.error());
            p.subnet_mask = *m;
            break;
        }
        case option::router:
        case option::dns: {
            auto l = ip_list(v, code);
            if (!l)
                return std::unexpected(l.error());
            (code == option::router ? p.routers : p.dns) = std::move(*l);
            break;
        }
        case option::hostname:
        case option::domain: {
            auto n = name(v, code);
            if (!n)
                return std::unexpected(n.error());
            (code == option::hostname ? p.hostname : p.domain) = std::move(*n);
            break;
        }
        case option::mtu: {
            if (v.size() != 2)
                return failf(EBADMSG, "option 26: length {}, expected 2", v.size());
            uint16_t m = be16(v.data());
            if (m < 68)
                return failf(EBADMSG, "option 26: MTU {} below 68", m);
            p.mtu = m;
            break;
        }
        case option::requested_ip:
        case option::server_id: {
            auto a = one_ip(v, code);
            if (!a)
                return std::unexpected(a.error());
            (code == option::server_id ? p.server_id : p.requested_ip) = *a;
            break;
        }
        case option::lease_time:
        case option::t1:
        case option::t2: {
            auto t = one_u32(v, code);
            if (!t)
                return std::unexpected(t.error());
            if (*t == 0)
                return failf(EBADMSG, "option {}: zero time", code);
            (code == option::lease_time ? p.lease_time : code == option::t1 ? p.t1 : p.t2) = *t;
            break;
        }
        case option::message:
            p.message.assign(v.begin(), v.end());
            std::erase_if(p.message, [](char c) { return static_cast<unsigned char>(c) < 0x20; });
            break;
        case option::client_id:
        case option::param_request:
            if (v.empty())
                return failf(EBADMSG, "option {}: empty", code);
            (code == option::client_id ? p.client_id : p.param_request) = v;
            break;
        case option::classless_routes: {
            auto r = parse_classless_routes(v);
            if (!r)
                return std::unexpected(r.error());
            p.classless_routes = std::move(*r);
            break;
        }
        default:
            break;
        }
    }
    // Inconsistent renewal times are dropped (the client falls back to the defaults).
    if (p.lease_time && p.t1 && p.t2 && !(*p.t1 < *p.t2 && *p.t2 < *p.lease_time)) {
        p.t1.reset();
        p.t2.reset();
    }
    if (p.lease_time && p.t1 && *p.t1 >= *p.lease_time)
        p.t1.reset();
    if (p.lease_time && p.t2 && *p.t2 >= *p.lease_time)
        p.t2.reset();
    if (p.t1 && p.t2 && *p.t1 >= *p.t2)
        p.t1.reset();
    return p;
}

Result<Packet> parse_reply(std::span<const uint8_t> bytes, uint32_t xid, const Mac &mac)
{
    auto p = parse_packet(bytes);
    if (!p)
        return p;
    if (p->op != 2)
        return fail(EBADMSG, "not a BOOTREPLY");
    if (p->xid != xid)
        return failf(EBADMSG, "xid 0x{:08x} is not ours (0x{:08x})", p->xid, xid);
    if (p->chaddr != mac)
        return failf(EBADMSG, "chaddr {} is not ours", mac_to_string(p->chaddr));
    if (p->type != MessageType::offer && p->type != MessageType::ack &&
        p->type != MessageType::nak)
        return failf(EBADMSG, "{} is not a reply a client takes", to_string(p->type));
    if (!p->server_id)
        return failf(EBADMSG, "{} without server identifier (option 54)", to_string(p->type));
    if (p->type == MessageType::nak)
        return p;
    if (unusable_unicast(*p->server_id))
        return failf(EBADMSG, "server identifier {} is not a unicast address",
                     ip_to_string(*p->server_id));
    if (unusable_unicast(p->yiaddr))
        return failf(EBADMSG, "yiaddr {} is not a usable address", ip_to_string(p->yiaddr));
    if (!p->lease_time)
        return failf(EBADMSG, "{} without lease time (option 51)", to_string(p->type));
    if (p->subnet_mask) {
        Ipv4 m = *p->subnet_mask;
        if (m < 0xfffffffeu && ((p->yiaddr & ~m) == ~m || (p->yiaddr & ~m) == 0))  // /31, /32: no such
            return failf(EBADMSG, "yiaddr {} is the network or broadcast address of its subnet",
                         ip_to_string(p->yiaddr));
    }
    return p;
}

} // namespace alopex::dhcp
