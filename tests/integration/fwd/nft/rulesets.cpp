// SPDX-License-Identifier: GPL-2.0-or-later
#include "rulesets.hpp"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <fmt/format.h>

#include "shell.hpp"

namespace alopex::fwd::nft::test {

namespace {

constexpr Reg r1 = NFT_REG_1;
constexpr Reg r32_0 = NFT_REG32_00, r32_1 = NFT_REG32_01, r32_2 = NFT_REG32_02;

std::vector<Expr> tcp_dport(uint16_t p)
{
    return {Meta{NFT_META_L4PROTO, r1}, Cmp{r1, NFT_CMP_EQ, {6}},
            Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, r1}, Cmp{r1, NFT_CMP_EQ, port(p)}};
}

std::vector<Expr> ip_saddr()
{
    return {Meta{NFT_META_NFPROTO, r1}, Cmp{r1, NFT_CMP_EQ, {NFPROTO_IPV4}},
            Payload{NFT_PAYLOAD_NETWORK_HEADER, 12, 4, r1}};
}

Rule rule(std::string chain, std::vector<Expr> e, std::string origin, std::string comment = {})
{
    Rule r;
    r.chain = std::move(chain);
    r.exprs = std::move(e);
    r.origin = std::move(origin);
    r.comment = std::move(comment);
    return r;
}

template <class... T> std::vector<Expr> cat(std::vector<Expr> a, T &&...more)
{
    (a.push_back(std::forward<T>(more)), ...);
    return a;
}

Chain chain(std::string name, std::optional<BaseHook> hook = std::nullopt)
{
    Chain c;
    c.name = std::move(name);
    c.hook = std::move(hook);
    return c;
}

Set set(std::string name, std::vector<DataType> key, bool interval, bool timeout,
        std::optional<DataType> data = std::nullopt)
{
    Set s;
    s.name = std::move(name);
    s.key = std::move(key);
    s.interval = interval;
    s.timeout = timeout;
    s.data = data;
    s.origin = "set " + s.name;
    return s;
}

Bytes concat(std::initializer_list<Bytes> fields)
{
    Bytes out;
    for (const Bytes &f : fields) {
        out.insert(out.end(), f.begin(), f.end());
        out.resize((out.size() + 3) & ~size_t{3}, 0);
    }
    return out;
}

} // namespace

Bytes ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }
Bytes port(uint16_t p) { return {uint8_t(p >> 8), uint8_t(p & 0xff)}; }

