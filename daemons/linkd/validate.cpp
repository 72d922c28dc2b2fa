// SPDX-License-Identifier: GPL-2.0-or-later
#include "validate.hpp"

#include <sys/socket.h>

#include <array>

#include "alopex/net.hpp"

namespace alopex::linkd {

namespace {

template <typename... A>
std::unexpected<Error> invalid(std::string_view arg, fmt::format_string<A...> f, A &&...args)
{
    return bus_fail(bus_error::InvalidArgument, "{}: {}", arg,
                    fmt::format(f, std::forward<A>(args)...));
}

using net::quoted;

} // namespace

Result<net::Prefix> parse_network(std::string_view text, std::string_view arg, uint8_t family)
{
    if (text == "default")
        return net::Prefix(net::Address::any(family == AF_INET6 ? AF_INET6 : AF_INET), 0);
    return net::Prefix::parse_network(text, arg, {.bare = true});
}

Result<> check_ifindex(int32_t ifindex, std::string_view arg)
{
    if (ifindex <= 0)
        return invalid(arg, "{} is not a positive interface index", ifindex);
    return {};
}

Result<> check_ifname(std::string_view name, std::string_view arg)
{
    if (!net::valid_ifname(name))
        return invalid(arg, "{} is not a valid interface name (1 to 15 bytes, no '/', ':', "
                            "whitespace or control characters)",
                       quoted(name));
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
        return invalid(arg, "{} is longer than 32 bytes", quoted(zone));
    for (unsigned char c : zone)
        if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.'))
            return invalid(arg, "{} may hold only letters, digits, '_', '-' and '.'",
                           quoted(zone));
    return {};
}

Result<net::Mac> parse_mac(std::string_view text, std::string_view arg)
{
    ALOPEX_TRY(mac, net::Mac::parse(text, arg));
    ALOPEX_TRY_VOID(mac.check_assignable(arg));
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
    return invalid(arg, "{} is not one of bridge, vlan, veth, bond", quoted(kind));
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
    net::Address gw;
    if (!via.empty()) {
        auto g = net::Address::parse(via, "via");
        if (!g)
            return std::unexpected(g.error());
        gw = *g;
    }
    auto dst = parse_network(to, "to", static_cast<uint8_t>(gw.family()));
    if (!dst)
        return std::unexpected(dst.error());
    if (!gw.empty() && gw.family() != dst->family())
        return invalid("via", "{} is not of the family of {}", quoted(via), quoted(to));
    if (ifindex < 0)
        return invalid("ifindex", "{} is negative", ifindex);
    if (ifindex == 0 && gw.empty())
        return invalid("ifindex", "0 needs a gateway in via");
    if (table == 253 || table == 255)
        return invalid("table", "{} is reserved (default/local)", table);
    r.family = static_cast<uint8_t>(dst->family());
    r.dst = dst->address();
    r.dst_len = static_cast<uint8_t>(dst->length());
    r.gateway = gw;
    r.oif = ifindex;
    r.metric = metric;
    r.table = table == 0 ? 254 : table;
    r.scope = gw.empty() ? 253 /* RT_SCOPE_LINK */ : 0 /* RT_SCOPE_UNIVERSE */;
    return r;
}

} // namespace alopex::linkd
