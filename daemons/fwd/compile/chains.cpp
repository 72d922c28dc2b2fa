// SPDX-License-Identifier: GPL-2.0-or-later
// compile(): base chains and their prologue, the interface-to-zone verdict maps, the zone
// chains (entry counter, rules, runtime rules, runtime element lookups, forward accepts,
// policy), NAT, and every set with its elements.
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>

#include <algorithm>

#include <fmt/format.h>

#include "compile/builder.hpp"

namespace alopex::fwd::compile {

namespace detail {

Result<> Builder::chain(std::string name, std::optional<nft::BaseHook> hook)
{
    if (chain_rules.count(name))
        return failf(EINVAL, "chain '{}' would be declared twice", name);
    chain_rules[name];
    rs.chains.push_back(nft::Chain{std::move(name), std::move(hook)});
    return {};
}

Result<> Builder::set(nft::Set s)
{
    if (!sets.insert(s.name).second)
        return failf(EINVAL, "{}: set '{}' would be declared twice", s.origin, s.name);
    rs.sets.push_back(std::move(s));
    return {};
}

nft::Set *Builder::find_set(const std::string &name)
{
    if (!sets.count(name))
        return nullptr;
    for (auto it = rs.sets.rbegin(); it != rs.sets.rend(); ++it)
        if (it->name == name)
            return &*it;
    return nullptr;
}

void Builder::rule(const std::string &chain, Exprs exprs, std::string comment, std::string origin)
{
    chain_rules[chain].push_back(nft::Rule{chain, std::move(exprs), std::move(comment),
                                           std::move(origin)});
}

nft::Ruleset Builder::finish()
{
    std::unordered_set<std::string> seen;
    std::erase_if(rs.counters, [&](const std::string &c) { return !seen.insert(c).second; });
    size_t n = 0;
    for (const auto &[c, rules] : chain_rules)
        n += rules.size();
    rs.rules.reserve(n);
    for (const nft::Chain &c : rs.chains) {
        auto &rules = chain_rules[c.name];
        rs.rules.insert(rs.rules.end(), std::make_move_iterator(rules.begin()),
                        std::make_move_iterator(rules.end()));
    }
    return std::move(rs);
}

} // namespace detail

using namespace detail;

namespace {

void append(Exprs &to, Exprs from)
{
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

constexpr Hook hooks[] = {Hook::input, Hook::forward, Hook::output};
constexpr Verdict verdicts[] = {Verdict::accept, Verdict::drop, Verdict::reject};

Expr policy_verdict(Verdict v)
{
    return v == Verdict::accept ? verdict(NF_ACCEPT)
           : v == Verdict::drop ? verdict(NF_DROP)
                                : reject(RejectWith::port_unreachable);
}

Verdict zone_policy(const Zone &z, Hook h)
{
    return h == Hook::input ? z.input : h == Hook::forward ? z.forward : z.output;
}

std::string rule_origin(const std::string &zone, size_t i, const std::string &comment)
{
    if (comment.empty())
        return fmt::format("zone {} rule {}", zone, i + 1);
    return fmt::format("zone {} rule {} ({})", zone, i + 1, comment);
}

Result<> declare(Builder &b, const std::vector<const Zone *> &zones)
{
    using nft::BaseHook;
    ALOPEX_TRY_VOID(b.chain("input", BaseHook{NF_INET_LOCAL_IN, 0, "filter", NF_DROP}));
    ALOPEX_TRY_VOID(b.chain("forward", BaseHook{NF_INET_FORWARD, 0, "filter", NF_DROP}));
    ALOPEX_TRY_VOID(b.chain("output", BaseHook{NF_INET_LOCAL_OUT, 0, "filter", NF_ACCEPT}));
    ALOPEX_TRY_VOID(b.chain("prerouting", BaseHook{NF_INET_PRE_ROUTING, -100, "nat", NF_ACCEPT}));
    ALOPEX_TRY_VOID(b.chain("postrouting", BaseHook{NF_INET_POST_ROUTING, 100, "nat", NF_ACCEPT}));
    for (const Zone *z : zones) {
        for (Hook h : hooks)
            ALOPEX_TRY_VOID(b.chain(zone_chain(z->name, h)));
        ALOPEX_TRY_VOID(b.chain(dnat_chain(z->name)));
    }

    // Interface -> zone verdict maps and the masquerade interfaces.
    std::array<nft::Set, 4> maps = {
        make_set("input_zones", {nft::DataType::ifname}, false, "interfaces"),
        make_set("forward_zones", {nft::DataType::ifname}, false, "interfaces"),
        make_set("output_zones", {nft::DataType::ifname}, false, "interfaces"),
        make_set("dnat_zones", {nft::DataType::ifname}, false, "interfaces")};
    for (auto &m : maps)
        m.data = nft::DataType::verdict;
    nft::Set masq = make_set("masq_ifnames", {nft::DataType::ifname}, false, "interfaces");
    for (const auto &[ifname, zone] : b.dyn.interfaces) {
        if (ifname.empty() || ifname.size() > 15)
            return failf(EINVAL, "interface '{}': not a valid interface name", ifname);
        auto it = b.model.zones.find(zone);
        if (zone.empty() || it == b.model.zones.end())
            continue;
        for (const nft::ElementOp &op : interface_elements(it->second, ifname, true)) {
            nft::Set &s = op.set == "input_zones"     ? maps[0]
                          : op.set == "forward_zones" ? maps[1]
                          : op.set == "output_zones"  ? maps[2]
                          : op.set == "dnat_zones"    ? maps[3]
                                                      : masq;
            s.elements.push_back(op.element);
        }
    }
    for (auto &m : maps)
        ALOPEX_TRY_VOID(b.set(std::move(m)));
    ALOPEX_TRY_VOID(b.set(std::move(masq)));

    for (const auto &[name, ns] : b.model.sets) {
        if (!valid_name(name) || ns.name != name)
            return failf(EINVAL, "set '{}': not a valid set name", name);
        const std::string origin = "set " + name;
        for (uint8_t fam : {uint8_t(AF_INET), uint8_t(AF_INET6)}) {
            nft::Set s = make_set(named_set(name, fam),
                                  {fam == AF_INET ? nft::DataType::ipv4_addr
                                                  : nft::DataType::ipv6_addr},
                                  true, origin);
            add_addr_ranges(s, fam, merge_cidrs(ns.cidrs, fam), origin);
            ALOPEX_TRY_VOID(b.set(std::move(s)));
        }
    }

    for (const Zone *z : zones) {
        const auto addrs = b.dyn.zone_addresses.find(z->name);
        for (uint8_t fam : {uint8_t(AF_INET), uint8_t(AF_INET6)}) {
            nft::Set s = make_set(addr_set(z->name, fam),
                                  {fam == AF_INET ? nft::DataType::ipv4_addr
                                                  : nft::DataType::ipv6_addr},
                                  false, fmt::format("zone {} addresses", z->name));
            if (addrs != b.dyn.zone_addresses.end()) {
                std::vector<net::Address> list;   // sorted, once each
                list.reserve(addrs->second.size());
                for (const net::Address &a : addrs->second)
                    if (a.family() == fam)
                        list.push_back(a);
                std::sort(list.begin(), list.end());
                list.erase(std::unique(list.begin(), list.end()), list.end());
                s.elements.reserve(list.size());
                for (const auto &a : list) {
                    auto ops = address_ops(z->name, a, true);
                    s.elements.push_back(std::move(ops[0].element));
                }
            }
            ALOPEX_TRY_VOID(b.set(std::move(s)));
        }
        for (uint8_t fam : {uint8_t(AF_INET), uint8_t(AF_INET6)})
            for (Verdict v : verdicts) {
                nft::Set s = make_set(rt_set(z->name, fam, v),
                                      {fam == AF_INET ? nft::DataType::ipv4_addr
                                                      : nft::DataType::ipv6_addr,
                                       nft::DataType::inet_proto, nft::DataType::inet_service},
                                      true, fmt::format("zone {} runtime rules", z->name));
                s.timeout = true;
                ALOPEX_TRY_VOID(b.set(std::move(s)));
            }
    }
    return {};
}

void base_rules(Builder &b, bool panic)
{
    auto rule = [&](const char *chain, Exprs e, const char *origin) {
        b.rule(chain, std::move(e), {}, origin);
    };
    auto with = [](Exprs e, Expr last) {
        e.push_back(std::move(last));
        return e;
    };
    const Exprs est = match_ct_bits(NFT_CT_STATE, ct::established | ct::related);
    rule("input", with(match_meta_ifindex(NFT_META_IIF, 1), verdict(NF_ACCEPT)), "loopback");
    rule("input", with(est, verdict(NF_ACCEPT)), "established");
    rule("forward", with(est, verdict(NF_ACCEPT)), "established");
    rule("output", with(match_meta_ifindex(NFT_META_OIF, 1), verdict(NF_ACCEPT)), "loopback");
    rule("output", with(est, verdict(NF_ACCEPT)), "established");
    if (panic) {
        for (const char *c : {"input", "forward", "output"})
            rule(c, {verdict(NF_DROP)}, "panic");
        return;
    }
    const Exprs invalid = match_ct_bits(NFT_CT_STATE, ct::invalid);
    rule("input", with(invalid, verdict(NF_DROP)), "invalid");
    rule("forward", with(invalid, verdict(NF_DROP)), "invalid");
    // IPv6 neighbour discovery (router solicitation .. neighbour advertisement) is never
    // tracked (ct state untracked), so a zone whose input drops would break IPv6 on its
    // links; hop limit 255 keeps it to on-link senders (RFC 4861).
    Exprs nd = match_nfproto(AF_INET6);
    append(nd, match_l4proto(IPPROTO_ICMPV6));
    append(nd, {nft::Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, 1},
                nft::Cmp{1, NFT_CMP_GTE, {133}}, nft::Cmp{1, NFT_CMP_LTE, {136}},
                nft::Payload{NFT_PAYLOAD_NETWORK_HEADER, 7, 1, 1}, nft::Cmp{1, NFT_CMP_EQ, {255}},
                verdict(NF_ACCEPT)});
    rule("input", std::move(nd), "neighbour discovery");
    auto vmap = [&](const char *chain, uint32_t meta, const char *set) {
        rule(chain, {nft::Meta{meta, 1}, nft::Lookup{1, set, nft::Reg{0}, false}}, "interfaces");
    };
    vmap("input", NFT_META_IIFNAME, "input_zones");
    vmap("forward", NFT_META_IIFNAME, "forward_zones");
    vmap("output", NFT_META_OIFNAME, "output_zones");
    vmap("prerouting", NFT_META_IIFNAME, "dnat_zones");
    for (const char *c : {"input", "forward"})
        rule(c,
             {nft::ObjRef{counter_name({CounterId::Kind::unzoned, {}, {}, 0})},
              limit(RateLimit{5, 60, 5}), nft::Log{fmt::format("alopex unzoned {}: ", c)}},
             "interfaces in no zone");
    rule("postrouting",
         {nft::Meta{NFT_META_OIFNAME, 1}, nft::Lookup{1, "masq_ifnames", std::nullopt, false},
          nft::Masq{}},
         "masquerade");
}

void policy_rules(Builder &b, const Zone &z, Hook h)
{
    const std::string chain = zone_chain(z.name, h);
    const Verdict v = zone_policy(z, h);
    const std::string origin = fmt::format("zone {} {} policy", z.name, hook_name(h));
    nft::ObjRef zd{counter_name({CounterId::Kind::zone_drop, z.name, hook_name(h), 0})};
    if (z.log_policy && v != Verdict::accept) {
        const std::string prefix = z.log_prefix.empty()
                                       ? fmt::format("alopex {} {}: ", z.name, hook_name(h))
                                       : z.log_prefix;
        b.rule(chain, {zd, limit(z.log_limit), nft::Log{prefix}}, {}, origin);
        b.rule(chain, {policy_verdict(v)}, {}, origin);
    } else {
        b.rule(chain, {zd, policy_verdict(v)}, {}, origin);
    }
}

Exprs rt_lookup(uint8_t fam, const std::string &set, Verdict v)
{
    Exprs e = match_nfproto(fam);
    const bool six = fam == AF_INET6;
    // nft's registers for addr . l4proto . th dport (it adds a byteorder of length 1,
    // which is a no-op, between the l4proto load and the port load).
    e.push_back(nft::Payload{NFT_PAYLOAD_NETWORK_HEADER, six ? 8u : 12u, six ? 16u : 4u, 1});
    e.push_back(nft::Meta{NFT_META_L4PROTO, six ? 2u : 9u});
    e.push_back(nft::Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, six ? 13u : 10u});
    e.push_back(nft::Lookup{1, set, std::nullopt, false});
    e.push_back(policy_verdict(v));
    return e;
}

} // namespace