Element cidr4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, int len, std::string comment)
{
    uint32_t v = (uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | d;
    uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    uint32_t lo = v & mask, hi = lo | ~mask;
    Element e;
    e.key = {uint8_t(lo >> 24), uint8_t(lo >> 16), uint8_t(lo >> 8), uint8_t(lo)};
    if (len < 32)
        e.key_end = {uint8_t(hi >> 24), uint8_t(hi >> 16), uint8_t(hi >> 8), uint8_t(hi)};
    e.comment = std::move(comment);
    e.origin = fmt::format("address {}.{}.{}.{}/{}", a, b, c, d, len);
    return e;
}

Ruleset version1()
{
    Ruleset rs;
    rs.chains = {chain("input", BaseHook{NF_INET_LOCAL_IN, 0, "filter", NF_ACCEPT}),
                 chain("zone_wan"), chain("zone_lan")};
    Set addr4 = set("addr4", {DataType::ipv4_addr}, true, false);
    addr4.elements = {cidr4(10, 0, 0, 0, 8), cidr4(192, 168, 1, 1, 32),
                      cidr4(172, 16, 0, 0, 12, "rfc1918")};
    Set ifzone = set("ifzone", {DataType::ifname}, false, false, DataType::verdict);
    Element eth0;
    eth0.key = Bytes{'e', 't', 'h', '0'};
    eth0.key.resize(16, 0);
    eth0.verdict = Verdict{NFT_JUMP, "zone_wan"};
    eth0.origin = "interface eth0";
    ifzone.elements = {eth0};
    Set runtime = set("runtime", {DataType::ipv4_addr, DataType::inet_proto, DataType::inet_service}, false, true);
    Element e;
    e.key = concat({ip4(1, 2, 3, 4), {6}, port(80)});
    e.timeout_ms = 2000;
    e.comment = "goal-456";
    e.origin = "runtime rule 1";
    runtime.elements = {e};
    Set cc = set("cc", {DataType::ipv4_addr, DataType::inet_service}, true, false);
    Element r;
    r.key = concat({ip4(10, 0, 0, 0), port(20)});
    r.key_end = concat({ip4(10, 255, 255, 255), port(30)});
    r.origin = "range element";
    cc.elements = {r};
    rs.sets = {addr4, ifzone, runtime, cc};
    rs.counters = {"c_ssh"};
    rs.rules = {
        rule("input", cat(tcp_dport(22), ObjRef{"c_ssh"}, Verdict{NF_ACCEPT, {}}), "rule ssh", "ssh"),
        rule("input", {Meta{NFT_META_IIFNAME, r1}, Lookup{r1, "ifzone", Reg{0}}}, "rule vmap"),
        rule("input", cat(ip_saddr(), Lookup{r1, "addr4", {}}, Verdict{NF_ACCEPT, {}}), "rule addr4"),
        rule("input",
             {Meta{NFT_META_NFPROTO, r1}, Cmp{r1, NFT_CMP_EQ, {NFPROTO_IPV4}},
              Payload{NFT_PAYLOAD_NETWORK_HEADER, 12, 4, r32_0}, Meta{NFT_META_L4PROTO, r32_1},
              Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, r32_2}, Lookup{r32_0, "runtime", {}},
              Verdict{NF_ACCEPT, {}}},
             "rule rt"),
        rule("zone_wan", {Counter{}, Verdict{NF_DROP, {}}}, "rule wan drop"),
        rule("zone_lan", {Verdict{NF_ACCEPT, {}}}, "rule lan accept"),
    };
    return rs;
}

Ruleset version2()
{
    Ruleset rs = version1();
    rs.chains.pop_back();   // zone_lan
    rs.rules.pop_back();    // its rule
    rs.sets[0].comment = "changed";
    rs.sets[0].elements.push_back(cidr4(203, 0, 113, 0, 24));
    rs.counters.push_back("c_extra");
    return rs;
}

Ruleset observed(bool b)
{
    Ruleset rs;
    rs.chains = {chain("input", BaseHook{NF_INET_LOCAL_IN, 0, "filter", NF_ACCEPT})};
    Set s = set("obs", {DataType::ipv4_addr}, false, false);
    int n = b ? 7 : 5;
    for (int i = 0; i < n; ++i) {
        Element e;
        e.key = ip4(198, 51, 100, uint8_t(i + 1));
        e.origin = "obs element";
        s.elements.push_back(e);
    }
    rs.sets = {s};
    int rules = b ? 4 : 3;
    for (int i = 0; i < rules; ++i)
        rs.rules.push_back(rule("input", cat(tcp_dport(uint16_t(1000 + i)), Verdict{NF_ACCEPT, {}}),
                                "obs rule"));
    return rs;
}

nlohmann::json list_table()
{
    return nlohmann::json::parse(itest::capture("nft -j list table inet alopex"));
}

size_t count(const nlohmann::json &j, const std::string &kind, const std::string &chain)
{
    size_t n = 0;
    for (const auto &o : j.at("nftables"))
        if (o.contains(kind) && (chain.empty() || o[kind].value("chain", "") == chain))
            ++n;
    return n;
}

const nlohmann::json *find(const nlohmann::json &j, const std::string &kind, const std::string &name)
{
    for (const auto &o : j.at("nftables"))
        if (o.contains(kind) && o[kind].value("name", "") == name)
            return &o[kind];
    return nullptr;
}

nlohmann::json elements(const nlohmann::json &j, const std::string &set)
{
    const auto *s = find(j, "set", set);
    if (!s)
        s = find(j, "map", set);
    if (!s || !s->contains("elem"))
        return nlohmann::json::array();
    return s->at("elem");
}

} // namespace alopex::fwd::nft::test
