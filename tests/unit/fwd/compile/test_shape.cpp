// SPDX-License-Identifier: GPL-2.0-or-later
// The shape of the table: chains, sets, maps, counters, panic, zone_of, element moves.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>

#include "model_util.hpp"
#include "render.hpp"

using namespace alopex::fwd;
using namespace alopex::fwd::test;
using compile::CounterId;

namespace {

Model two_zones()
{
    Model m;
    Zone wan = zone("wan", {"eth0", "wwan*"});
    wan.masquerade = true;
    wan.rules.push_back(tcp_accept(22));
    wan.rules.back().comment = "ssh";
    wan.rules.back().counter = true;
    Zone lan = zone("lan", {"eth*", "br0"});
    lan.input = Verdict::accept;
    lan.forward = Verdict::reject;
    add_zone(m, std::move(wan));
    add_zone(m, std::move(lan));
    return m;
}

bool has_counter(const nft::Ruleset &rs, const std::string &n)
{
    return std::find(rs.counters.begin(), rs.counters.end(), n) != rs.counters.end();
}

std::vector<std::string> elements(const nft::Set &s)
{
    std::vector<std::string> v;
    for (const auto &e : s.elements) {
        std::string k(e.key.begin(), e.key.end());
        k = k.c_str();   // ifname keys: up to the padding
        if (e.verdict)
            k += " -> " + e.verdict->chain;
        v.push_back(k);
    }
    std::sort(v.begin(), v.end());
    return v;
}

} // namespace

TEST_CASE("base chains, zone chains and their hooks", "[shape]")
{
    compile::Dynamic dyn;
    auto rs = compile::compile(two_zones(), dyn);
    REQUIRE(rs);
    std::map<std::string, std::optional<nft::BaseHook>> chains;
    for (const auto &c : rs->chains)
        chains[c.name] = c.hook;
    REQUIRE(chains.size() == 5 + 2 * 4);
    CHECK(chains.at("input")->hooknum == NF_INET_LOCAL_IN);
    CHECK(chains.at("input")->policy == NF_DROP);
    CHECK(chains.at("input")->type == "filter");
    CHECK(chains.at("forward")->hooknum == NF_INET_FORWARD);
    CHECK(chains.at("forward")->policy == NF_DROP);
    CHECK(chains.at("output")->hooknum == NF_INET_LOCAL_OUT);
    CHECK(chains.at("output")->policy == NF_ACCEPT);
    CHECK(chains.at("prerouting")->type == "nat");
    CHECK(chains.at("prerouting")->priority == -100);
    CHECK(chains.at("postrouting")->priority == 100);
    CHECK(chains.at("postrouting")->hooknum == NF_INET_POST_ROUTING);
    for (const char *c : {"wan_input", "wan_forward", "wan_output", "wan_dnat", "lan_input",
                          "lan_forward", "lan_output", "lan_dnat"})
        CHECK((chains.count(c) && !chains.at(c)));

    // Rules come grouped by chain, in chain order.
    std::vector<std::string> seen;
    for (const auto &r : rs->rules)
        if (seen.empty() || seen.back() != r.chain) {
            CHECK(std::find(seen.begin(), seen.end(), r.chain) == seen.end());
            seen.push_back(r.chain);
        }

    // Zone chains: entry counter first, policy last.
    auto lf = chain_rules(*rs, "lan_forward");
    REQUIRE(lf.size() >= 2);
    CHECK(render(*lf.front()) == "  [ objref type 1 name z.lan.forward ]\n");
    CHECK(render(*lf.back()) == "  [ objref type 1 name zd.lan.forward ]\n"
                                "  [ reject type 2 code 1 ]\n");
    auto li = chain_rules(*rs, "lan_input");
    CHECK(render(*li.back()) == "  [ objref type 1 name zd.lan.input ]\n"
                                "  [ immediate reg 0 accept ]\n");
    CHECK(li.size() == 1 + 6 + 1);   // entry, runtime lookups, policy

    // The zone rule: counter, comment and origin.
    auto wi = chain_rules(*rs, "wan_input");
    REQUIRE(wi.size() == 1 + 1 + 6 + 1);
    CHECK(wi[1]->comment == "ssh");
    CHECK(wi[1]->origin == "zone wan rule 1 (ssh)");
    CHECK(render(*wi[1]).find("objref type 1 name r.wan.0") != std::string::npos);

    for (const char *c : {"unzoned", "z.wan.input", "zd.wan.input", "z.lan.output",
                          "zd.lan.forward", "r.wan.0"})
        CHECK(has_counter(*rs, c));
    CHECK(rs->counters.size() == 1 + 2 * 3 * 2 + 1);
}

