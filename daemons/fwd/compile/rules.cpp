// SPDX-License-Identifier: GPL-2.0-or-later
// One filter rule or port forward -> nf_tables rules. The expression order is that of the
// nft text `meta nfproto F ip saddr S ip daddr D meta l4proto P th sport A th dport B
// icmp type T ct state C limit L counter name N log prefix X VERDICT`, and every match is
// what nft sends for it (see tests/unit/fwd/compile for the golden output of nft).
//
// Families: a rule of family both with no address match is one rule without a family
// match; otherwise there is one rule per family that can match (a set or CIDR list with
// only IPv4 entries gives only the ip rule; none at all gives no rule). Several ICMP
// types give one rule per type (the IR has no icmp_type set datatype).
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>

#include <algorithm>

#include <fmt/format.h>

#include "compile/builder.hpp"

namespace alopex::fwd::compile::detail {

namespace {

void append(Exprs &to, Exprs from)
{
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

// The CIDRs an address match stands for (for its family restriction); null for any/zone.
Result<const std::vector<net::Prefix> *> addr_cidrs(const Builder &b, const AddrMatch &a,
                                            const std::string &origin)
{
    switch (a.kind) {
    case AddrMatch::Kind::any: return nullptr;
    case AddrMatch::Kind::cidrs: return &a.cidrs;
    case AddrMatch::Kind::set: {
        auto it = b.model.sets.find(a.name);
        if (it == b.model.sets.end())
            return failf(EINVAL, "{}: unknown set '{}'", origin, a.name);
        return &it->second.cidrs;
    }
    case AddrMatch::Kind::zone:
        if (!b.model.zones.count(a.name))
            return failf(EINVAL, "{}: unknown zone '{}'", origin, a.name);
        return nullptr;
    }
    return nullptr;
}

// Matches of one address (source or destination) for one family.
Result<Exprs> addr_exprs(Builder &b, const AddrMatch &a, uint8_t fam, bool source,
                         const std::string &prefix, const std::string &origin)
{
    switch (a.kind) {
    case AddrMatch::Kind::any: return Exprs{};
    case AddrMatch::Kind::set: return match_addr_lookup(fam, source, named_set(a.name, fam));
    case AddrMatch::Kind::zone: return match_addr_lookup(fam, source, addr_set(a.name, fam));
    case AddrMatch::Kind::cidrs: break;
    }
    const net::Prefix *only = nullptr;
    size_t n = 0;
    for (const net::Prefix &c : a.cidrs)
        if (c.family() == fam) {
            only = &c;
            ++n;
        }
    if (n == 1)
        return match_cidr(*only, source);
    const std::string name = fmt::format("{}_{}{}", prefix, source ? "saddr" : "daddr",
                                         fam == AF_INET6 ? 6 : 4);
    if (!b.find_set(name)) {
        nft::Set s = make_set(name, {fam == AF_INET6 ? nft::DataType::ipv6_addr
                                                     : nft::DataType::ipv4_addr},
                              true, origin);
        add_addr_ranges(s, fam, merge_cidrs(a.cidrs, fam), origin);
        ALOPEX_TRY_VOID(b.set(std::move(s)));
    }
    return match_addr_lookup(fam, source, name);
}

Result<Exprs> port_exprs(Builder &b, const std::vector<PortRange> &ports, uint32_t offset,
                         const std::string &prefix, const std::string &origin)
{
    const auto merged = merge_ports(ports);
    if (merged.size() == 1)
        return match_port(merged[0], offset);
    const std::string name = prefix + (offset == 0 ? "_sport" : "_dport");
    if (!b.find_set(name)) {
        nft::Set s = make_set(name, {nft::DataType::inet_service}, true, origin);
        add_port_ranges(s, merged, origin);
        ALOPEX_TRY_VOID(b.set(std::move(s)));
    }
    return Exprs{nft::Payload{NFT_PAYLOAD_TRANSPORT_HEADER, offset, 2, 1},
                 nft::Lookup{1, name, std::nullopt, false}};
}

// th sport + th dport; two single ports are one 4-byte load, as nft merges them.
Result<Exprs> ports_exprs(Builder &b, const std::vector<PortRange> &sport,
                          const std::vector<PortRange> &dport, const std::string &prefix,
                          const std::string &origin)
{
    Exprs e;
    if (!sport.empty() && !dport.empty()) {
        const auto s = merge_ports(sport), d = merge_ports(dport);
        if (s.size() == 1 && d.size() == 1 && s[0].first == s[0].last &&
            d[0].first == d[0].last) {
            Bytes data = be16(s[0].first);
            Bytes dd = be16(d[0].first);
            data.insert(data.end(), dd.begin(), dd.end());
            return Exprs{nft::Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4, 1},
                         nft::Cmp{1, NFT_CMP_EQ, std::move(data)}};
        }
    }
    if (!sport.empty()) {
        ALOPEX_TRY(x, port_exprs(b, sport, 0, prefix, origin));
        append(e, std::move(x));
    }
    if (!dport.empty()) {
        ALOPEX_TRY(x, port_exprs(b, dport, 2, prefix, origin));
        append(e, std::move(x));
    }
    return e;
}

std::vector<uint8_t> families(bool v4, bool v6)
{
    std::vector<uint8_t> f;
    if (v4)
        f.push_back(AF_INET);
    if (v6)
        f.push_back(AF_INET6);
    return f;
}

} // namespace

Result<> emit_rule(Builder &b, const Rule &r, const RuleCtx &ctx)
{
    const bool l4 = r.proto == Proto::tcp || r.proto == Proto::udp;
    const bool icmp = r.proto == Proto::icmp || r.proto == Proto::icmpv6;
    if ((!r.dport.empty() || !r.sport.empty()) && !l4)
        return failf(EINVAL, "{}: ports need proto tcp or udp", ctx.origin);
    if (!r.icmp_types.empty() && !icmp)
        return failf(EINVAL, "{}: icmp_type needs proto icmp or icmpv6", ctx.origin);
    if (r.verdict == Verdict::reject && r.reject_with == RejectWith::tcp_reset &&
        r.proto != Proto::tcp && r.proto != Proto::any)
        return failf(EINVAL, "{}: reject with tcp reset needs proto tcp", ctx.origin);

    if (!r.verdict && !r.log && ctx.counter.empty())
        return {};   // no statement: the rule would do nothing

    bool v4 = r.family != Family::ipv6, v6 = r.family != Family::ipv4;
    if (r.proto == Proto::icmp)
        v6 = false;
    if (r.proto == Proto::icmpv6)
        v4 = false;
    for (const AddrMatch *a : {&r.saddr, &r.daddr}) {
        ALOPEX_TRY(cidrs, addr_cidrs(b, *a, ctx.origin));
        if (cidrs) {
            v4 = v4 && has_family(*cidrs, AF_INET);
            v6 = v6 && has_family(*cidrs, AF_INET6);
        }
    }
    if (!v4 && !v6)
        return {};   // can match nothing (e.g. an IPv6 rule on a set of IPv4 networks)
    const bool per_family = !(v4 && v6) || r.saddr.kind != AddrMatch::Kind::any ||
                            r.daddr.kind != AddrMatch::Kind::any;
    std::vector<uint8_t> passes = per_family ? families(v4, v6) : std::vector<uint8_t>{0};

    for (uint8_t fam : passes) {
        Exprs base;
        if (fam) {
            append(base, match_nfproto(fam));
            ALOPEX_TRY(s, addr_exprs(b, r.saddr, fam, true, ctx.set_prefix, ctx.origin));
            append(base, std::move(s));
            ALOPEX_TRY(d, addr_exprs(b, r.daddr, fam, false, ctx.set_prefix, ctx.origin));
            append(base, std::move(d));
        }
        if (r.proto != Proto::any)
            append(base, match_l4proto(proto_number(r.proto)));
        else if (r.verdict == Verdict::reject && r.reject_with == RejectWith::tcp_reset)
            append(base, match_l4proto(IPPROTO_TCP));
        if (l4) {
            ALOPEX_TRY(p, ports_exprs(b, r.sport, r.dport, ctx.set_prefix, ctx.origin));
            append(base, std::move(p));
        }
        std::vector<std::optional<uint8_t>> types;
        if (r.icmp_types.empty())
            types.push_back(std::nullopt);
        for (uint8_t t : r.icmp_types)
            if (std::find(types.begin(), types.end(), std::optional<uint8_t>(t)) == types.end())
                types.push_back(t);
        for (const auto &t : types) {
            Exprs m = base;
            if (t) {
                m.push_back(nft::Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, 1});
                m.push_back(nft::Cmp{1, NFT_CMP_EQ, {*t}});
            }
            if (r.ct_state)
                append(m, match_ct_bits(NFT_CT_STATE, r.ct_state));
            if (r.limit)
                m.push_back(limit(*r.limit));
            std::optional<Expr> v;
            if (r.verdict)
                v = *r.verdict == Verdict::accept ? verdict(NF_ACCEPT)
                    : *r.verdict == Verdict::drop ? verdict(NF_DROP)
                                                  : reject(r.reject_with);
            if (r.log && r.log->limit && v) {
                // The log's limit must not gate the verdict: log in a rule of its own.
                Exprs lg = m;
                lg.push_back(limit(*r.log->limit));
                lg.push_back(nft::Log{r.log->prefix});
                b.rule(ctx.chain, std::move(lg), ctx.comment, ctx.origin);
                if (!ctx.counter.empty())
                    m.push_back(nft::ObjRef{ctx.counter});
                m.push_back(*v);
            } else {
                if (!ctx.counter.empty())
                    m.push_back(nft::ObjRef{ctx.counter});
                if (r.log) {
                    if (r.log->limit)
                        m.push_back(limit(*r.log->limit));
                    m.push_back(nft::Log{r.log->prefix});
                }
                if (v)
                    m.push_back(*v);
            }
            b.rule(ctx.chain, std::move(m), ctx.comment, ctx.origin);
        }
    }
    return {};
}

