// SPDX-License-Identifier: GPL-2.0-or-later
// Runtime rules: which become set elements, their element ops, and that compile() places
// them exactly as element_shaped/runtime_ops say.
#include <catch2/catch.hpp>

#include <algorithm>

#include "model_util.hpp"
#include "render.hpp"

using namespace alopex::fwd;
using namespace alopex::fwd::test;

namespace {

RuntimeRule allow(uint64_t id, std::vector<PortRange> ports, AddrMatch from = {},
                  Verdict v = Verdict::accept, std::string zone = "wan")
{
    Rule r;
    r.proto = Proto::tcp;
    r.dport = std::move(ports);
    r.saddr = std::move(from);
    r.verdict = v;
    return runtime(id, std::move(zone), std::move(r));
}

} // namespace

TEST_CASE("element_shaped: the shape", "[runtime]")
{
    const std::vector<RuntimeRule> none;
    CHECK(compile::element_shaped(allow(1, {{80, 80}}), none));
    CHECK(compile::element_shaped(allow(1, {{80, 80}}, cidrs({"192.0.2.0/24", "2001:db8::/32"})), none));
    auto with = [&](auto f) {
        RuntimeRule r = allow(1, {{80, 80}});
        f(*r.rule);
        return compile::element_shaped(r, none);
    };
    CHECK(with([](Rule &r) { r.proto = Proto::udp; }));
    CHECK(with([](Rule &r) { r.verdict = Verdict::drop; }));
    CHECK(with([](Rule &r) { r.verdict = Verdict::reject; }));
    CHECK(with([](Rule &r) { r.counter = false; }));
    CHECK(!with([](Rule &r) { r.verdict = Verdict::reject; r.reject_with = RejectWith::tcp_reset; }));
    CHECK(!with([](Rule &r) { r.hook = Hook::forward; }));
    CHECK(!with([](Rule &r) { r.proto = Proto::any; r.dport.clear(); }));
    CHECK(!with([](Rule &r) { r.dport.clear(); }));
    CHECK(!with([](Rule &r) { r.sport = {{1, 1}}; }));
    CHECK(!with([](Rule &r) { r.daddr = cidrs({"10.0.0.1"}); }));
    CHECK(!with([](Rule &r) { r.saddr = named(AddrMatch::Kind::set, "x"); }));
    CHECK(!with([](Rule &r) { r.saddr = named(AddrMatch::Kind::zone, "wan"); }));
    CHECK(!with([](Rule &r) { r.ct_state = ct::new_; }));
    CHECK(!with([](Rule &r) { r.limit = RateLimit{1, 1, 1}; }));
    CHECK(!with([](Rule &r) { r.log = alopex::fwd::Log{"x", std::nullopt}; }));
    CHECK(!with([](Rule &r) { r.verdict.reset(); }));
    CHECK(!with([](Rule &r) { r.family = Family::ipv6; r.saddr = cidrs({"10.0.0.0/8"}); }));
    RuntimeRule fwd;
    fwd.id = 1;
    fwd.zone = "wan";
    fwd.forward = Forward{};
    CHECK(!compile::element_shaped(fwd, none));
}

TEST_CASE("element_shaped: overlaps with placed rules", "[runtime]")
{
    const std::vector<RuntimeRule> placed = {
        allow(1, {{80, 80}}, cidrs({"192.0.2.0/24"})),
        allow(2, {{1000, 2000}}, cidrs({"2001:db8::/32"})),
        allow(3, {{22, 22}}, {}, Verdict::drop),
    };
    auto shaped = [&](RuntimeRule r) { return compile::element_shaped(r, placed); };
    // Equal element.
    CHECK(!shaped(allow(9, {{80, 80}}, cidrs({"192.0.2.0/24"}))));
    // Contained / containing address ranges on the same port.
    CHECK(!shaped(allow(9, {{80, 80}}, cidrs({"192.0.2.7/32"}))));
    CHECK(!shaped(allow(9, {{80, 80}}, cidrs({"192.0.0.0/16"}))));
    CHECK(!shaped(allow(9, {{80, 80}})));   // any covers 192.0.2.0/24
    // Overlapping port ranges on overlapping addresses.
    CHECK(!shaped(allow(9, {{2000, 3000}}, cidrs({"2001:db8:1::/48"}))));
    CHECK(!shaped(allow(9, {{79, 81}}, cidrs({"192.0.2.128/25"}))));
    // Disjoint in one dimension is fine.
    CHECK(shaped(allow(9, {{81, 81}}, cidrs({"192.0.2.0/24"}))));
    CHECK(shaped(allow(9, {{80, 80}}, cidrs({"192.0.3.0/24"}))));
    CHECK(shaped(allow(9, {{2001, 3000}}, cidrs({"2001:db8::/32"}))));
    // Same ranges in another family, protocol, verdict or zone: another set or key.
    CHECK(shaped(allow(9, {{80, 80}}, cidrs({"2001:db8::/32"}))));
    RuntimeRule udp = allow(9, {{80, 80}}, cidrs({"192.0.2.0/24"}));
    udp.rule->proto = Proto::udp;
    CHECK(shaped(udp));
    CHECK(shaped(allow(9, {{80, 80}}, cidrs({"192.0.2.0/24"}), Verdict::drop)));
    CHECK(shaped(allow(9, {{80, 80}}, cidrs({"192.0.2.0/24"}), Verdict::accept, "lan")));
    CHECK(!shaped(allow(9, {{22, 22}}, cidrs({"10.0.0.1"}), Verdict::drop)));
    // Its own elements never overlap each other (merged first).
    CHECK(compile::element_shaped(
        allow(9, {{80, 80}, {80, 90}, {85, 85}}, cidrs({"10.0.0.0/8", "10.1.0.0/16"})), {}));
}

