// SPDX-License-Identifier: GPL-2.0-or-later
// Addresses and routes made through rtnl::AsyncClient, checked with `ip -j addr` / `ip -j route`.
#include <catch2/catch.hpp>

#include <linux/rtnetlink.h>

#include "ip_json.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::linkd::rtnl;
using namespace alopex::linkd::rtnl::itest;
namespace {
alopex::net::Address addr_of(std::string_view text) { return alopex::test::ip(text); }
} // namespace

namespace {

// A veth pair, both ends up, so routes through it are not "linkdown".
int up_pair(const std::string &a, const std::string &b)
{
    ok(create({.name = a, .kind = NetdevKind::Veth, .peer = b}));
    ok(set({.ifindex = ifindex(b), .up = true}));
    ok(set({.ifindex = ifindex(a), .up = true}));
    return ifindex(a);
}

json find_addr(const std::string &dev, const std::string &local)
{
    for (const auto &a : addresses(dev))
        if (a["local"] == local)
            return a;
    return nullptr;
}

json find_route(const std::string &args, const std::string &dst)
{
    for (const auto &r : ip(args))
        if (r["dst"] == dst)
            return r;
    return nullptr;
}

} // namespace

TEST_CASE("IPv4 and IPv6 addresses with lifetimes, added and removed", "[kernel][addr]")
{
    require_private_netns();
    int idx = up_pair("rtad0", "rtad1");
    AddressSpec v4{.ifindex = idx, .family = AF_INET, .address = addr_of("192.0.2.10"), .prefixlen = 24,
                   .valid_lft = 600, .preferred_lft = 300};
    AddressSpec v6{.ifindex = idx, .family = AF_INET6, .address = addr_of("2001:db8::10"), .prefixlen = 64,
                   .valid_lft = 900, .preferred_lft = 800, .noprefixroute = true, .nodad = true};
    AddressSpec plain{.ifindex = idx, .family = AF_INET, .address = addr_of("198.18.0.1"), .prefixlen = 31};
    auto res = run({addr(Request::Op::AddAddress, v4), addr(Request::Op::AddAddress, v6),
                    addr(Request::Op::AddAddress, plain)});
    for (auto &r : res) {
        INFO((r ? std::string() : r.error().message));
        CHECK(r);
    }

    auto a = find_addr("rtad0", "192.0.2.10");
    REQUIRE(a.is_object());
    CHECK(a["family"] == "inet");
    CHECK(a["prefixlen"] == 24);
    CHECK(a["broadcast"] == "192.0.2.255");
    CHECK(a["valid_life_time"].get<int>() <= 600);
    CHECK(a["valid_life_time"].get<int>() > 500);
    CHECK(a["preferred_life_time"].get<int>() <= 300);
    CHECK(a["preferred_life_time"].get<int>() > 200);

    auto b = find_addr("rtad0", "2001:db8::10");
    REQUIRE(b.is_object());
    CHECK(b["prefixlen"] == 64);
    CHECK(b.value("nodad", false));
    CHECK(b.value("noprefixroute", false));
    CHECK(b["valid_life_time"].get<int>() > 800);
    CHECK(b["preferred_life_time"].get<int>() <= 800);
    CHECK(find_route("-6 route show dev rtad0", "2001:db8::/64").is_null());   // noprefixroute

    auto c = find_addr("rtad0", "198.18.0.1");
    REQUIRE(c.is_object());
    CHECK_FALSE(c.contains("broadcast"));                                    // /31
    CHECK(c["valid_life_time"] == 4294967295u);

    res = run({addr(Request::Op::RemoveAddress, v4), addr(Request::Op::RemoveAddress, v6),
               addr(Request::Op::RemoveAddress, plain)});
    for (auto &r : res)
        CHECK(r);
    CHECK(find_addr("rtad0", "192.0.2.10").is_null());
    CHECK(find_addr("rtad0", "2001:db8::10").is_null());
    CHECK(find_addr("rtad0", "198.18.0.1").is_null());

    auto again = run({addr(Request::Op::RemoveAddress, v4, "remove v4")});
    REQUIRE_FALSE(again[0]);
    CHECK(again[0].error().code == EADDRNOTAVAIL);
    CHECK(again[0].error().message.rfind("remove v4: ", 0) == 0);
    ok(del_link(idx));
}

