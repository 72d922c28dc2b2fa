// SPDX-License-Identifier: GPL-2.0-or-later
#include "validate.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <charconv>

#include "alopex/bus.hpp"

namespace alopex::linkd {

namespace {

template <typename... A>
std::unexpected<Error> invalid(std::string_view arg, fmt::format_string<A...> f, A &&...args)
{
    return bus_fail(bus_error::InvalidArgument, "{}: {}", arg,
                    fmt::format(f, std::forward<A>(args)...));
}

// Printable excerpt of caller text for messages (bounded, control characters escaped).
std::string quote(std::string_view s)
{
    std::string out = "'";
    for (unsigned char c : s.substr(0, 64)) {
        if (c < 0x20 || c == 0x7f || c == '\'')
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    }
    if (s.size() > 64)
        out += "...";
    return out + "'";
}

Result<Prefix> parse_address_part(std::string_view text, std::string_view arg)
{
    if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != text.npos)
        return invalid(arg, "{} is not an IPv4 or IPv6 address", quote(text));
    std::string s(text);
    Prefix p;
    std::array<char, INET6_ADDRSTRLEN> buf{};
    in6_addr a6{};
    in_addr a4{};
    if (s.find(':') == std::string::npos && inet_pton(AF_INET, s.c_str(), &a4) == 1) {
        p.family = AF_INET;
        p.prefixlen = 32;
        inet_ntop(AF_INET, &a4, buf.data(), buf.size());
    } else if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
        p.family = AF_INET6;
        p.prefixlen = 128;
        inet_ntop(AF_INET6, &a6, buf.data(), buf.size());
    } else {
        return invalid(arg, "{} is not an IPv4 or IPv6 address", quote(text));
    }
    p.address = buf.data();
    return p;
}

// Host bits of `p` beyond its prefix length are all zero.
bool is_network(const Prefix &p)
{
    std::array<uint8_t, 16> bytes{};
    inet_pton(p.family, p.address.c_str(), bytes.data());
    size_t nbytes = p.family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < nbytes; ++i) {
        int bit0 = static_cast<int>(i) * 8;
        uint8_t mask = 0;
        for (int b = 0; b < 8; ++b)
            if (bit0 + b >= p.prefixlen)
                mask |= static_cast<uint8_t>(0x80 >> b);
        if (bytes[i] & mask)
            return false;
    }
    return true;
}

} // namespace

Result<Prefix> parse_ip(std::string_view text, std::string_view arg)
{
    return parse_address_part(text, arg);
}

Result<Prefix> parse_cidr(std::string_view text, std::string_view arg)
{
    auto slash = text.find('/');
    auto p = parse_address_part(text.substr(0, slash), arg);
    if (!p)
        return p;
    if (slash == std::string_view::npos)
        return p;
    std::string_view len = text.substr(slash + 1);
    unsigned v = 0;
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), v);
    unsigned max = p->family == AF_INET ? 32 : 128;
    if (len.empty() || len.size() > 3 || ec != std::errc{} || end != len.data() + len.size() ||
        v > max)
        return invalid(arg, "prefix length {} is not a number from 0 to {}", quote(len), max);
    p->prefixlen = static_cast<uint8_t>(v);
    return p;
}

Result<Prefix> parse_network(std::string_view text, std::string_view arg, uint8_t family)
{
    if (text == "default")
        return family == AF_INET6 ? Prefix{AF_INET6, "::", 0} : Prefix{AF_INET, "0.0.0.0", 0};
    auto p = parse_cidr(text, arg);
    if (!p)
        return p;
    if (!is_network(*p))
        return invalid(arg, "{} has host bits set beyond /{}", quote(text), p->prefixlen);
    return p;
}

Result<> check_ifindex(int32_t ifindex, std::string_view arg)
{
    if (ifindex <= 0)
        return invalid(arg, "{} is not a positive interface index", ifindex);
    return {};
}

Result<> check_ifname(std::string_view name, std::string_view arg)
{
    if (!bus::valid_ifname(name))
        return invalid(arg, "{} is not a valid interface name (1 to 15 bytes, no '/', ':', "
                            "whitespace or control characters)",
                       quote(name));
    return {};
}