Result<> emit_forward(Builder &b, const Forward &f, const std::string &zone,
                      const std::string &set_prefix, const std::string &origin,
                      std::vector<nft::Rule> &accepts)
{
    if (f.proto != Proto::tcp && f.proto != Proto::udp)
        return failf(EINVAL, "{}: a forward needs proto tcp or udp", origin);
    if (f.dport.empty())
        return failf(EINVAL, "{}: a forward needs dport", origin);
    const uint8_t fam = uint8_t(f.to.family());
    if (addr_len(fam) == 0)
        return failf(EINVAL, "{}: bad destination address", origin);
    ALOPEX_TRY(cidrs, addr_cidrs(b, f.saddr, origin));
    if (cidrs && !has_family(*cidrs, fam))
        return {};   // nobody of the destination's family may use it
    Exprs who;
    if (f.saddr.kind != AddrMatch::Kind::any) {
        ALOPEX_TRY(s, addr_exprs(b, f.saddr, fam, true, set_prefix, origin));
        who = std::move(s);
    }
    const uint8_t proto = proto_number(f.proto);
    const Bytes to(f.to.bytes().begin(), f.to.bytes().end());

    Exprs dn;
    if (!who.empty()) {
        append(dn, match_nfproto(fam));
        append(dn, who);
    }
    append(dn, match_l4proto(proto));
    ALOPEX_TRY(dp, ports_exprs(b, {}, f.dport, set_prefix, origin));
    append(dn, dp);
    dn.push_back(nft::Immediate{1, to});
    std::optional<nft::Reg> proto_reg;
    if (f.to_port) {
        dn.push_back(nft::Immediate{2, be16(*f.to_port)});
        proto_reg = 2;
    }
    dn.push_back(nft::Nat{NFT_NAT_DNAT, uint32_t(fam == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4),
                          1, proto_reg});
    b.rule(dnat_chain(zone), std::move(dn), f.comment, origin);

    Exprs acc = match_ct_bits(NFT_CT_STATUS, IPS_DST_NAT);
    append(acc, match_nfproto(fam));
    append(acc, who);
    append(acc, match_cidr(net::Prefix::host(f.to), false));
    append(acc, match_l4proto(proto));
    if (f.to_port) {
        append(acc, match_port(PortRange{*f.to_port, *f.to_port}, 2));
    } else {
        append(acc, std::move(dp));
    }
    acc.push_back(verdict(NF_ACCEPT));
    accepts.push_back(nft::Rule{zone_chain(zone, Hook::forward), std::move(acc), f.comment, origin});
    return {};
}

} // namespace alopex::fwd::compile::detail