TEST_CASE("runtime_ops: elements, timeouts, comments", "[runtime]")
{
    RuntimeRule r = allow(42, {{80, 80}, {443, 443}}, cidrs({"192.0.2.0/24", "2001:db8::/32"}));
    r.expires_at_us = 10'000'000;
    auto ops = compile::runtime_ops(r, true, 6'000'000);
    REQUIRE(ops.size() == 4);
    for (const auto &op : ops) {
        CHECK(op.kind == nft::ElementOp::Kind::add);
        CHECK(op.element.timeout_ms == 4000u);
        CHECK(op.element.comment == "rt:42");
        CHECK(op.element.origin == "runtime rule 42");
    }
    CHECK(ops[0].set == "wan_rt4_accept");
    CHECK(hex(ops[0].element.key) == "c0000200" "06000000" "00500000");
    CHECK(hex(ops[0].element.key_end) == "c00002ff" "06000000" "00500000");
    CHECK(ops[2].set == "wan_rt6_accept");
    CHECK(ops[2].element.key.size() == 24);
    // Rounding up; at least 1 ms; none without expiry.
    CHECK(compile::runtime_ops(r, true, 9'999'999)[0].element.timeout_ms == 1u);
    CHECK(compile::runtime_ops(r, true, 9'998'001)[0].element.timeout_ms == 2u);
    CHECK(compile::runtime_ops(r, true, 20'000'000)[0].element.timeout_ms == 1u);
    r.expires_at_us = 0;
    CHECK(!compile::runtime_ops(r, true, 5)[0].element.timeout_ms);
    // Removal: the same keys.
    auto rm = compile::runtime_ops(r, false, 0);
    REQUIRE(rm.size() == 4);
    CHECK(rm[1].kind == nft::ElementOp::Kind::remove);
    CHECK(rm[1].element.key == ops[1].element.key);
    CHECK(rm[1].element.key_end == ops[1].element.key_end);
    // Saddr any: the whole space of each family.
    auto any = compile::runtime_ops(allow(1, {{22, 22}}, {}, Verdict::drop), true, 0);
    REQUIRE(any.size() == 2);
    CHECK(any[0].set == "wan_rt4_drop");
    CHECK(hex(any[0].element.key) == "00000000" "06000000" "00160000");
    CHECK(hex(any[0].element.key_end) == "ffffffff" "06000000" "00160000");
    // Not element-shaped: nothing.
    RuntimeRule logged = allow(2, {{22, 22}});
    logged.rule->log = alopex::fwd::Log{"x", std::nullopt};
    CHECK(compile::runtime_ops(logged, true, 0).empty());
}

