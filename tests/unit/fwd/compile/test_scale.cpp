// SPDX-License-Identifier: GPL-2.0-or-later
// Scale (10,000 rules, 100,000-element sets, 1,000 zones) and hostile models. No timing
// assertions: the sizes are large enough that quadratic work would show as a hung test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

#include "model_util.hpp"
#include "render.hpp"

using namespace alopex::fwd;
using namespace alopex::fwd::test;

namespace {

alopex::net::Prefix v4(uint32_t a, uint8_t prefix)
{
    alopex::net::Prefix c(alopex::net::Address::v4(a), prefix);
    return c;
}

// ALOPEX_FWD_COMPILE_TIMING=1 prints how long a compile took (for the report, not a test).
template <typename F> auto timed(const char *what, F f)
{
    timespec c0{}, c1{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = f();
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    const double cpu = double(c1.tv_sec - c0.tv_sec) * 1e3 + double(c1.tv_nsec - c0.tv_nsec) / 1e6;
    if (std::getenv("ALOPEX_FWD_COMPILE_TIMING"))
        std::fprintf(stderr, "%s: %.1f ms (cpu %.1f ms)\n", what, ms.count(), cpu);
    return r;
}

} // namespace

TEST_CASE("10,000 rules", "[scale]")
{
    Model m;
    m.sets["big"] = NamedSet{"big", {cidr("10.0.0.0/8"), cidr("2001:db8::/32")}};
    Zone z = zone("wan", {"eth0"});
    for (uint32_t i = 0; i < 10000; ++i) {
        Rule r = tcp_accept(uint16_t(1 + i % 60000));
        r.counter = true;
        switch (i % 4) {
        case 0: r.saddr = cidrs({"192.0.2.0/24"}); break;
        case 1: r.saddr = named(AddrMatch::Kind::set, "big"); break;
        case 2: r.dport = {{1, 2}, {4, 5}}; break;
        case 3: r.daddr = named(AddrMatch::Kind::zone, "wan"); break;
        }
        z.rules.push_back(std::move(r));
    }
    add_zone(m, std::move(z));
    auto rs = timed("10k rules", [&] { return compile::compile(m, {}); });
    REQUIRE(rs);
    CHECK(rs->counters.size() == 1 + 6 + 10000);
    // 2500 one-family + 2500 x 2 + 2500 + 2500 x 2 (zone sets have both families)
    CHECK(chain_rules(*rs, "wan_input").size() == 1 + 2500 + 5000 + 2500 + 5000 + 6 + 1);
}

TEST_CASE("100,000-element sets", "[scale]")
{
    Model m;
    add_zone(m, zone("wan", {"eth0"}));
    NamedSet big{"big", {}};
    for (uint32_t i = 0; i < 100000; ++i)   // every other /32 apart: nothing merges
        big.cidrs.push_back(v4(0x0a000000u + 2 * (99999 - i), 32));
    big.cidrs.push_back(v4(0x0b000000u, 24));
    m.sets["big"] = std::move(big);
    compile::Dynamic dyn;
    for (uint32_t i = 0; i < 100000; ++i)
        dyn.zone_addresses["wan"].push_back(alopex::net::Address::v4(0xac100000u + i));
    auto rs = timed("100k+100k elements", [&] { return compile::compile(m, dyn); });
    REQUIRE(rs);
    const nft::Set *s = find_set(*rs, "set_big4");
    REQUIRE(s);
    REQUIRE(s->elements.size() == 100001);
    CHECK(std::is_sorted(s->elements.begin(), s->elements.end(),
                         [](const nft::Element &a, const nft::Element &b) { return a.key < b.key; }));
    CHECK(find_set(*rs, "wan_addr4")->elements.size() == 100000);
}

TEST_CASE("many runtime rules", "[scale]")
{
    Model m;
    add_zone(m, zone("wan", {"eth0"}));
    compile::Dynamic dyn;
    for (uint32_t i = 0; i < 2000; ++i) {
        Rule r = tcp_accept(uint16_t(1 + i));
        r.saddr.kind = AddrMatch::Kind::cidrs;
        r.saddr.cidrs = {v4(0x0a000000u + (i << 8), 24)};
        dyn.runtime.push_back(runtime(i + 1, "wan", r));
    }
    auto rs = timed("2000 runtime rules", [&] { return compile::compile(m, dyn); });
    REQUIRE(rs);
    CHECK(find_set(*rs, "wan_rt4_accept")->elements.size() == 2000);
}

TEST_CASE("1,000 zones, names at the maximum length, empty zones", "[scale]")
{
    Model m;
    compile::Dynamic dyn;
    for (int i = 0; i < 1000; ++i) {
        char name[21];
        std::snprintf(name, sizeof name, "zone-%015d", i);   // 20 bytes
        Zone z = zone(name, {fmt::format("if{}", i)});
        if (i % 2)
            z.rules.push_back(tcp_accept(22));
        add_zone(m, std::move(z));
        dyn.interfaces[fmt::format("if{}", i)] = name;
    }
    m.sets[std::string(20, 's')] = NamedSet{std::string(20, 's'), {cidr("10.0.0.0/8")}};
    auto rs = timed("1000 zones", [&] { return compile::compile(m, dyn); });
    REQUIRE(rs);
    CHECK(rs->chains.size() == 5 + 4000);
    CHECK(find_set(*rs, "input_zones")->elements.size() == 1000);
    CHECK(find_set(*rs, "set_" + std::string(20, 's') + "4"));

    // No zones at all: base chains, the prologue, empty maps.
    auto empty = compile::compile(Model{}, {});
    REQUIRE(empty);
    CHECK(empty->chains.size() == 5);
    CHECK(chain_rules(*empty, "input").size() == 6);
}

TEST_CASE("hostile models are refused, not compiled into nonsense", "[scale]")
{
    auto refused = [](Model m) { return !compile::compile(m, {}).has_value(); };
    Model m;
    add_zone(m, zone(std::string(21, 'z')));
    CHECK(refused(m));
    m = {};
    add_zone(m, zone("bad name"));
    CHECK(refused(m));
    m = {};
    add_zone(m, zone("ok"));
    m.zones.at("ok").name = "other";   // key and name disagree
    CHECK(refused(m));
    m = {};
    add_zone(m, zone("a"));
    m.sets["x:y"] = NamedSet{"x:y", {}};
    CHECK(refused(m));
    // zone_order naming unknown or repeated zones is harmless.
    m = {};
    add_zone(m, zone("a"));
    m.zone_order = {"nosuch", "a", "a"};
    auto rs = compile::compile(m, {});
    REQUIRE(rs);
    CHECK(rs->chains.size() == 5 + 4);
    // A prefix beyond its family's length is capped (by net::Prefix), not overread.
    m = {};
    Zone z = zone("a");
    Rule r = tcp_accept(1);
    r.saddr.kind = AddrMatch::Kind::cidrs;
    alopex::net::Prefix c(host("10.0.0.1"), 200);
    CHECK(c.length() == 32);
    r.saddr.cidrs = {c, cidr("10.0.0.2")};
    z.rules.push_back(r);
    add_zone(m, std::move(z));
    CHECK(compile::compile(m, {}).has_value());
}
