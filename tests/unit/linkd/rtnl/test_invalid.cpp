// SPDX-License-Identifier: GPL-2.0-or-later
// Hostile and invalid specs: refused with EINVAL, the field named, the buffer untouched.
#include <catch2/catch.hpp>

#include <linux/rtnetlink.h>

#include "walk.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::linkd::rtnl;
using namespace alopex::linkd::rtnl::test;
using namespace alopex::test;

namespace {

void names_field(const Request &r, std::string_view field)
{
    auto e = refused(r);
    INFO("message: " << e.message);
    CHECK(e.message.rfind(std::string(field) + ": ", 0) == 0);
}

Request addr(AddressSpec a)
{
    Request r;
    r.op = Request::Op::AddAddress;
    r.address = std::move(a);
    return r;
}

Request route(RouteSpec s)
{
    Request r;
    r.op = Request::Op::AddRoute;
    r.route = std::move(s);
    return r;
}

Request netdev(NetdevSpec n)
{
    Request r;
    r.op = Request::Op::CreateNetdev;
    r.netdev = std::move(n);
    return r;
}

Request rename(std::string name)
{
    Request r;
    r.op = Request::Op::SetLink;
    r.link = {.ifindex = 1, .name = std::move(name)};
    return r;
}

} // namespace

TEST_CASE("Interface names the kernel would refuse", "[rtnl][invalid]")
{
    for (std::string bad : {std::string(), std::string(16, 'a'), std::string("a/b"), std::string("a b"),
                            std::string("a:b"), std::string("."), std::string(".."), std::string("a\tb"),
                            std::string("a\nb"), std::string("a\0b", 3), std::string("a\x7f")}) {
        CAPTURE(bad);
        CHECK_FALSE(check_ifname(bad));
        names_field(rename(bad), "name");
        names_field(netdev({.name = bad, .kind = NetdevKind::Bridge}), "name");
        names_field(netdev({.name = "ve0", .kind = NetdevKind::Veth, .peer = bad}), "peer");
    }
    for (std::string good : {std::string("eth0"), std::string(15, 'x'), std::string("br-lan"), std::string("vi100.0"),
                             std::string("..."), std::string("a.b"), std::string("é")})
        CHECK(check_ifname(good));
    names_field(netdev({.name = "ve0", .kind = NetdevKind::Veth, .peer = "ve0"}), "peer");
}

TEST_CASE("Addresses of another family than the request's, or none", "[rtnl][invalid]")
{
    // Text is parsed (and refused) where it enters linkd (alopex/net.hpp); the builders
    // check that each typed address fits the request.
    for (auto [fam, a] : {std::pair<uint8_t, net::Address>{AF_INET, ip("2001:db8::1")}, {AF_INET, ip("::ffff:10.0.0.1")},
                          {AF_INET6, ip("10.0.0.1")}}) {
        CAPTURE(a);
        names_field(addr({.ifindex = 1, .family = fam, .address = a, .prefixlen = 8}), "address");
        CHECK(refused(addr({.ifindex = 1, .family = fam, .address = a, .prefixlen = 8})).message.find(a.to_string()) !=
              std::string::npos);
        names_field(route({.family = fam, .dst = a, .dst_len = 8}), "dst");
        names_field(route({.family = fam, .gateway = a}), "gateway");
        names_field(route({.family = fam, .prefsrc = a}), "prefsrc");
    }
    // For routes an empty address means "none" (a default route, no gateway, no source).
    names_field(addr({.ifindex = 1, .family = AF_INET, .prefixlen = 8}), "address");
    names_field(addr({.ifindex = 1, .family = AF_PACKET, .address = ip("1.2.3.4")}), "family");
    names_field(route({.family = 0}), "family");
}

TEST_CASE("Prefixes, lifetimes and indexes out of range", "[rtnl][invalid]")
{
    names_field(addr({.ifindex = 1, .family = AF_INET, .address = ip("10.0.0.1"), .prefixlen = 33}), "prefixlen");
    names_field(addr({.ifindex = 1, .family = AF_INET6, .address = ip("::1"), .prefixlen = 129}), "prefixlen");
    CHECK(refused(addr({.ifindex = 1, .family = AF_INET6, .address = ip("::1"), .prefixlen = 129}))
              .message.find("129") != std::string::npos);
    names_field(addr({.ifindex = 0, .family = AF_INET, .address = ip("10.0.0.1")}), "ifindex");
    names_field(addr({.ifindex = -3, .family = AF_INET, .address = ip("10.0.0.1")}), "ifindex");
    names_field(addr({.ifindex = 1, .family = AF_INET, .address = ip("10.0.0.1"), .valid_lft = 0}), "valid_lft");
    names_field(addr({.ifindex = 1, .family = AF_INET, .address = ip("10.0.0.1"), .valid_lft = 10, .preferred_lft = 20}),
                "preferred_lft");
    std::vector<std::byte> ok;
    CHECK(build(addr({.ifindex = 1, .family = AF_INET, .address = ip("10.0.0.1"), .preferred_lft = 20}), 1, ok));
    names_field(route({.family = AF_INET, .dst = ip("10.0.0.0"), .dst_len = 33}), "dst_len");
    names_field(route({.family = AF_INET, .dst = ip("10.0.0.1"), .dst_len = 24}), "dst");
    names_field(route({.family = AF_INET6, .dst = ip("2001:db8::1"), .dst_len = 64}), "dst");
    names_field(route({.family = AF_INET, .dst_len = 8}), "dst");
    names_field(route({.family = AF_INET, .oif = -1}), "oif");
    names_field(route({.family = AF_INET, .table = 0}), "table");
    names_field(route({.family = AF_INET, .type = RTN_MAX + 1}), "type");
    names_field(route({.family = AF_INET, .mtu = 0}), "mtu");

    Request r;
    r.op = Request::Op::SetLink;
    r.link = {.ifindex = 0, .up = true};
    names_field(r, "ifindex");
    r.link = {.ifindex = 1, .mtu = 0};
    names_field(r, "mtu");
    r.link = {.ifindex = 1, .mac = Mac::eui48({1, 0, 0, 0, 0, 1})};
    names_field(r, "mac");
    r.link = {.ifindex = 1, .mac = Mac{}};
    names_field(r, "mac");
    r.link = {.ifindex = 1, .controller = -1};
    names_field(r, "controller");
    r.op = Request::Op::DeleteLink;
    r.ifindex = 0;
    names_field(r, "ifindex");
}

TEST_CASE("Netdev fields: VLAN id and parent, bond mode", "[rtnl][invalid]")
{
    for (uint16_t id : {0, 4095, 65535})
        names_field(netdev({.name = "v", .kind = NetdevKind::Vlan, .parent = 2, .vlan_id = id}), "vlan_id");
    names_field(netdev({.name = "v", .kind = NetdevKind::Vlan, .parent = 0, .vlan_id = 5}), "parent");
    for (std::string mode : {std::string("lacp"), std::string("7"), std::string("Active-Backup"), std::string(1000, 'x'),
                             std::string("1\0", 2)})
        names_field(netdev({.name = "bond0", .kind = NetdevKind::Bond, .bond_mode = mode}), "bond_mode");
    names_field(netdev({.name = "br0", .kind = NetdevKind::Bridge, .mtu = 0}), "mtu");
    names_field(netdev({.name = "br0", .kind = static_cast<NetdevKind>(9)}), "kind");
}