TEST_CASE("compile places runtime rules like element_shaped/runtime_ops", "[runtime]")
{
    Model m;
    add_zone(m, zone("wan", {"eth0"}));
    compile::Dynamic dyn;
    dyn.now_us = 1'000'000;
    dyn.runtime = {
        allow(1, {{80, 80}}, {}, Verdict::accept),
        allow(2, {{80, 80}}, cidrs({"192.0.2.0/24"})),       // overlaps 1: a rule
        allow(3, {{443, 443}}, cidrs({"10.0.0.0/8"}), Verdict::reject),
        allow(4, {{22, 22}}),
    };
    dyn.runtime[3].rule->log = alopex::fwd::Log{"rt ", std::nullopt};   // not the shape
    dyn.runtime[0].expires_at_us = 3'000'000;
    auto rs = compile::compile(m, dyn);
    REQUIRE(rs);

    std::vector<RuntimeRule> placed;
    std::map<std::string, std::vector<nft::Element>> expect;
    for (const auto &r : dyn.runtime)
        if (compile::element_shaped(r, placed)) {
            placed.push_back(r);
            for (auto &op : compile::runtime_ops(r, true, dyn.now_us))
                expect[op.set].push_back(op.element);
        }
    REQUIRE(placed.size() == 2);
    CHECK(placed[0].id == 1);
    CHECK(placed[1].id == 3);
    for (const auto &s : rs->sets) {
        if (!s.timeout)
            continue;
        const auto &want = expect[s.name];
        REQUIRE(s.elements.size() == want.size());
        for (size_t i = 0; i < want.size(); ++i) {
            CHECK(s.elements[i].key == want[i].key);
            CHECK(s.elements[i].key_end == want[i].key_end);
            CHECK(s.elements[i].timeout_ms == want[i].timeout_ms);
            CHECK(s.elements[i].comment == want[i].comment);
        }
    }
    CHECK(find_set(*rs, "wan_rt4_accept")->elements.at(0).timeout_ms == 2000u);

    // Rules 2 and 4 are rules, in order, before the runtime lookups, with counters.
    auto in = chain_rules(*rs, "wan_input");
    std::vector<std::string> origins;
    for (auto *r : in)
        origins.push_back(r->origin);
    auto pos = [&](const std::string &o) {
        return std::find(origins.begin(), origins.end(), o) - origins.begin();
    };
    CHECK(pos("runtime rule 2") < pos("runtime rule 4"));
    CHECK(pos("runtime rule 4") < pos("zone wan runtime rules"));
    CHECK(std::count(origins.begin(), origins.end(), "runtime rule 2") == 1);   // v4 only
    CHECK(std::count(origins.begin(), origins.end(), "runtime rule 4") == 1);   // no family
    CHECK(std::find(rs->counters.begin(), rs->counters.end(), "rt.2") != rs->counters.end());
    CHECK(std::find(rs->counters.begin(), rs->counters.end(), "rt.1") == rs->counters.end());
    for (auto *r : in)
        if (r->origin == "runtime rule 2")
            CHECK(render(*r).find("objref type 1 name rt.2") != std::string::npos);
}

TEST_CASE("runtime forwards", "[runtime]")
{
    Model m;
    add_zone(m, zone("wan", {"eth0"}));
    compile::Dynamic dyn;
    RuntimeRule f;
    f.id = 5;
    f.zone = "wan";
    f.forward = Forward{Proto::tcp, {{8080, 8080}}, {}, host("10.1.0.5"), 80, "web"};
    dyn.runtime.push_back(f);
    auto rs = compile::compile(m, dyn);
    REQUIRE(rs);
    auto dn = chain_rules(*rs, "wan_dnat");
    REQUIRE(dn.size() == 1);
    CHECK(dn[0]->origin == "runtime rule 5");
    auto fw = chain_rules(*rs, "wan_forward");
    REQUIRE(fw.size() == 3);   // entry, the accept, policy
    CHECK(fw[1]->origin == "runtime rule 5");
    CHECK(render(*fw[1]).find("ct load status") != std::string::npos);
}

TEST_CASE("a rule that became a rule does not block later ones", "[runtime]")
{
    // 2 overlaps 1 (a rule); 3 overlaps only 2, so it is placed as elements: callers of
    // element_shaped pass only the rules that were placed, as compile() does.
    Model m;
    add_zone(m, zone("wan", {"eth0"}));
    compile::Dynamic dyn;
    dyn.runtime = {allow(1, {{80, 80}}, cidrs({"192.0.2.0/25"})),
                   allow(2, {{80, 80}}, cidrs({"192.0.2.0/24"})),
                   allow(3, {{80, 80}}, cidrs({"192.0.2.200/32"}))};
    CHECK(!compile::element_shaped(dyn.runtime[1], {dyn.runtime[0]}));
    CHECK(compile::element_shaped(dyn.runtime[2], {dyn.runtime[0]}));
    auto rs = compile::compile(m, dyn);
    REQUIRE(rs);
    const nft::Set *s = find_set(*rs, "wan_rt4_accept");
    REQUIRE(s->elements.size() == 2);
    CHECK(s->elements[1].comment == "rt:3");
    auto in = chain_rules(*rs, "wan_input");
    CHECK(std::count_if(in.begin(), in.end(), [](auto *r) { return r->origin == "runtime rule 2"; }) == 1);
}