TEST_CASE("sets and interface maps", "[shape]")
{
    Model m = two_zones();
    m.sets["mgmt"] = NamedSet{"mgmt", {cidr("192.0.2.0/24")}};
    compile::Dynamic dyn;
    dyn.interfaces = {{"eth0", "wan"}, {"eth1", "lan"}, {"veth9", ""}, {"gone", "nosuch"}};
    dyn.zone_addresses["wan"] = {host("192.0.2.1"), host("2001:db8::1"), host("192.0.2.1")};
    auto rs = compile::compile(m, dyn);
    REQUIRE(rs);
    for (const char *s : {"input_zones", "forward_zones", "output_zones", "dnat_zones",
                          "masq_ifnames", "set_mgmt4", "set_mgmt6", "wan_addr4", "wan_addr6",
                          "lan_addr4", "wan_rt4_accept", "wan_rt6_drop", "lan_rt4_reject"})
        CHECK(find_set(*rs, s));
    const nft::Set &in = *find_set(*rs, "input_zones");
    CHECK(in.data == nft::DataType::verdict);
    CHECK(in.key == std::vector<nft::DataType>{nft::DataType::ifname});
    CHECK(elements(in) == std::vector<std::string>{"eth0 -> wan_input", "eth1 -> lan_input"});
    CHECK(elements(*find_set(*rs, "dnat_zones")) ==
          std::vector<std::string>{"eth0 -> wan_dnat", "eth1 -> lan_dnat"});
    CHECK(elements(*find_set(*rs, "output_zones")) ==
          std::vector<std::string>{"eth0 -> wan_output", "eth1 -> lan_output"});
    CHECK(elements(*find_set(*rs, "masq_ifnames")) == std::vector<std::string>{"eth0"});
    CHECK(in.elements[0].key.size() == 16);
    CHECK(in.elements[0].verdict->code == NFT_JUMP);
    CHECK(in.elements[0].origin == "interface eth0");

    const nft::Set &a4 = *find_set(*rs, "wan_addr4");
    CHECK(!a4.interval);
    REQUIRE(a4.elements.size() == 1);   // duplicates dropped
    CHECK(hex(a4.elements[0].key) == "c0000201");
    CHECK(a4.elements[0].origin == "zone wan address 192.0.2.1");
    const nft::Set &a6 = *find_set(*rs, "wan_addr6");
    REQUIRE(a6.elements.size() == 1);
    CHECK(hex(a6.elements[0].key) == "20010db8000000000000000000000001");

    const nft::Set &rt = *find_set(*rs, "wan_rt4_accept");
    CHECK(rt.interval);
    CHECK(rt.timeout);
    CHECK(rt.key == std::vector<nft::DataType>{nft::DataType::ipv4_addr, nft::DataType::inet_proto,
                                                nft::DataType::inet_service});
    CHECK(find_set(*rs, "set_mgmt4")->interval);
    CHECK(find_set(*rs, "set_mgmt4")->origin == "set mgmt");
}

TEST_CASE("family splitting follows the sets' contents", "[shape]")
{
    Model m;
    m.sets["v4only"] = NamedSet{"v4only", {cidr("10.0.0.0/8")}};
    m.sets["both"] = NamedSet{"both", {cidr("10.0.0.0/8"), cidr("fd00::/8")}};
    m.sets["empty"] = NamedSet{"empty", {}};
    Zone z = zone("z");
    z.rules.push_back(tcp_accept(1));
    z.rules.back().saddr = named(AddrMatch::Kind::set, "v4only");
    z.rules.push_back(tcp_accept(2));
    z.rules.back().saddr = named(AddrMatch::Kind::set, "both");
    z.rules.push_back(tcp_accept(3));
    z.rules.back().saddr = named(AddrMatch::Kind::set, "both");
    z.rules.back().family = Family::ipv6;
    z.rules.push_back(tcp_accept(4));
    z.rules.back().saddr = named(AddrMatch::Kind::set, "v4only");
    z.rules.back().family = Family::ipv6;
    z.rules.push_back(tcp_accept(5));
    z.rules.back().saddr = named(AddrMatch::Kind::set, "empty");
    z.rules.push_back(tcp_accept(6));                         // family both, no address
    add_zone(m, std::move(z));
    auto rs = compile::compile(m, {});
    REQUIRE(rs);
    auto count = [&](int i) {
        return std::count_if(rs->rules.begin(), rs->rules.end(), [&](const nft::Rule &r) {
            return r.origin == "zone z rule " + std::to_string(i);
        });
    };
    CHECK(count(1) == 1);
    CHECK(count(2) == 2);
    CHECK(count(3) == 1);
    CHECK(count(4) == 0);
    CHECK(count(5) == 0);
    CHECK(count(6) == 1);
    for (const auto &r : rs->rules)
        if (r.origin == "zone z rule 1")
            CHECK(render(r).find("set set_v4only4") != std::string::npos);
        else if (r.origin == "zone z rule 6")
            CHECK(render(r).find("nfproto") == std::string::npos);
}

