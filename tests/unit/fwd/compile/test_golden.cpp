// SPDX-License-Identifier: GPL-2.0-or-later
// Compiled rules against what nft itself sends for the same rules: golden/cases.nft holds
// the nft text of every case, golden/expressions.txt what `nft --debug=netlink` printed
// for it (regenerate with golden/regen.sh).
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "model_util.hpp"
#include "render.hpp"

using namespace alopex::fwd;
using namespace alopex::fwd::test;

namespace {

// chain -> its rules' expression text, in order.
std::map<std::string, std::vector<std::string>> load_golden()
{
    std::ifstream in(std::string(FWD_COMPILE_GOLDEN_DIR) + "/expressions.txt");
    REQUIRE(in.good());
    std::map<std::string, std::vector<std::string>> g;
    std::string line;
    std::vector<std::string> *cur = nullptr;
    while (std::getline(in, line)) {
        if (line.rfind("inet t ", 0) == 0) {
            cur = &g[line.substr(7)];
            cur->emplace_back();
        } else if (cur && line.rfind("  [", 0) == 0) {
            cur->back() += line + "\n";
        }
    }
    for (auto &[chain, rules] : g)
        for (auto &r : rules)
            r = strip_noops(r);
    return g;
}

std::vector<std::string> by_origin(const nft::Ruleset &rs, const std::string &chain,
                                   const std::string &origin)
{
    std::vector<std::string> out;
    for (const auto &r : rs.rules)
        if (r.chain == chain && r.origin == origin)
            out.push_back(render(r));
    return out;
}

Model golden_model()
{
    Model m;
    m.sets["management"] = NamedSet{"management", {cidr("192.0.2.0/24"), cidr("2001:db8:1::/48")}};
    Zone z = zone("wan", {"eth0"});
    z.log_policy = true;
    auto &R = z.rules;
    R.push_back(tcp_accept(22));                                    // r0
    R.push_back(tcp_accept(0, Proto::udp));                         // r1
    R[1].dport = {{1000, 2000}};
    R[1].counter = true;
    R.push_back(tcp_accept(22));                                    // r2
    R[2].dport = {{8000, 8080}, {80, 80}, {22, 22}};
    R.push_back(tcp_accept(22));                                    // r3
    R[3].sport = {{53, 53}};
    R.push_back(tcp_accept(0, Proto::udp));                         // r4
    R[4].dport.clear();
    R[4].sport = {{1, 2}};
    Rule icmp;                                                      // r5
    icmp.proto = Proto::icmp;
    icmp.icmp_types = {8};
    icmp.verdict = Verdict::accept;
    icmp.counter = false;
    R.push_back(icmp);
    icmp.proto = Proto::icmpv6;                                     // r6
    icmp.icmp_types = {128, 129};
    R.push_back(icmp);
    R.push_back(tcp_accept(80));                                    // r7
    R[7].ct_state = ct::new_;
    Rule drop;                                                      // r8
    drop.verdict = Verdict::drop;
    drop.counter = false;
    drop.saddr = cidrs({"10.16.0.0/12"});
    R.push_back(drop);
    drop.saddr = cidrs({"10.0.0.0/8", "2001:db8::/32", "192.168.0.0/16"});  // r9
    R.push_back(drop);
    R.push_back(tcp_accept(22));                                    // r10
    R[10].daddr = named(AddrMatch::Kind::zone, "wan");
    R.push_back(tcp_accept(9090));                                  // r11
    R[11].saddr = named(AddrMatch::Kind::set, "management");
    Rule logged;                                                    // r12
    logged.verdict = Verdict::drop;
    logged.log = alopex::fwd::Log{"x: ", RateLimit{5, 60, 5}};
    R.push_back(logged);
    Rule limited;                                                   // r13
    limited.verdict = Verdict::accept;
    limited.counter = false;
    limited.limit = RateLimit{10, 1, 5};
    R.push_back(limited);
    R.push_back(tcp_accept(53, Proto::udp));                        // r14
    R[14].verdict = Verdict::reject;
    R.push_back(tcp_accept(113));                                   // r15
    R[15].verdict = Verdict::reject;
    R[15].reject_with = RejectWith::tcp_reset;
    for (RejectWith w : {RejectWith::admin_prohibited, RejectWith::host_unreachable,
                         RejectWith::no_route}) {                   // r16..r18
        Rule rj;
        rj.verdict = Verdict::reject;
        rj.reject_with = w;
        rj.counter = false;
        R.push_back(rj);
    }
    Rule logonly;                                                   // r19
    logonly.counter = false;
    logonly.log = alopex::fwd::Log{"y ", std::nullopt};
    R.push_back(logonly);
    drop.family = Family::ipv6;                                     // r20
    drop.saddr = cidrs({"::/0"});
    R.push_back(drop);
    R.push_back(tcp_accept(22));                                    // r21
    R[21].family = Family::ipv4;
    drop.family = Family::both;                                     // r22
    drop.saddr = cidrs({"0.0.0.0/0"});
    R.push_back(drop);
    Rule est;                                                       // r23
    est.ct_state = ct::established | ct::related;
    est.verdict = Verdict::accept;
    est.counter = false;
    R.push_back(est);
    R.push_back(tcp_accept(5353, Proto::udp));                      // r24
    R[24].saddr = cidrs({"192.0.2.1/32"});
    R[24].daddr = cidrs({"198.51.100.0/24"});
    Rule r25;                                                       // r25
    r25.limit = RateLimit{2, 86400, 1};
    r25.log = alopex::fwd::Log{"z ", std::nullopt};
    r25.verdict = Verdict::accept;
    r25.counter = false;
    R.push_back(r25);

    auto fwd = [](Proto p, uint16_t port, const char *to, std::optional<uint16_t> to_port) {
        Forward f;
        f.proto = p;
        f.dport = {{port, port}};
        f.to = host(to);
        f.to_port = to_port;
        return f;
    };
    z.forwards.push_back(fwd(Proto::tcp, 8080, "10.1.0.5", 80));
    z.forwards.push_back(fwd(Proto::udp, 8081, "10.1.0.5", std::nullopt));
    z.forwards.push_back(fwd(Proto::tcp, 8082, "2001:db8::5", 80));
    z.forwards.push_back(fwd(Proto::tcp, 8083, "2001:db8::5", std::nullopt));
    z.forwards.back().dport = {{8083, 8090}};
    z.forwards.push_back(fwd(Proto::tcp, 2222, "10.1.0.6", 22));
    z.forwards.back().saddr = named(AddrMatch::Kind::set, "management");
    add_zone(m, std::move(z));
    return m;
}

} // namespace

