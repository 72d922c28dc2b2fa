// SPDX-License-Identifier: GPL-2.0-or-later
// Builds a Model and Dynamic straight from the fuzz bytes (not through the TOML parser),
// compiles them, and checks the ruleset's invariants: every lookup names a declared set
// (vmaps only as vmaps), every jump a declared chain, every rule's chain and counter
// exists, names are unique, element keys have their set's length, interval elements run
// forwards and do not overlap within a set. Incremental ops are checked the same way.
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "compile/compile.hpp"

using namespace alopex::fwd;

namespace {

[[noreturn]] void broken(const char *what, const std::string &detail)
{
    std::fprintf(stderr, "invariant broken: %s: %s\n", what, detail.c_str());
    std::abort();
}

struct In {
    const uint8_t *p;
    size_t n;
    uint8_t u8()
    {
        if (n == 0)
            return 0;
        --n;
        return *p++;
    }
    uint16_t u16() { return uint16_t(u8() << 8 | u8()); }
    bool flag() { return u8() & 1; }
    template <typename T> const T &pick(const std::vector<T> &v) { return v[u8() % v.size()]; }
    // Names defined in the model, mostly; now and then any name (also unknown ones).
    std::vector<std::string> zones, sets;
    const std::string &zone_name();
    const std::string &set_name();
};

const std::vector<std::string> zone_names = {"wan", "lan", "dmz", "z_1", "a-b",
                                             "abcdefghijklmnopqrst", "nosuch"};
const std::vector<std::string> set_names = {"mgmt", "s", "x-y", "abcdefghijklmnopqrst", "nosuch"};
const std::vector<std::string> if_names = {"eth0", "eth1", "wwan0", "br0", "lo", "veth123",
                                           "abcdefghijklmno"};
const std::vector<std::string> patterns = {"eth0", "eth*", "wwan?", "br0", "veth[0-9]*", "*"};

const std::string &In::zone_name()
{
    return zones.empty() || u8() % 64 == 63 ? pick(zone_names) : pick(zones);
}

const std::string &In::set_name()
{
    return sets.empty() || u8() % 64 == 63 ? pick(set_names) : pick(sets);
}

alopex::net::Prefix cidr(In &in)
{
    const int family = in.flag() ? AF_INET6 : AF_INET;
    const unsigned bits = family == AF_INET ? 32 : 128;
    // A few interesting bytes; the rest zero so ranges collide often.
    const size_t len = bits / 8;
    std::array<uint8_t, 16> b{};
    b[0] = in.u8();
    b[1] = in.u8() & 0x3;
    b[len - 1] = in.u8();
    const unsigned prefix = in.u8() % (bits + 1);
    auto a = alopex::net::Address::from_bytes(family, std::span<const uint8_t>(b.data(), len)).value();
    auto c = alopex::net::Prefix(a, prefix).network();
    return c;
}

std::vector<PortRange> ports(In &in)
{
    std::vector<PortRange> v(in.u8() % 4);
    for (auto &p : v) {
        p.first = uint16_t(1 + in.u8() % 64);
        p.last = uint16_t(p.first + (in.flag() ? in.u8() % 16 : 0));
    }
    return v;
}

AddrMatch addr(In &in)
{
    AddrMatch a;
    switch (in.u8() % 4) {
    case 0: break;
    case 1:
        a.kind = AddrMatch::Kind::cidrs;
        for (int i = in.u8() % 4 + 1; i > 0; --i)
            a.cidrs.push_back(cidr(in));
        break;
    case 2:
        if (in.sets.empty() && in.u8() % 16)
            break;
        a.kind = AddrMatch::Kind::set;
        a.name = in.set_name();
        break;
    case 3: a.kind = AddrMatch::Kind::zone; a.name = in.zone_name(); break;
    }
    return a;
}

std::optional<RateLimit> rate(In &in)
{
    if (!in.flag())
        return std::nullopt;
    static const std::vector<uint64_t> units = {1, 60, 3600, 86400};
    return RateLimit{uint64_t(in.u8() % 10 + 1), in.pick(units), uint32_t(in.u8() % 8 + 1)};
}

Rule rule(In &in)
{
    Rule r;
    r.family = Family(in.u8() % 3);
    r.proto = Proto(in.u8() % 5);
    r.hook = Hook(in.u8() % 3);
    if (r.proto == Proto::tcp || r.proto == Proto::udp || in.u8() % 64 == 63) {
        r.dport = ports(in);
        if (in.u8() % 4 == 0)
            r.sport = ports(in);
    }
    r.saddr = addr(in);
    if (in.u8() % 4 == 0)
        r.daddr = addr(in);
    if (r.proto == Proto::icmp || r.proto == Proto::icmpv6)
        for (int i = in.u8() % 3; i > 0; --i)
            r.icmp_types.push_back(in.u8());
    if (in.u8() % 4 == 0)
        r.ct_state = in.u8() & 0x4f;
    r.limit = rate(in);
    if (in.u8() % 3 == 0)
        r.log = Log{"p: ", rate(in)};
    const uint8_t v = in.u8() % 4;
    if (v < 3)
        r.verdict = Verdict(v);
    r.reject_with = RejectWith(in.u8() % 5);
    if (r.reject_with == RejectWith::tcp_reset && r.proto != Proto::tcp && in.u8() % 16)
        r.reject_with = RejectWith::port_unreachable;
    r.counter = in.flag();
    if (in.flag())
        r.comment.push_back('c');
    return r;
}

Forward forward(In &in)
{
    Forward f;
    f.proto = in.flag() ? Proto::tcp : Proto::udp;
    if (in.u8() % 64 == 63)
        f.proto = Proto::icmp;
    f.dport = ports(in);
    if (f.dport.empty() && in.u8() % 16 != 15)
        f.dport.push_back(PortRange{80, 80});
    f.dport.resize(std::min<size_t>(f.dport.size(), 1 + in.u8() % 2));
    if (in.flag())
        f.saddr = addr(in);
    f.to = cidr(in).address();
    if (in.flag())
        f.to_port = uint16_t(in.u16() | 1);
    return f;
}

struct Built {
    Model model;
    compile::Dynamic dyn;
};

Built build(In &in)
{
    Built b;
    Model &m = b.model;
    for (int i = in.u8() % 4; i > 0; --i) {
        NamedSet s{in.pick(set_names), {}};
        if (s.name == "nosuch")
            continue;
        for (int j = in.u8() % 8; j > 0; --j)
            s.cidrs.push_back(cidr(in));
        m.sets[s.name] = s;
        in.sets.push_back(s.name);
    }
    for (int i = in.u8() % 4 + 1; i > 0; --i) {
        const std::string &name = in.pick(zone_names);
        if (name != "nosuch" && std::find(in.zones.begin(), in.zones.end(), name) == in.zones.end())
            in.zones.push_back(name);
    }
    for (const std::string &name : in.zones) {
        Zone z;
        z.name = name;
        for (int j = in.u8() % 3; j > 0; --j)
            z.interfaces.push_back(in.pick(patterns));
        z.input = Verdict(in.u8() % 3);
        z.forward = Verdict(in.u8() % 3);
        z.output = Verdict(in.u8() % 3);
        z.masquerade = in.flag();
        z.log_policy = in.flag();
        for (int j = in.u8() % 8; j > 0; --j)
            z.rules.push_back(rule(in));
        for (int j = in.u8() % 3; j > 0; --j)
            z.forwards.push_back(forward(in));
        m.zone_order.push_back(z.name);
        m.zones[z.name] = std::move(z);
    }
    if (in.flag())
        m.default_zone = in.zone_name();

    compile::Dynamic &d = b.dyn;
    for (int i = in.u8() % 5; i > 0; --i)
        d.interfaces[in.pick(if_names)] = in.flag() ? in.zone_name() : "";
    for (int i = in.u8() % 6; i > 0; --i)
        d.zone_addresses[in.zone_name()].push_back(cidr(in).address());
    uint64_t id = 0;
    for (int i = in.u8() % 8; i > 0; --i) {
        RuntimeRule r;
        id += 1 + (in.u8() % 2);
        r.id = id;
        r.zone = in.zone_name();
        if (in.u8() % 4 == 0)
            r.forward = forward(in);
        else
            r.rule = rule(in);
        r.expires_at_us = in.flag() ? uint64_t(in.u16()) * 1000 : 0;
        d.runtime.push_back(std::move(r));
    }
    d.now_us = uint64_t(in.u16()) * 1000;
    d.panic = in.u8() % 8 == 0;
    return b;
}

size_t key_len(const nft::Set &s)
{
    if (s.key.size() == 1)
        return nft::field_len(s.key[0]);
    size_t n = 0;
    for (auto t : s.key)
        n += (nft::field_len(t) + 3) / 4 * 4;
    return n;
}

// Fields of a key as [offset, len) pairs, for per-field comparisons.
std::vector<std::pair<size_t, size_t>> fields(const nft::Set &s)
{
    std::vector<std::pair<size_t, size_t>> f;
    size_t off = 0;
    for (auto t : s.key) {
        const size_t len = nft::field_len(t);
        f.emplace_back(off, len);
        off += s.key.size() == 1 ? len : (len + 3) / 4 * 4;
    }
    return f;
}

bool field_le(const nft::Bytes &a, const nft::Bytes &b, std::pair<size_t, size_t> f)
{
    return !std::lexicographical_compare(b.begin() + long(f.first), b.begin() + long(f.first + f.second),
                                         a.begin() + long(f.first), a.begin() + long(f.first + f.second));
}

void check_element(const nft::Set &s, const nft::Element &e)
{
    if (e.key.size() != key_len(s))
        broken("key length", s.name);
    if (s.interval) {
        if (e.key_end.size() != e.key.size())
            broken("interval element without key_end", s.name);
        for (auto f : fields(s))
            if (!field_le(e.key, e.key_end, f))
                broken("interval runs backwards", s.name);
    } else if (!e.key_end.empty()) {
        broken("key_end in a non-interval set", s.name);
    }
    if (s.data == nft::DataType::verdict && !e.verdict)
        broken("vmap element without verdict", s.name);
    if (e.timeout_ms && !s.timeout)
        broken("timeout in a set without timeouts", s.name);
    if (e.timeout_ms && *e.timeout_ms == 0)
        broken("zero timeout", s.name);
}

bool overlap(const nft::Set &s, const nft::Element &a, const nft::Element &b)
{
    if (!s.interval)
        return a.key == b.key;
    for (auto f : fields(s))
        if (!(field_le(a.key, b.key_end, f) && field_le(b.key, a.key_end, f)))
            return false;
    return true;
}

void check(const nft::Ruleset &rs)
{
    std::set<std::string> chains, sets, counters;
    std::map<std::string, const nft::Set *> by_name;
    for (const auto &c : rs.chains)
        if (!chains.insert(c.name).second)
            broken("chain declared twice", c.name);
    for (const auto &c : rs.counters)
        if (!counters.insert(c).second)
            broken("counter declared twice", c);
    for (const auto &s : rs.sets) {
        if (!sets.insert(s.name).second)
            broken("set declared twice", s.name);
        by_name[s.name] = &s;
        if (s.key.empty() || key_len(s) == 0 || key_len(s) > 64)
            broken("bad key", s.name);
        for (const auto &e : s.elements) {
            check_element(s, e);
            if (e.verdict && (e.verdict->code == -3 || e.verdict->code == -4) &&
                !chains.count(e.verdict->chain))
                broken("element jumps to an undeclared chain", e.verdict->chain);
        }
        // No two elements equal or overlapping (sorted sweep for single fields).
        if (s.key.size() == 1) {
            std::vector<const nft::Element *> v;
            for (const auto &e : s.elements)
                v.push_back(&e);
            std::sort(v.begin(), v.end(), [](auto *a, auto *b) { return a->key < b->key; });
            for (size_t i = 1; i < v.size(); ++i) {
                const nft::Bytes &prev_end = s.interval ? v[i - 1]->key_end : v[i - 1]->key;
                if (!(prev_end < v[i]->key))
                    broken("elements overlap", s.name);
            }
        } else {
            for (size_t i = 0; i < s.elements.size(); ++i)
                for (size_t j = i + 1; j < s.elements.size(); ++j)
                    if (overlap(s, s.elements[i], s.elements[j]))
                        broken("concatenated elements overlap", s.name);
        }
    }
    std::string last_chain;
    std::set<std::string> done_chains;
    for (const auto &r : rs.rules) {
        if (!chains.count(r.chain))
            broken("rule in an undeclared chain", r.chain);
        if (r.chain != last_chain) {
            if (!done_chains.insert(r.chain).second)
                broken("rules of a chain not together", r.chain);
            last_chain = r.chain;
        }
        if (r.exprs.empty())
            broken("empty rule", r.chain);
        for (const auto &e : r.exprs) {
            if (auto *l = std::get_if<nft::Lookup>(&e)) {
                auto it = by_name.find(l->set);
                if (it == by_name.end())
                    broken("lookup of an undeclared set", l->set);
                if (l->dreg.has_value() != it->second->data.has_value())
                    broken("vmap lookup mismatch", l->set);
            } else if (auto *v = std::get_if<nft::Verdict>(&e)) {
                if ((v->code == -3 || v->code == -4) && !chains.count(v->chain))
                    broken("jump to an undeclared chain", v->chain);
            } else if (auto *o = std::get_if<nft::ObjRef>(&e)) {
                if (!counters.count(o->counter))
                    broken("objref of an undeclared counter", o->counter);
                if (!compile::parse_counter_name(o->counter))
                    broken("counter name does not parse", o->counter);
            }
        }
    }
}

void check_ops(const nft::Ruleset &rs, const std::vector<nft::ElementOp> &ops)
{
    for (const auto &op : ops) {
        const nft::Set *s = nullptr;
        for (const auto &x : rs.sets)
            if (x.name == op.set)
                s = &x;
        if (!s)
            broken("element op on an undeclared set", op.set);
        if (op.element.key.size() != key_len(*s))
            broken("element op key length", op.set);
        if (op.kind == nft::ElementOp::Kind::add)
            check_element(*s, op.element);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    In in{data, size, {}, {}};
    Built b = build(in);
    auto rs = compile::compile(b.model, b.dyn);
    for (const auto &ifname : if_names)
        (void)compile::zone_of(b.model, b.dyn.interfaces, ifname);
    if (!rs)
        return 0;
    check(*rs);
    std::vector<RuntimeRule> placed;
    for (const auto &r : b.dyn.runtime) {
        if (!compile::element_shaped(r, placed))
            continue;
        placed.push_back(r);
        check_ops(*rs, compile::runtime_ops(r, true, b.dyn.now_us));
        check_ops(*rs, compile::runtime_ops(r, false, b.dyn.now_us));
    }
    for (const auto &[zn, z] : b.model.zones) {
        check_ops(*rs, compile::interface_ops(b.model, "eth9", "", zn));
        for (const auto &[zn2, z2] : b.model.zones)
            check_ops(*rs, compile::interface_ops(b.model, "eth9", zn, zn2));
        for (const auto &[zz, addrs] : b.dyn.zone_addresses)
            for (const auto &a : addrs)
                if (zz == zn)
                    check_ops(*rs, compile::address_ops(zn, a, true));
    }
    return 0;
}
