// SPDX-License-Identifier: GPL-2.0-or-later
#include "render.hpp"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <cstring>
#include <sstream>

#include <fmt/format.h>

namespace alopex::fwd::test {

namespace {

std::string data(const nft::Bytes &b)
{
    std::string out;
    for (size_t i = 0; i < b.size(); i += 4) {
        uint32_t w = 0;
        std::memcpy(&w, b.data() + i, std::min<size_t>(4, b.size() - i));
        out += fmt::format("{}0x{:08x}", i ? " " : "", w);
    }
    return out;
}

const char *meta_key(uint32_t k)
{
    static const char *names[] = {"len", "protocol", "priority", "mark", "iif", "oif",
                                  "iifname", "oifname", "iiftype", "oiftype", "skuid", "skgid",
                                  "nftrace", "rtclassid", "secmark", "nfproto", "l4proto"};
    return k < std::size(names) ? names[k] : "?";
}

const char *cmp_op(uint32_t op)
{
    static const char *names[] = {"eq", "neq", "lt", "lte", "gt", "gte"};
    return op < std::size(names) ? names[op] : "?";
}

const char *base(uint32_t b)
{
    return b == NFT_PAYLOAD_LL_HEADER ? "link" : b == NFT_PAYLOAD_NETWORK_HEADER ? "network"
                                                                                 : "transport";
}

std::string verdict(const nft::Verdict &v)
{
    switch (v.code) {
    case NF_ACCEPT: return "accept";
    case NF_DROP: return "drop";
    case NFT_JUMP: return "jump -> " + v.chain;
    case NFT_GOTO: return "goto -> " + v.chain;
    case NFT_RETURN: return "return";
    }
    return fmt::format("verdict {}", v.code);
}

const char *unit(uint64_t s)
{
    return s == 1 ? "second" : s == 60 ? "minute" : s == 3600 ? "hour" : s == 86400 ? "day" : "week";
}

struct Printer {
    std::string operator()(const nft::Meta &e) const
    {
        return fmt::format("meta load {} => reg {}", meta_key(e.key), e.dreg);
    }
    std::string operator()(const nft::Payload &e) const
    {
        return fmt::format("payload load {}b @ {} header + {} => reg {}", e.len, base(e.base),
                           e.offset, e.dreg);
    }
    std::string operator()(const nft::Cmp &e) const
    {
        return fmt::format("cmp {} reg {} {}", cmp_op(e.op), e.sreg, data(e.data));
    }
    std::string operator()(const nft::Range &e) const
    {
        return fmt::format("range {} reg {} {} {}", e.op == NFT_RANGE_EQ ? "eq" : "neq", e.sreg,
                           data(e.from), data(e.to));
    }
    std::string operator()(const nft::Bitwise &e) const
    {
        return fmt::format("bitwise reg {} = ( reg {} & {} ) ^ {}", e.dreg, e.sreg, data(e.mask),
                           data(e.xor_));
    }
    std::string operator()(const nft::Lookup &e) const
    {
        std::string s = fmt::format("lookup reg {} set {}", e.sreg, e.set);
        if (e.dreg)
            s += fmt::format(" dreg {}", *e.dreg);
        if (e.invert)
            s += " 0x1";
        return s;
    }
    std::string operator()(const nft::Ct &e) const
    {
        return fmt::format("ct load {} => reg {}", e.key == NFT_CT_STATE ? "state"
                                                   : e.key == NFT_CT_STATUS ? "status" : "?",
                           e.dreg);
    }
    std::string operator()(const nft::Counter &) const { return "counter pkts 0 bytes 0"; }
    std::string operator()(const nft::ObjRef &e) const
    {
        return fmt::format("objref type 1 name {}", e.counter);
    }
    std::string operator()(const nft::Log &e) const { return fmt::format("log prefix {}", e.prefix); }
    std::string operator()(const nft::Limit &e) const
    {
        return fmt::format("limit rate {}/{} burst {} type packets flags 0x{:x}", e.rate,
                           unit(e.unit_s), e.burst, e.invert ? 1 : 0);
    }
    std::string operator()(const nft::Reject &e) const
    {
        return fmt::format("reject type {} code {}", e.type, e.code);
    }
    std::string operator()(const nft::Nat &e) const
    {
        std::string s = fmt::format("nat {} {} addr_min reg {}", e.type == NFT_NAT_DNAT ? "dnat" : "snat",
                                    e.family == NFPROTO_IPV6 ? "ip6" : "ip", e.addr_min);
        if (e.proto_min)
            s += fmt::format(" proto_min reg {} flags 0x2", *e.proto_min);
        return s;
    }
    std::string operator()(const nft::Masq &) const { return "masq"; }
    std::string operator()(const nft::Verdict &e) const
    {
        return "immediate reg 0 " + verdict(e);
    }
    std::string operator()(const nft::Immediate &e) const
    {
        return fmt::format("immediate reg {} {}", e.dreg, data(e.data));
    }
};

} // namespace

std::string render(const nft::Expr &e) { return "  [ " + std::visit(Printer{}, e) + " ]\n"; }

std::string render(const nft::Rule &r)
{
    std::string s;
    for (const auto &e : r.exprs)
        s += render(e);
    return s;
}

std::string strip_noops(const std::string &text)
{
    std::istringstream in(text);
    std::string line, out;
    while (std::getline(in, line)) {
        if (line.find("[ byteorder ") != std::string::npos ||
            line.find_first_not_of(' ') == std::string::npos)
            continue;
        out += line + "\n";
    }
    return out;
}

std::vector<const nft::Rule *> chain_rules(const nft::Ruleset &rs, const std::string &chain)
{
    std::vector<const nft::Rule *> v;
    for (const auto &r : rs.rules)
        if (r.chain == chain)
            v.push_back(&r);
    return v;
}

const nft::Set *find_set(const nft::Ruleset &rs, const std::string &name)
{
    for (const auto &s : rs.sets)
        if (s.name == name)
            return &s;
    return nullptr;
}

std::string hex(const nft::Bytes &b)
{
    std::string s;
    for (uint8_t x : b)
        s += fmt::format("{:02x}", x);
    return s;
}

} // namespace alopex::fwd::test
