// SPDX-License-Identifier: GPL-2.0-or-later
// Interval normalisation and element encodings.
#include <catch2/catch.hpp>

#include "compile/internal.hpp"
#include "model_util.hpp"
#include "render.hpp"

using namespace alopex::fwd;
using namespace alopex::fwd::test;
namespace d = alopex::fwd::compile::detail;

namespace {

// "first-last" per range, in the family's length.
std::vector<std::string> ranges(std::initializer_list<const char *> list, uint8_t family = AF_INET)
{
    std::vector<alopex::net::Prefix> v;
    for (const char *s : list)
        v.push_back(cidr(s));
    std::vector<std::string> out;
    const size_t len = family == AF_INET ? 4 : 16;
    for (const auto &r : d::merge_cidrs(v, family))
        out.push_back(hex(nft::Bytes(r.first.begin(), r.first.begin() + len)) + "-" +
                      hex(nft::Bytes(r.last.begin(), r.last.begin() + len)));
    return out;
}

using S = std::vector<std::string>;

} // namespace

TEST_CASE("CIDR lists become disjoint, non-adjacent ranges", "[sets]")
{
    CHECK(ranges({}) == S{});
    CHECK(ranges({"10.0.0.0/8"}) == S{"0a000000-0affffff"});
    // Adjacent halves merge; so do chains of them.
    CHECK(ranges({"10.0.0.0/25", "10.0.0.128/25"}) == S{"0a000000-0a0000ff"});
    CHECK(ranges({"10.0.2.0/24", "10.0.0.0/24", "10.0.1.0/24"}) == S{"0a000000-0a0002ff"});
    // Contained and duplicate networks vanish into the larger one.
    CHECK(ranges({"10.1.2.3/32", "10.0.0.0/8", "10.0.0.0/8", "10.200.0.0/16"}) ==
          S{"0a000000-0affffff"});
    // A gap of one address keeps them apart.
    CHECK(ranges({"10.0.0.0/32", "10.0.0.2/32"}) == S{"0a000000-0a000000", "0a000002-0a000002"});
    // Everything.
    CHECK(ranges({"0.0.0.0/0", "192.0.2.0/24"}) == S{"00000000-ffffffff"});
    CHECK(ranges({"192.0.2.0/24", "0.0.0.0/0"}) == S{"00000000-ffffffff"});
    // The top of the space: no wrap-around.
    CHECK(ranges({"255.255.255.255/32"}) == S{"ffffffff-ffffffff"});
    CHECK(ranges({"255.255.255.255/32", "255.255.255.254/32", "0.0.0.0/32"}) ==
          S{"00000000-00000000", "fffffffe-ffffffff"});
    CHECK(ranges({"255.255.255.0/24", "255.255.255.255/32"}) == S{"ffffff00-ffffffff"});
    // Other families are ignored.
    CHECK(ranges({"2001:db8::/32", "10.0.0.0/8"}) == S{"0a000000-0affffff"});
    // IPv6.
    CHECK(ranges({"::/0", "2001:db8::/32"}, AF_INET6) ==
          S{"00000000000000000000000000000000-ffffffffffffffffffffffffffffffff"});
    CHECK(ranges({"2001:db8::/33", "2001:db8:8000::/33"}, AF_INET6) ==
          S{"20010db8000000000000000000000000-20010db8ffffffffffffffffffffffff"});
    CHECK(ranges({"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "::/128"}, AF_INET6) ==
          S{"00000000000000000000000000000000-00000000000000000000000000000000",
            "ffffffffffffffffffffffffffffffff-ffffffffffffffffffffffffffffffff"});
    // Host bits beyond the prefix are masked even if a caller left them set.
    alopex::net::Prefix sloppy = cidr("10.0.0.1/8");
    auto r = d::merge_cidrs({sloppy}, AF_INET);
    REQUIRE(r.size() == 1);
    CHECK(hex(nft::Bytes(r[0].first.begin(), r[0].first.begin() + 4)) == "0a000000");
}

TEST_CASE("port lists merge", "[sets]")
{
    using P = std::vector<PortRange>;
    CHECK(d::merge_ports({}) == P{});
    CHECK(d::merge_ports({{80, 80}, {22, 22}, {81, 90}, {23, 23}}) == P{{22, 23}, {80, 90}});
    CHECK(d::merge_ports({{1, 65535}, {22, 22}}) == P{{1, 65535}});
    CHECK(d::merge_ports({{65535, 65535}, {65534, 65534}}) == P{{65534, 65535}});
    CHECK(d::merge_ports({{10, 20}, {15, 30}, {32, 40}}) == P{{10, 30}, {32, 40}});
}

TEST_CASE("named sets hold normalised intervals", "[sets]")
{
    Model m;
    add_zone(m, zone("z"));
    m.sets["n"] = NamedSet{"n", {cidr("192.0.2.0/25"), cidr("192.0.2.128/25"),
                                 cidr("2001:db8::/48"), cidr("2001:db8::/32")}};
    auto rs = compile::compile(m, {});
    REQUIRE(rs);
    const nft::Set *s4 = find_set(*rs, "set_n4");
    REQUIRE(s4);
    REQUIRE(s4->elements.size() == 1);
    CHECK(hex(s4->elements[0].key) == "c0000200");
    CHECK(hex(s4->elements[0].key_end) == "c00002ff");
    CHECK(s4->elements[0].origin == "set n");
    const nft::Set *s6 = find_set(*rs, "set_n6");
    REQUIRE(s6->elements.size() == 1);
    CHECK(hex(s6->elements[0].key_end) == "20010db8ffffffffffffffffffffffff");
}

TEST_CASE("element key encodings", "[sets]")
{
    // ifname: 16 bytes, zero padded.
    CHECK(hex(d::ifname_key("eth0")) == "65746830000000000000000000000000");
    CHECK(d::ifname_key("abcdefghijklmno").size() == 16);
    // Concatenations: each field padded to 4 bytes, network order (as nft: an element
    // 10.0.0.0/8 . tcp . 80 prints 0000000a 00000006 00005000).
    const uint8_t a4[4] = {10, 0, 0, 0};
    CHECK(hex(d::rt_key(AF_INET, a4, 6, 80)) == "0a000000" "06000000" "00500000");
    uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8};
    CHECK(hex(d::rt_key(AF_INET6, a6, 17, 0x1234)) ==
          "20010db8000000000000000000000000" "11000000" "12340000");

    // Rule-local port sets: single field, unpadded, intervals.
    Model m;
    Zone z = zone("z");
    z.rules.push_back(tcp_accept(22));
    z.rules.back().dport = {{22, 22}, {80, 81}};
    add_zone(m, std::move(z));
    auto rs = compile::compile(m, {});
    REQUIRE(rs);
    const nft::Set *p = find_set(*rs, "z_r0_dport");
    REQUIRE(p);
    CHECK(p->interval);
    CHECK(p->key == std::vector<nft::DataType>{nft::DataType::inet_service});
    REQUIRE(p->elements.size() == 2);
    CHECK(hex(p->elements[0].key) == "0016");
    CHECK(hex(p->elements[0].key_end) == "0016");
    CHECK(hex(p->elements[1].key) == "0050");
    CHECK(hex(p->elements[1].key_end) == "0051");
    CHECK(p->elements[0].origin == "zone z rule 1");
}