TEST_CASE("panic keeps loopback and established, the rest stays declared", "[shape]")
{
    compile::Dynamic dyn;
    dyn.panic = true;
    dyn.interfaces = {{"eth0", "wan"}};
    auto rs = compile::compile(two_zones(), dyn);
    REQUIRE(rs);
    auto in = chain_rules(*rs, "input"), fw = chain_rules(*rs, "forward"),
         out = chain_rules(*rs, "output");
    REQUIRE(in.size() == 3);
    REQUIRE(fw.size() == 2);
    REQUIRE(out.size() == 3);
    for (auto *c : {&in, &fw, &out})
        CHECK(render(*c->back()) == "  [ immediate reg 0 drop ]\n");
    CHECK(render(*out[0]).find("meta load oif ") != std::string::npos);
    CHECK(chain_rules(*rs, "prerouting").empty());
    CHECK(chain_rules(*rs, "postrouting").empty());
    // Nothing jumps to the zone chains, but they and the sets exist for element ops.
    for (const auto &r : rs->rules)
        if (!r.chain.starts_with("wan_") && !r.chain.starts_with("lan_"))
            CHECK(render(r).find("lookup") == std::string::npos);
    CHECK(find_set(*rs, "input_zones")->elements.size() == 1);
    CHECK(!chain_rules(*rs, "wan_input").empty());
}

TEST_CASE("zone_of: runtime > exact name > first glob > default", "[shape]")
{
    Model m;
    add_zone(m, zone("a", {"eth*", "wg0"}));
    add_zone(m, zone("b", {"eth1", "e*"}));
    add_zone(m, zone("c", {"en?"}));
    m.default_zone = "c";
    std::map<std::string, std::string> assigned{{"eth2", "b"}, {"eth3", "nosuch"}, {"eth4", ""}};
    CHECK(compile::zone_of(m, assigned, "eth2") == "b");   // runtime assignment
    CHECK(compile::zone_of(m, assigned, "eth1") == "b");   // exact beats a's earlier glob
    CHECK(compile::zone_of(m, assigned, "eth0") == "a");   // first glob in file order
    CHECK(compile::zone_of(m, assigned, "eth3") == "a");   // unknown assignment ignored
    CHECK(compile::zone_of(m, assigned, "eth4") == "a");
    CHECK(compile::zone_of(m, assigned, "ens") == "b");    // b's e* before c's en?
    CHECK(compile::zone_of(m, assigned, "wg0") == "a");
    CHECK(compile::zone_of(m, assigned, "lo") == "c");     // default zone
    m.default_zone.clear();
    CHECK(compile::zone_of(m, assigned, "lo").empty());
    m.zone_order = {"c", "b", "a"};                         // file order decides
    CHECK(compile::zone_of(m, {}, "ens") == "c");
    CHECK(compile::zone_of(m, {}, "eth0") == "b");
}