Result<nft::Ruleset> compile(const Model &model, const Dynamic &dyn)
{
    Builder b(model, dyn);
    for (const auto &[name, z] : model.zones)
        if (!valid_name(name) || z.name != name)
            return failf(EINVAL, "zone '{}': not a valid zone name", name);
    const auto zones = ordered_zones(model);
    ALOPEX_TRY_VOID(declare(b, zones));
    base_rules(b, dyn.panic);

    // Counters: every zone x hook twice, then rules that ask for one.
    b.rs.counters.push_back(counter_name({CounterId::Kind::unzoned, {}, {}, 0}));
    for (const Zone *z : zones)
        for (Hook h : hooks) {
            b.rs.counters.push_back(counter_name({CounterId::Kind::zone, z->name, hook_name(h), 0}));
            b.rs.counters.push_back(
                counter_name({CounterId::Kind::zone_drop, z->name, hook_name(h), 0}));
            b.rule(zone_chain(z->name, h),
                   {nft::ObjRef{counter_name({CounterId::Kind::zone, z->name, hook_name(h), 0})}},
                   {}, fmt::format("zone {} {}", z->name, hook_name(h)));
        }

    std::map<std::string, std::vector<nft::Rule>> accepts;
    for (const Zone *z : zones) {
        for (size_t i = 0; i < z->rules.size(); ++i) {
            const Rule &r = z->rules[i];
            RuleCtx ctx{zone_chain(z->name, r.hook), fmt::format("{}_r{}", z->name, i), {},
                        r.comment, rule_origin(z->name, i, r.comment)};
            if (r.counter) {
                ctx.counter = counter_name({CounterId::Kind::rule, z->name, {}, i});
                b.rs.counters.push_back(ctx.counter);
            }
            ALOPEX_TRY_VOID(emit_rule(b, r, ctx));
        }
        for (size_t i = 0; i < z->forwards.size(); ++i)
            ALOPEX_TRY_VOID(emit_forward(b, z->forwards[i], z->name,
                                         fmt::format("{}_f{}", z->name, i),
                                         fmt::format("zone {} forward {}", z->name, i + 1),
                                         accepts[z->name]));
    }

    // Runtime rules, in order: elements when the shape allows and nothing placed
    // before overlaps them (element_shaped's test), rules otherwise.
    Placer placer;
    std::map<std::string, size_t> rt_sets;   // indexes: emit_rule may add sets meanwhile
    for (size_t i = 0; i < b.rs.sets.size(); ++i)
        if (b.rs.sets[i].timeout)
            rt_sets[b.rs.sets[i].name] = i;
    for (const RuntimeRule &rr : dyn.runtime) {
        const std::string origin = fmt::format("runtime rule {}", rr.id);
        if (!model.zones.count(rr.zone))
            return failf(EINVAL, "{}: unknown zone '{}'", origin, rr.zone);
        if (rr.forward) {
            ALOPEX_TRY_VOID(emit_forward(b, *rr.forward, rr.zone, fmt::format("rt{}", rr.id),
                                         origin, accepts[rr.zone]));
            continue;
        }
        if (!rr.rule)
            return failf(EINVAL, "{}: neither a rule nor a forward", origin);
        if (placer.place(rr)) {
            for (nft::ElementOp &op : runtime_ops(rr, true, dyn.now_us))
                b.rs.sets[rt_sets.at(op.set)].elements.push_back(std::move(op.element));
            continue;
        }
        const Rule &r = *rr.rule;
        const std::string comment = rr.comment.empty() ? r.comment : rr.comment;
        RuleCtx ctx{zone_chain(rr.zone, r.hook), fmt::format("rt{}", rr.id), {}, comment, origin};
        if (r.counter) {
            ctx.counter = counter_name({CounterId::Kind::runtime, {}, {}, rr.id});
            b.rs.counters.push_back(ctx.counter);
        }
        ALOPEX_TRY_VOID(emit_rule(b, r, ctx));
    }

    for (const Zone *z : zones) {
        for (Verdict v : verdicts)
            for (uint8_t fam : {uint8_t(AF_INET), uint8_t(AF_INET6)})
                b.rule(zone_chain(z->name, Hook::input), rt_lookup(fam, rt_set(z->name, fam, v), v),
                       {}, fmt::format("zone {} runtime rules", z->name));
        for (nft::Rule &r : accepts[z->name])
            b.chain_rules[r.chain].push_back(std::move(r));
        for (Hook h : hooks)
            policy_rules(b, *z, h);
    }
    return b.finish();
}

} // namespace alopex::fwd::compile
