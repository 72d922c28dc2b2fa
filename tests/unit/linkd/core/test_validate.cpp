// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "net_test.hpp"
#include "validate.hpp"

using namespace alopex;
using namespace alopex::linkd;
using alopex::test::pfx;

namespace {
// The error is InvalidArgument and its message starts with the argument's name.
template <typename T> void refused(const Result<T> &r, std::string_view arg)
{
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().bus_name == bus_error::InvalidArgument);
    CHECK(r.error().message.starts_with(std::string(arg) + ": "));
}
} // namespace

TEST_CASE("parse_network: no host bits; default per family")
{
    CHECK(parse_network("198.51.100.0/24", "to") == pfx("198.51.100.0/24"));
    CHECK(parse_network("default", "to") == pfx("0.0.0.0/0"));
    CHECK(parse_network("default", "to", AF_INET6) == pfx("::/0"));
    CHECK(parse_network("2001:db8::/32", "to").has_value());
    refused(parse_network("198.51.100.1/24", "to"), "to");
    CHECK(parse_network("198.51.100.1/24", "to").error().message ==
          "to: '198.51.100.1/24' has host bits set (the network is 198.51.100.0/24)");
    refused(parse_network("2001:db8::1/32", "to"), "to");
    refused(parse_network("198.51.100.0/33", "to"), "to");
    refused(parse_network("", "to"), "to");
    refused(parse_network("Default", "to"), "to");
    refused(parse_network(std::string("1.2.3.0\0/24", 11), "to"), "to");
    CHECK(parse_network("198.51.100.1", "to") == pfx("198.51.100.1/32"));   // a host route
}

TEST_CASE("simple checks name their argument")
{
    refused(check_ifindex(0), "ifindex");
    refused(check_ifindex(-3), "ifindex");
    CHECK(check_ifindex(1).has_value());
    refused(check_ifname("", "name"), "name");
    refused(check_ifname("0123456789abcdef", "name"), "name");
    refused(check_ifname("a/b", "name"), "name");
    refused(check_ifname("a b", "name"), "name");
    refused(check_ifname("a:1", "name"), "name");
    CHECK(check_ifname("0123456789abcde", "name").has_value());
    refused(check_mtu(67), "mtu");
    refused(check_mtu(65536), "mtu");
    CHECK(check_mtu(1500).has_value());
    CHECK(check_zone("").has_value());
    CHECK(check_zone("wan-1.a_b").has_value());
    refused(check_zone("a b"), "zone");
    refused(check_zone(std::string(33, 'z')), "zone");
    refused(check_zone("z\n"), "zone");
}

TEST_CASE("parse_mac and kinds")
{
    CHECK(parse_mac("02:00:00:00:00:01", "mac") == net::Mac::eui48({2, 0, 0, 0, 0, 1}));
    CHECK(parse_mac("0A:bB:cc:dd:ee:ff", "mac").has_value());
    refused(parse_mac("01:00:00:00:00:01", "mac"), "mac");     // multicast
    CHECK(parse_mac("01:00:00:00:00:01", "mac").error().message == "mac: 01:00:00:00:00:01 is a multicast address");
    refused(parse_mac("00:00:00:00:00:00", "mac"), "mac");
    refused(parse_mac("02:00:00:00:00", "mac"), "mac");
    refused(parse_mac("02-00-00-00-00-01", "mac"), "mac");
    refused(parse_mac("02:00:00:00:00:0g", "mac"), "mac");
    refused(parse_mac("02:00:00:00:00:+1", "mac"), "mac");
    CHECK(parse_kind("bridge") == rtnl::NetdevKind::Bridge);
    CHECK(parse_kind("bond") == rtnl::NetdevKind::Bond);
    refused(parse_kind("dummy"), "kind");
    refused(parse_kind(""), "kind");
    CHECK(valid_bond_mode("802.3ad"));
    CHECK_FALSE(valid_bond_mode("round-robin"));
}

TEST_CASE("route_spec: families, gateway, table and scope")
{
    auto r = route_spec("198.51.100.0/24", "192.0.2.254", 3, 100, 0);
    REQUIRE(r);
    CHECK(r->family == AF_INET);
    CHECK(r->dst == alopex::test::ip("198.51.100.0"));
    CHECK(r->dst_len == 24);
    CHECK(r->gateway == alopex::test::ip("192.0.2.254"));
    CHECK(r->oif == 3);
    CHECK(r->metric == 100);
    CHECK(r->table == 254);
    CHECK(r->scope == 0);
    auto d6 = route_spec("default", "fe80::1", 2, 0, 100);
    REQUIRE(d6);
    CHECK(d6->family == AF_INET6);
    CHECK(d6->dst == alopex::test::ip("::"));
    CHECK(d6->table == 100);
    auto onlink = route_spec("203.0.113.0/24", "", 4, 0, 0);
    REQUIRE(onlink);
    CHECK(onlink->scope == 253);   // RT_SCOPE_LINK
    refused(route_spec("198.51.100.0/24", "2001:db8::1", 3, 0, 0), "via");
    refused(route_spec("198.51.100.0/24", "nope", 3, 0, 0), "via");
    refused(route_spec("198.51.100.1/24", "", 3, 0, 0), "to");
    refused(route_spec("198.51.100.0/24", "", 0, 0, 0), "ifindex");
    refused(route_spec("198.51.100.0/24", "", -1, 0, 0), "ifindex");
    refused(route_spec("198.51.100.0/24", "", 3, 0, 255), "table");
    refused(route_spec("198.51.100.0/24", "", 3, 0, 253), "table");
    CHECK(route_spec("198.51.100.0/24", "192.0.2.1", 0, 0, 0).has_value());
}