TEST_CASE("interface_ops and address_ops", "[shape]")
{
    const Model m = two_zones();
    auto ops = compile::interface_ops(m, "eth0", "", "wan");
    REQUIRE(ops.size() == 5);
    std::vector<std::string> sets;
    for (const auto &op : ops) {
        CHECK(op.kind == nft::ElementOp::Kind::add);
        CHECK(op.element.origin == "interface eth0");
        sets.push_back(op.set);
    }
    CHECK(sets == std::vector<std::string>{"input_zones", "forward_zones", "output_zones",
                                           "dnat_zones", "masq_ifnames"});
    CHECK(ops[0].element.verdict->chain == "wan_input");
    CHECK(ops[3].element.verdict->chain == "wan_dnat");
    CHECK(!ops[4].element.verdict);

    ops = compile::interface_ops(m, "eth0", "wan", "lan");
    REQUIRE(ops.size() == 9);   // 5 removes (masq too), 4 adds
    CHECK(ops[4].set == "masq_ifnames");
    CHECK(ops[4].kind == nft::ElementOp::Kind::remove);
    CHECK(ops[5].kind == nft::ElementOp::Kind::add);
    CHECK(ops[5].element.verdict->chain == "lan_input");
    CHECK(compile::interface_ops(m, "eth0", "lan", "").size() == 4);
    CHECK(compile::interface_ops(m, "eth0", "lan", "lan").empty());

    // A full compile holds exactly what the moves add.
    compile::Dynamic dyn;
    dyn.interfaces = {{"eth0", "wan"}};
    auto rs = compile::compile(m, dyn);
    REQUIRE(rs);
    for (const auto &op : compile::interface_ops(m, "eth0", "", "wan")) {
        const nft::Set *s = find_set(*rs, op.set);
        REQUIRE(s);
        REQUIRE(s->elements.size() == 1);
        CHECK(s->elements[0].key == op.element.key);
        CHECK(s->elements[0].verdict.has_value() == op.element.verdict.has_value());
    }

    auto a = compile::address_ops("wan", host("2001:db8::1"), false);
    REQUIRE(a.size() == 1);
    CHECK(a[0].set == "wan_addr6");
    CHECK(a[0].kind == nft::ElementOp::Kind::remove);
    CHECK(a[0].element.origin == "zone wan address 2001:db8::1");
    CHECK(a[0].element.key.size() == 16);
}

TEST_CASE("counter names round-trip", "[shape]")
{
    const std::vector<CounterId> ids = {
        {CounterId::Kind::zone, "wan", "input", 0},
        {CounterId::Kind::zone_drop, "my-zone_1", "forward", 0},
        {CounterId::Kind::rule, "lan", "", 12},
        {CounterId::Kind::runtime, "", "", 42},
        {CounterId::Kind::unzoned, "", "", 0},
    };
    const std::vector<std::string> names = {"z.wan.input", "zd.my-zone_1.forward", "r.lan.12",
                                            "rt.42", "unzoned"};
    for (size_t i = 0; i < ids.size(); ++i) {
        CHECK(compile::counter_name(ids[i]) == names[i]);
        auto back = compile::parse_counter_name(names[i]);
        REQUIRE(back);
        CHECK(back->kind == ids[i].kind);
        CHECK(back->zone == ids[i].zone);
        CHECK(back->hook == ids[i].hook);
        CHECK(back->index == ids[i].index);
    }
    for (const char *bad : {"", "z", "z.wan", "z.wan.inp", "r.wan.x", "r.wan.01", "rt.", "rt.-1",
                            "q.wan.input", "z..input", "r.wan.1.2", "unzoned.x",
                            "rt.99999999999999999999"})
        CHECK(!compile::parse_counter_name(bad));
}

TEST_CASE("errors name the rule", "[shape]")
{
    Model m = two_zones();
    m.zones.at("wan").rules[0].saddr = named(AddrMatch::Kind::set, "nosuch");
    auto rs = compile::compile(m, {});
    REQUIRE(!rs);
    CHECK(rs.error().message == "zone wan rule 1 (ssh): unknown set 'nosuch'");

    m = two_zones();
    compile::Dynamic dyn;
    dyn.runtime.push_back(runtime(7, "dmz", tcp_accept(80)));
    rs = compile::compile(m, dyn);
    REQUIRE(!rs);
    CHECK(rs.error().message == "runtime rule 7: unknown zone 'dmz'");

    m = two_zones();
    m.zones.at("wan").rules[0].proto = Proto::icmp;   // ports without tcp/udp
    rs = compile::compile(m, {});
    REQUIRE(!rs);
    CHECK(rs.error().message.find("zone wan rule 1 (ssh)") == 0);

    m = two_zones();
    dyn = {};
    dyn.interfaces = {{"a-name-longer-than-15", "wan"}};
    CHECK(!compile::compile(m, dyn));
}