TEST_CASE("compiled rules match nft's expressions", "[golden]")
{
    const auto golden = load_golden();
    const Model m = golden_model();
    compile::Dynamic dyn;
    auto rs = compile::compile(m, dyn);
    REQUIRE(rs);

    for (size_t i = 0; i <= 25; ++i) {
        const std::string name = "r" + std::to_string(i);
        INFO("case " << name);
        REQUIRE(golden.count(name));
        const std::string chain = "wan_input";
        CHECK(by_origin(*rs, chain, "zone wan rule " + std::to_string(i + 1)) == golden.at(name));
    }
    for (size_t i = 0; i < 5; ++i) {
        const std::string name = "f" + std::to_string(i);
        const std::string origin = "zone wan forward " + std::to_string(i + 1);
        INFO("case " << name);
        CHECK(by_origin(*rs, "wan_dnat", origin) == golden.at(name + "_dnat"));
        CHECK(by_origin(*rs, "wan_forward", origin) == golden.at(name + "_accept"));
    }

    auto chain_text = [&](const std::string &chain) {
        std::vector<std::string> v;
        for (const nft::Rule *r : chain_rules(*rs, chain))
            v.push_back(render(*r));
        return v;
    };
    CHECK(chain_text("input") == golden.at("input"));
    CHECK(chain_text("output") == golden.at("output"));
    CHECK(chain_text("postrouting") == golden.at("postrouting"));

    const auto zin = chain_text("wan_input");
    REQUIRE(!zin.empty());
    CHECK(zin.front() == golden.at("zone_entry").at(0));
    const auto rt = by_origin(*rs, "wan_input", "zone wan runtime rules");
    REQUIRE(rt.size() == 6);   // accept 4/6, drop 4/6, reject 4/6
    CHECK(rt[0] == golden.at("rt_lookups").at(0));
    CHECK(rt[3] == golden.at("rt_lookups").at(1));
    CHECK(rt[4] == golden.at("rt_lookups").at(2));
    CHECK(by_origin(*rs, "wan_input", "zone wan input policy") == golden.at("policy_input"));
    CHECK(by_origin(*rs, "wan_output", "zone wan output policy") == golden.at("policy_output"));

    dyn.panic = true;
    auto panic = compile::compile(m, dyn);
    REQUIRE(panic);
    std::vector<std::string> pin;
    for (const nft::Rule *r : chain_rules(*panic, "input"))
        pin.push_back(render(*r));
    CHECK(pin == golden.at("panic_input"));
}

TEST_CASE("the renderer prints what nft prints", "[golden]")
{
    // A sanity check of the test tool itself on a case with every field kind.
    nft::Rule r{"c", {nft::Meta{16, 1}, nft::Cmp{1, 0, {6}}, nft::Payload{2, 2, 2, 1},
                      nft::Cmp{1, 0, {0x00, 0x16}}, nft::Verdict{1, {}}}, {}, {}};
    CHECK(render(r) == "  [ meta load l4proto => reg 1 ]\n"
                       "  [ cmp eq reg 1 0x00000006 ]\n"
                       "  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
                       "  [ cmp eq reg 1 0x00001600 ]\n"
                       "  [ immediate reg 0 accept ]\n");
}
