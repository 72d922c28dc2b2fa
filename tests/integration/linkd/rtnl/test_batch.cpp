// SPDX-License-Identifier: GPL-2.0-or-later
// Batches: one failing request among good ones, requests refused before sending, and
// 1,000 addresses in one run().
#include <catch2/catch.hpp>

#include <set>

#include "ip_json.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::linkd::rtnl;
using namespace alopex::linkd::rtnl::itest;
namespace {
alopex::net::Address addr_of(std::string_view text) { return alopex::test::ip(text); }
} // namespace

TEST_CASE("A failing request in a batch reports its own error; the others succeed", "[kernel][batch]")
{
    require_private_netns();
    ok(create({.name = "rtb0", .kind = NetdevKind::Veth, .peer = "rtb1"}));
    int idx = ifindex("rtb0");
    auto a = [&](const char *ip4) {
        return AddressSpec{.ifindex = idx, .family = AF_INET, .address = addr_of(ip4), .prefixlen = 24};
    };
    auto res = run({addr(Request::Op::AddAddress, a("192.0.2.1"), "first"),
                    addr(Request::Op::AddAddress, a("192.0.2.1"), "duplicate"),
                    addr(Request::Op::AddAddress, a("2001:db8::1"), "wrong family"),   // refused by build()
                    addr(Request::Op::AddAddress, a("192.0.2.2"), "second"),
                    addr(Request::Op::AddAddress,
                         {.ifindex = 999999, .family = AF_INET, .address = addr_of("192.0.2.3"), .prefixlen = 24},
                         "no such link"),
                    addr(Request::Op::AddAddress, a("192.0.2.4"), "third")});
    REQUIRE(res.size() == 6);
    CHECK(res[0]);
    REQUIRE_FALSE(res[1]);
    CHECK(res[1].error().code == EEXIST);
    CHECK(res[1].error().message.rfind("duplicate: ", 0) == 0);
    REQUIRE_FALSE(res[2]);
    CHECK(res[2].error().code == EINVAL);
    CHECK(res[2].error().message.rfind("wrong family: address: ", 0) == 0);
    CHECK(res[3]);
    REQUIRE_FALSE(res[4]);
    CHECK(res[4].error().code == ENODEV);
    CHECK(res[4].error().message.rfind("no such link: ", 0) == 0);
    CHECK(res[5]);

    std::set<std::string> got;
    for (const auto &ad : addresses("rtb0"))
        got.insert(ad["local"].get<std::string>());
    CHECK(got == std::set<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.4"});
    ok(del_link(idx));
}

TEST_CASE("1,000 address adds and removals, each in one run()", "[kernel][batch]")
{
    require_private_netns();
    ok(create({.name = "rtk0", .kind = NetdevKind::Veth, .peer = "rtk1"}));
    int idx = ifindex("rtk0");
    std::vector<Request> adds, dels;
    std::set<std::string> want;
    for (int i = 0; i < 1000; ++i) {
        auto text = fmt::format("10.{}.{}.{}", 64 + i / 250, i % 250, 1 + i % 7);
        AddressSpec s{.ifindex = idx, .family = AF_INET, .address = addr_of(text), .prefixlen = 32};
        adds.push_back(addr(Request::Op::AddAddress, s));
        dels.push_back(addr(Request::Op::RemoveAddress, s));
        want.insert(text);
    }
    REQUIRE(want.size() == 1000);
    auto res = run(adds);
    size_t failed = 0;
    for (auto &r : res)
        failed += !r;
    CHECK(failed == 0);
    std::set<std::string> got;
    for (const auto &ad : addresses("rtk0"))
        got.insert(ad["local"].get<std::string>());
    CHECK(got == want);

    res = run(dels);
    failed = 0;
    for (auto &r : res)
        failed += !r;
    CHECK(failed == 0);
    CHECK(addresses("rtk0").empty());
    ok(del_link(idx));
}