TEST_CASE("Routes: gateway, metric, table 100, onlink, scope link, MTU, replace, remove", "[kernel][route]")
{
    require_private_netns();
    int idx = up_pair("rtro0", "rtro1");
    ok(addr(Request::Op::AddAddress,
            {.ifindex = idx, .family = AF_INET, .address = addr_of("192.0.2.10"), .prefixlen = 24}));
    ok(addr(Request::Op::AddAddress,
            {.ifindex = idx, .family = AF_INET6, .address = addr_of("2001:db8::10"), .prefixlen = 64, .nodad = true}));

    RouteSpec gw{.family = AF_INET, .dst = addr_of("198.51.100.0"), .dst_len = 24, .gateway = addr_of("192.0.2.254"),
                 .prefsrc = addr_of("192.0.2.10"), .oif = idx, .table = 100, .metric = 100};
    RouteSpec onlink{.family = AF_INET, .dst = addr_of("203.0.113.0"), .dst_len = 24, .gateway = addr_of("10.9.9.9"),
                     .oif = idx,
                     .onlink = true};
    RouteSpec scope_link{.family = AF_INET, .dst = addr_of("10.20.0.0"), .dst_len = 16, .oif = idx,
                         .scope = RT_SCOPE_LINK};
    RouteSpec mtu{.family = AF_INET, .dst = addr_of("10.30.0.0"), .dst_len = 16, .gateway = addr_of("192.0.2.254"),
                  .oif = idx,
                  .metric = 7, .mtu = 1300};
    RouteSpec v6{.family = AF_INET6, .dst = addr_of("2001:db8:1::"), .dst_len = 48, .gateway = addr_of("2001:db8::1"),
                 .oif = idx,
                 .table = 100, .metric = 200};
    RouteSpec dflt{.family = AF_INET, .gateway = addr_of("192.0.2.1"), .oif = idx, .table = 1000};
    std::vector<Request> adds;
    for (auto *s : {&gw, &onlink, &scope_link, &mtu, &v6, &dflt})
        adds.push_back(route(Request::Op::AddRoute, *s));
    auto res = run(adds);
    for (auto &r : res) {
        INFO((r ? std::string() : r.error().message));
        CHECK(r);
    }

    auto r = find_route("route show table 100", "198.51.100.0/24");
    REQUIRE(r.is_object());
    CHECK(r["gateway"] == "192.0.2.254");
    CHECK(r["dev"] == "rtro0");
    CHECK(r["metric"] == 100);
    CHECK(r["prefsrc"] == "192.0.2.10");
    CHECK(r["protocol"] == "static");
    CHECK(find_route("route show table main", "198.51.100.0/24").is_null());

    r = find_route("route show table main", "203.0.113.0/24");
    REQUIRE(r.is_object());
    CHECK(r["gateway"] == "10.9.9.9");
    CHECK(has_flag(r, "onlink"));

    r = find_route("route show table main", "10.20.0.0/16");
    REQUIRE(r.is_object());
    CHECK(r["scope"] == "link");
    CHECK_FALSE(r.contains("gateway"));

    r = find_route("route show table main", "10.30.0.0/16");
    REQUIRE(r.is_object());
    CHECK(r["metric"] == 7);
    REQUIRE(r.contains("metrics"));
    CHECK(r["metrics"][0]["mtu"] == 1300);

    r = find_route("-6 route show table 100", "2001:db8:1::/48");
    REQUIRE(r.is_object());
    CHECK(r["gateway"] == "2001:db8::1");
    CHECK(r["metric"] == 200);

    r = find_route("route show table 1000", "default");
    REQUIRE(r.is_object());
    CHECK(r["gateway"] == "192.0.2.1");

    // Add again: EEXIST. Replace: the gateway changes in place.
    auto dup = run({route(Request::Op::AddRoute, gw, "route again")});
    REQUIRE_FALSE(dup[0]);
    CHECK(dup[0].error().code == EEXIST);
    CHECK(dup[0].error().message.rfind("route again: ", 0) == 0);
    RouteSpec gw2 = gw;
    gw2.gateway = addr_of("192.0.2.253");
    ok(route(Request::Op::ReplaceRoute, gw2));
    r = find_route("route show table 100", "198.51.100.0/24");
    REQUIRE(r.is_object());
    CHECK(r["gateway"] == "192.0.2.253");
    CHECK(ip("route show table 100").size() == 1);

    // A removal that names another protocol leaves the route alone.
    RouteSpec other = gw2;
    other.protocol = RTPROT_DHCP;
    CHECK_FALSE(run({route(Request::Op::RemoveRoute, other)})[0]);
    CHECK(find_route("route show table 100", "198.51.100.0/24").is_object());

    std::vector<Request> dels;
    for (auto *s : {&gw2, &onlink, &scope_link, &mtu, &v6, &dflt})
        dels.push_back(route(Request::Op::RemoveRoute, *s));
    for (auto &d : run(dels)) {
        INFO((d ? std::string() : d.error().message));
        CHECK(d);
    }
    for (auto [args, dst] : {std::pair{"route show table 100", "198.51.100.0/24"},
                             {"route show table main", "203.0.113.0/24"}, {"route show table main", "10.20.0.0/16"},
                             {"route show table main", "10.30.0.0/16"}, {"-6 route show table 100", "2001:db8:1::/48"},
                             {"route show table 1000", "default"}})
        CHECK(find_route(args, dst).is_null());
    ok(del_link(idx));
}
