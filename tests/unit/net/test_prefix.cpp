// SPDX-License-Identifier: GPL-2.0-or-later
// net::Prefix: interface-address and network forms, lengths, containment, order.
#include <set>

#include <catch2/catch.hpp>

#include "alopex/net.hpp"

using alopex::net::Address;
using alopex::net::Prefix;
using alopex::net::PrefixRules;

namespace {

Address ip(std::string_view s) { return Address::parse(s).value(); }
Prefix pfx(std::string_view s) { return Prefix::parse(s, "p").value(); }

std::string why(std::string_view text, PrefixRules rules = {}, std::string_view what = "to")
{
    auto r = Prefix::parse(text, what, rules);
    REQUIRE_FALSE(r);
    CHECK(r.error().bus_name == alopex::bus_error::InvalidArgument);
    return r.error().message;
}

} // namespace

TEST_CASE("Prefix keeps host bits unless asked for a network")
{
    auto p = pfx("192.0.2.10/24");
    CHECK(p.address() == ip("192.0.2.10"));
    CHECK(p.length() == 24);
    CHECK(p.family() == AF_INET);
    CHECK(p.to_string() == "192.0.2.10/24");
    CHECK(fmt::format("{}", p) == "192.0.2.10/24");
    CHECK(p.network().to_string() == "192.0.2.0/24");
    CHECK_FALSE(p.is_network());
    CHECK(p.last() == ip("192.0.2.255"));
    CHECK(pfx("2001:DB8::1/64").to_string() == "2001:db8::1/64");
    CHECK(pfx("2001:db8::1/64").network().to_string() == "2001:db8::/64");
    CHECK(pfx("0.0.0.0/0").is_network());
    CHECK(pfx("::/0").last() == ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    CHECK(pfx("10.1.2.3/32").is_host());
    CHECK(pfx("10.1.2.3/32").is_network());
    CHECK(pfx("10.1.2.3/13").network().to_string() == "10.0.0.0/13");
    CHECK(pfx("10.15.2.3/13").last() == ip("10.15.255.255"));
}

TEST_CASE("Prefix::parse_network refuses host bits and names the network")
{
    CHECK(Prefix::parse_network("198.51.100.0/24", "to")->to_string() == "198.51.100.0/24");
    CHECK(Prefix::parse_network("2001:db8::/32", "to").has_value());
    CHECK(why("198.51.100.1/24", {.network = true}) ==
          "to: '198.51.100.1/24' has host bits set (the network is 198.51.100.0/24)");
    CHECK(why("2001:db8::1/32", {.network = true}) ==
          "to: '2001:db8::1/32' has host bits set (the network is 2001:db8::/32)");
    CHECK(why("10.0.0.1/0", {.network = true}).ends_with("(the network is 0.0.0.0/0)"));
}

TEST_CASE("Prefix networks as a profile's route 'to' reads them")
{
    auto net = [](std::string_view t, bool zero = false) {
        return Prefix::parse_network(t, "to", {.zero_length = zero}).has_value();
    };
    CHECK_FALSE(net("192.0.2.10/24"));
    CHECK(net("192.0.2.0/24"));
    CHECK(net("2001:db8::/32"));
    CHECK_FALSE(net("2001:db8::1/32"));
    CHECK(net("2001:db8::1/128"));
    CHECK_FALSE(net("11.0.0.0/7"));
    CHECK(net("10.0.0.0/7"));
    CHECK(net("10.0.0.0/8"));
    CHECK(net("0.0.0.0/0", true));
    CHECK_FALSE(net("0.0.0.0/0"));
    for (auto bad : {"192.0.2.1", "192.0.2.1/33", "192.0.2.1/-1", "192.0.2.1/+8", "192.0.2.1/08", "192.0.2.1/",
                     "/24", "192.0.2.1/24/1", "2001:db8::/129", "x/8"})
        CHECK_FALSE(Prefix::parse(bad, "p"));
}

TEST_CASE("Prefix lengths: decimal, in range, no sign, no leading zeros")
{
    CHECK(why("192.0.2.1/33") == "to: '192.0.2.1/33' has a bad prefix length (0..32)");
    CHECK(why("2001:db8::1/129") == "to: '2001:db8::1/129' has a bad prefix length (0..128)");
    CHECK(why("192.0.2.1/-1").ends_with("bad prefix length (0..32)"));
    CHECK(why("192.0.2.1/+1").ends_with("bad prefix length (0..32)"));
    CHECK(why("192.0.2.1/").ends_with("bad prefix length (0..32)"));
    CHECK(why("192.0.2.1/024").ends_with("bad prefix length (0..32)"));
    CHECK(why("192.0.2.1/24x").ends_with("bad prefix length (0..32)"));
    CHECK(why("192.0.2.1/24/8").ends_with("bad prefix length (0..32)"));
    CHECK(why("192.0.2.1/ 24").ends_with("bad prefix length (0..32)"));
    CHECK(why("192.0.2.1/4294967320").ends_with("bad prefix length (0..32)"));
    CHECK(why(std::string("192.0.2.1/2\0", 12)).ends_with("bad prefix length (0..32)"));
    CHECK(why("192.0.2.1/0", {.zero_length = false}) == "to: '192.0.2.1/0' has a bad prefix length (1..32)");
    CHECK(pfx("192.0.2.1/0").length() == 0);
    CHECK(pfx("192.0.2.1/32").length() == 32);
    CHECK(pfx("::1/128").length() == 128);
}

TEST_CASE("Prefix address part: families, bare addresses, hints")
{
    CHECK(why("192.0.2.1") == "to: '192.0.2.1' has no prefix length (expected address/length, like 192.0.2.0/24)");
    CHECK(why("2001:db8::1").ends_with("like 2001:db8::/64)"));
    CHECK(Prefix::parse("192.0.2.1", "to", {.bare = true})->to_string() == "192.0.2.1/32");
    CHECK(Prefix::parse("2001:db8::1", "to", {.bare = true})->length() == 128);
    CHECK(why("2001:db8::1/64", {.family = AF_INET}, "ipv4.addresses[0]") ==
          "ipv4.addresses[0]: '2001:db8::1/64' is not an IPv4 prefix (it is an IPv6 address)");
    CHECK(why("192.0.2.1/24", {.family = AF_INET6}) == "to: '192.0.2.1/24' is not an IPv6 prefix (it is an IPv4 address)");
    CHECK(why("nope/24") == "to: 'nope/24' is not an IPv4 or IPv6 prefix");
    CHECK(why("nope", {.network = true, .bare = true}) == "to: 'nope' is not an IPv4 or IPv6 address or network");
    CHECK(why("fe80::1%eth0/64").ends_with("(a zone index is not allowed)"));
    CHECK(why("").ends_with("(it is empty)"));
    CHECK(why("/24").ends_with("(it is empty)"));
    CHECK(why(std::string(1000, '1') + "/8").size() < 200);
    CHECK(why(std::string("10.0.0.0\0/8", 11)).ends_with("(it contains a NUL byte)"));
}

TEST_CASE("Prefix containment")
{
    auto net = pfx("10.0.0.0/8");
    CHECK(net.contains(ip("10.255.1.2")));
    CHECK_FALSE(net.contains(ip("11.0.0.0")));
    CHECK_FALSE(net.contains(ip("::a00:1")));       // another family
    CHECK(net.contains(pfx("10.1.0.0/16")));
    CHECK(net.contains(net));
    CHECK_FALSE(net.contains(pfx("10.0.0.0/7")));   // wider
    CHECK_FALSE(pfx("10.1.0.0/16").contains(net));
    CHECK(pfx("::/0").contains(ip("2001:db8::1")));
    CHECK_FALSE(pfx("::/0").contains(ip("0.0.0.0")));
    CHECK(pfx("0.0.0.0/0").contains(ip("255.255.255.255")));
    CHECK(pfx("192.0.2.77/24").contains(ip("192.0.2.1")));   // host bits do not matter
    CHECK_FALSE(Prefix().contains(Address()));
}

TEST_CASE("Prefix construction caps the length; order puts a network before what it holds")
{
    CHECK(Prefix(ip("10.0.0.0"), 40).length() == 32);
    CHECK(Prefix(ip("::"), 200).length() == 128);
    CHECK(Prefix::host(ip("10.0.0.1")).to_string() == "10.0.0.1/32");
    CHECK(Prefix().to_string().empty());
    std::set<Prefix> s{pfx("10.1.0.0/16"), pfx("10.0.0.0/8"), pfx("::/0"), pfx("9.0.0.0/8")};
    std::vector<std::string> order;
    for (const auto &p : s)
        order.push_back(p.to_string());
    CHECK(order == std::vector<std::string>{"9.0.0.0/8", "10.0.0.0/8", "10.1.0.0/16", "::/0"});
    CHECK(std::hash<Prefix>{}(pfx("10.0.0.0/8")) != std::hash<Prefix>{}(pfx("10.0.0.0/9")));
    static_assert(std::is_trivially_copyable_v<Prefix>);
}