Result<> check_mtu(uint32_t mtu, std::string_view arg)
{
    if (mtu < 68 || mtu > 65535)
        return invalid(arg, "{} is outside 68..65535", mtu);
    return {};
}

Result<> check_zone(std::string_view zone, std::string_view arg)
{
    if (zone.size() > 32)
        return invalid(arg, "{} is longer than 32 bytes", quote(zone));
    for (unsigned char c : zone)
        if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.'))
            return invalid(arg, "{} may hold only letters, digits, '_', '-' and '.'",
                           quote(zone));
    return {};
}

Result<rtnl::Mac> parse_mac(std::string_view text, std::string_view arg)
{
    rtnl::Mac mac{};
    bool ok = text.size() == 17;
    for (size_t i = 0; ok && i < 6; ++i) {
        if (i > 0 && text[i * 3 - 1] != ':') {
            ok = false;
            break;
        }
        auto [end, ec] = std::from_chars(text.data() + i * 3, text.data() + i * 3 + 2, mac[i], 16);
        ok = ec == std::errc{} && end == text.data() + i * 3 + 2;
    }
    if (!ok)
        return invalid(arg, "{} is not a MAC address (aa:bb:cc:dd:ee:ff)", quote(text));
    if (mac[0] & 1)
        return invalid(arg, "{} is a multicast address", quote(text));
    if (mac == rtnl::Mac{})
        return invalid(arg, "{} is all zeros", quote(text));
    return mac;
}

Result<rtnl::NetdevKind> parse_kind(std::string_view kind, std::string_view arg)
{
    if (kind == "bridge")
        return rtnl::NetdevKind::Bridge;
    if (kind == "vlan")
        return rtnl::NetdevKind::Vlan;
    if (kind == "veth")
        return rtnl::NetdevKind::Veth;
    if (kind == "bond")
        return rtnl::NetdevKind::Bond;
    return invalid(arg, "{} is not one of bridge, vlan, veth, bond", quote(kind));
}

std::string_view to_string(rtnl::NetdevKind k)
{
    switch (k) {
    case rtnl::NetdevKind::Bridge:
        return "bridge";
    case rtnl::NetdevKind::Vlan:
        return "vlan";
    case rtnl::NetdevKind::Veth:
        return "veth";
    case rtnl::NetdevKind::Bond:
        return "bond";
    }
    return "?";
}

bool valid_bond_mode(std::string_view mode)
{
    static constexpr std::array<std::string_view, 7> modes{
        "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb",
        "balance-alb"};
    for (auto m : modes)
        if (m == mode)
            return true;
    return false;
}

Result<rtnl::RouteSpec> route_spec(std::string_view to, std::string_view via, int32_t ifindex,
                                   uint32_t metric, uint32_t table)
{
    rtnl::RouteSpec r;
    std::optional<Prefix> gw;
    if (!via.empty()) {
        auto g = parse_ip(via, "via");
        if (!g)
            return std::unexpected(g.error());
        gw = *g;
    }
    auto dst = parse_network(to, "to", gw ? gw->family : 0);
    if (!dst)
        return std::unexpected(dst.error());
    if (gw && gw->family != dst->family)
        return invalid("via", "{} is not of the family of {}", quote(via), quote(to));
    if (ifindex < 0)
        return invalid("ifindex", "{} is negative", ifindex);
    if (ifindex == 0 && !gw)
        return invalid("ifindex", "0 needs a gateway in via");
    if (table == 253 || table == 255)
        return invalid("table", "{} is reserved (default/local)", table);
    r.family = dst->family;
    r.dst = dst->address;
    r.dst_len = dst->prefixlen;
    r.gateway = gw ? gw->address : "";
    r.oif = ifindex;
    r.metric = metric;
    r.table = table == 0 ? 254 : table;
    r.scope = gw ? 0 /* RT_SCOPE_UNIVERSE */ : 253 /* RT_SCOPE_LINK */;
    return r;
}

} // namespace alopex::linkd
