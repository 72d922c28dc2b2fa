// SPDX-License-Identifier: GPL-2.0-or-later
// owned.json as hostile input: every field checked and bounded, nothing truncated into a
// different value, the text bounded; what linkd writes reads back equal.
#include <sys/socket.h>

#include <string>

#include <catch2/catch.hpp>

#include "net_test.hpp"
#include "owned.hpp"

using namespace alopex;
using namespace alopex::linkd::profile;
using alopex::test::ip;

namespace {

Owned sample()
{
    Owned o;
    o.netdevs = {"br0", "vx0"};
    o.addresses.insert({3, AF_INET, ip("192.0.2.10"), 24});
    o.addresses.insert({4, AF_INET6, ip("2001:db8::10"), 64});
    o.routes.insert({AF_INET, 254, ip("0.0.0.0"), 0, 0, 100, 3, 1});
    o.routes.insert({AF_INET6, 4294967295u, ip("2001:db8:1::"), 48, 0, 4294967295u, 4, 1});
    return o;
}

std::string doc(const std::string &netdevs, const std::string &addresses, const std::string &routes)
{
    return R"({"netdevs":[)" + netdevs + R"(],"addresses":[)" + addresses + R"(],"routes":[)" + routes + "]}";
}

} // namespace

TEST_CASE("owned.json: what linkd writes reads back equal")
{
    auto back = parse_owned(format_owned(sample()));
    REQUIRE(back);
    CHECK(*back == sample());
    auto empty = parse_owned(format_owned({}));
    REQUIRE(empty);
    CHECK(*empty == Owned{});
    // Addresses are normalized as the netlink parser writes them.
    auto n = parse_owned(doc("", R"([4,10,"2001:DB8:0::10",64])", ""));
    REQUIRE(n);
    CHECK(n->addresses.begin()->address == ip("2001:db8::10"));
}

TEST_CASE("owned.json: numbers out of range are refused, never truncated")
{
    const char *addresses[] = {
        R"([0,2,"192.0.2.1",24])",            // ifindex 0
        R"([-3,2,"192.0.2.1",24])",
        R"([2147483648,2,"192.0.2.1",24])",   // past int
        R"([3,258,"192.0.2.1",24])",          // 258 would be AF_INET as a uint8_t
        R"([3,7,"192.0.2.1",24])",            // no such family
        R"([3,2,"192.0.2.1",33])",
        R"([3,2,"192.0.2.1",280])",           // 280 would be 24 as a uint8_t
        R"([3,10,"2001:db8::1",129])",
        R"([3,2,"2001:db8::1",24])",          // address of the other family
        R"([3,2,"192.0.2.300",24])",
        R"([3,2,"192.0.2.1",24.5])",
        R"([3.0,2,"192.0.2.1",24])",
        R"([3,2,"192.0.2.1","24"])",
        R"([3,2,"192.0.2.1"])",
        R"([3,2,"192.0.2.1",24,0])",
        R"({"ifindex":3})",
        R"([3,2,null,24])",
        R"([18446744073709551615,2,"192.0.2.1",24])",
    };
    for (const char *a : addresses) {
        INFO(a);
        auto r = parse_owned(doc("", a, ""));
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("addresses[0]"));
    }
    const char *routes[] = {
        R"([2,4294967296,"0.0.0.0",0,0,0,3,1])",   // table past 32 bits
        R"([2,254,"0.0.0.0",0,256,0,3,1])",        // tos
        R"([2,254,"0.0.0.0",0,0,4294967296,3,1])", // priority
        R"([2,254,"0.0.0.0",0,0,0,-1,1])",         // oif
        R"([2,254,"0.0.0.0",0,0,0,3,256])",        // type
        R"([2,254,"0.0.0.0",33,0,0,3,1])",
        R"([2,254,"::",0,0,0,3,1])",
        R"([2,254,"",0,0,0,3,1])",
        R"([266,254,"0.0.0.0",0,0,0,3,1])",
        R"([2,254,"0.0.0.0",0,0,0,3])",
    };
    for (const char *rt : routes) {
        INFO(rt);
        auto r = parse_owned(doc("", "", rt));
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("routes[0]"));
    }
}

TEST_CASE("owned.json: names, shape and size")
{
    for (const char *n : {R"("")", R"("0123456789abcdef")", R"("a/b")", R"("..")", R"("a b")", R"(3)",
                          "\"a\\u0000b\"", "\"\\u00e9t0\"", R"(null)"}) {
        INFO(n);
        auto r = parse_owned(doc(n, "", ""));
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("netdevs[0]"));
    }
    for (const char *text : {"", "null", "[]", "{}", R"({"netdevs":[],"addresses":[]})",
                             R"({"netdevs":{},"addresses":[],"routes":[]})", "{\"netdevs\":[", "\xff\xfe",
                             R"({"netdevs":[],"addresses":[],"routes":[]} trailing)"})
        CHECK_FALSE(parse_owned(text));
    // Unknown members are ignored (a newer linkd may add some); duplicates collapse.
    auto r = parse_owned(R"({"netdevs":["br0","br0"],"addresses":[],"routes":[],"extra":1})");
    REQUIRE(r);
    CHECK(r->netdevs.size() == 1);
    // Bounded before parsing: a huge document is refused without being read.
    std::string big = doc("", "", "") + std::string(max_owned_file, ' ');
    CHECK_FALSE(parse_owned(big));
    // Deep nesting is an error, not a crash.
    std::string deep(100000, '[');
    CHECK_FALSE(parse_owned(deep));
    std::string deep_ok = doc("", std::string(5000, '[') + std::string(5000, ']'), "");
    CHECK_FALSE(parse_owned(deep_ok));
}
