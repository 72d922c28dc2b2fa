// SPDX-License-Identifier: GPL-2.0-or-later
// Runtime rules that live as elements of `<zone>_rt4|6_<verdict>` (key saddr . l4proto .
// dport, interval + timeout): the shape test, the overlap test against rules already
// placed (pipapo refuses overlapping elements), and their element operations.
#include <sys/socket.h>

#include <array>
#include <iterator>
#include <map>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "compile/internal.hpp"

namespace alopex::fwd::compile {

namespace detail {

bool element_shape(const RuntimeRule &r)
{
    if (!r.rule || r.forward)
        return false;
    const Rule &x = *r.rule;
    if (x.hook != Hook::input || (x.proto != Proto::tcp && x.proto != Proto::udp))
        return false;
    if (x.dport.empty() || !x.sport.empty() || !x.icmp_types.empty() || x.ct_state != 0)
        return false;
    if (x.saddr.kind != AddrMatch::Kind::any && x.saddr.kind != AddrMatch::Kind::cidrs)
        return false;
    if (x.daddr.kind != AddrMatch::Kind::any || x.limit || x.log || !x.verdict)
        return false;
    if (*x.verdict == Verdict::reject && x.reject_with != RejectWith::port_unreachable)
        return false;
    return true;
}

std::vector<RtBox> rt_boxes(const RuntimeRule &r)
{
    std::vector<RtBox> out;
    if (!element_shape(r))
        return out;
    const Rule &x = *r.rule;
    const auto ports = merge_ports(x.dport);
    const uint8_t proto = proto_number(x.proto);
    for (uint8_t fam : {uint8_t(AF_INET), uint8_t(AF_INET6)}) {
        if ((fam == AF_INET && x.family == Family::ipv6) ||
            (fam == AF_INET6 && x.family == Family::ipv4))
            continue;
        std::vector<AddrRange> addrs;
        if (x.saddr.kind == AddrMatch::Kind::any) {
            AddrRange all;
            for (size_t i = 0; i < addr_len(fam); ++i)
                all.last[i] = 0xff;
            addrs.push_back(all);
        } else {
            addrs = merge_cidrs(x.saddr.cidrs, fam);
        }
        for (const AddrRange &a : addrs)
            for (const PortRange &p : ports)
                out.push_back(RtBox{fam, a, proto, p});
    }
    return out;
}

bool boxes_overlap(const RtBox &a, const RtBox &b)
{
    return a.family == b.family && a.proto == b.proto && a.addr.first <= b.addr.last &&
           b.addr.first <= a.addr.last && a.port.first <= b.port.last &&
           b.port.first <= a.port.last;
}

} // namespace detail

using namespace detail;

namespace {

__extension__ typedef unsigned __int128 u128;

u128 to_u128(const std::array<uint8_t, 16> &a)
{
    u128 v = 0;
    for (uint8_t b : a)
        v = (v << 8) | b;
    return v;
}

unsigned bit_width(u128 v)
{
    const auto hi = static_cast<uint64_t>(v >> 64), lo = static_cast<uint64_t>(v);
    if (hi)
        return 128u - unsigned(__builtin_clzll(hi));
    return lo ? 64u - unsigned(__builtin_clzll(lo)) : 0u;
}

} // namespace

// The placed boxes are pairwise disjoint (that is what place() keeps). They are indexed
// per group (zone, verdict, family, proto) and, within a group, per span class k = the bit
// width of (address last - address first), so every span in class k is below 2^k; in a
// class, by address range, and for one address range by port range (disjoint there,
// since the boxes are). A box b of class k can only overlap a query [af, al] when
// af - (2^k - 1) <= b.first <= al: a query visits, per non-empty class, the address
// ranges that start in that window, and for each one a port lookup. For host or
// same-size-prefix rules that is O(log n); a query whose address range covers many
// placed ranges (saddr any against many /32s) visits those ranges until the first overlap.
struct Placer::Boxes {
    using Ports = std::map<uint16_t, uint16_t>;                // first -> last, disjoint
    using Ranges = std::map<std::pair<u128, u128>, Ports>;     // address [first, last]
    using Group = std::map<unsigned, Ranges>;                  // span class -> ranges
    using Key = std::tuple<std::string, Verdict, uint8_t, uint8_t>;
    std::map<Key, Group> groups;

    static Key key(const RuntimeRule &r, const RtBox &b)
    {
        return {r.zone, *r.rule->verdict, b.family, b.proto};
    }

    bool overlaps(const Key &k, const RtBox &b) const
    {
        auto g = groups.find(k);
        if (g == groups.end())
            return false;
        const u128 af = to_u128(b.addr.first), al = to_u128(b.addr.last);
        for (const auto &[cls, ranges] : g->second) {
            u128 lo = 0;
            if (cls < 128) {
                const u128 reach = (u128(1) << cls) - 1;
                lo = af > reach ? af - reach : 0;
            }
            for (auto it = ranges.lower_bound({lo, 0}); it != ranges.end() && it->first.first <= al;
                 ++it) {
                if (it->first.second < af)
                    continue;
                auto p = it->second.upper_bound(b.port.last);
                if (p != it->second.begin() && std::prev(p)->second >= b.port.first)
                    return true;
            }
        }
        return false;
    }

    void insert(const Key &k, const RtBox &b)
    {
        const u128 af = to_u128(b.addr.first), al = to_u128(b.addr.last);
        groups[k][bit_width(al - af)][{af, al}][b.port.first] = b.port.last;
    }

    void erase(const Key &k, const RtBox &b)
    {
        auto g = groups.find(k);
        if (g == groups.end())
            return;
        const u128 af = to_u128(b.addr.first), al = to_u128(b.addr.last);
        auto c = g->second.find(bit_width(al - af));
        if (c == g->second.end())
            return;
        auto r = c->second.find({af, al});
        if (r == c->second.end())
            return;
        r->second.erase(b.port.first);
        if (r->second.empty())
            c->second.erase(r);
        if (c->second.empty())
            g->second.erase(c);
        if (g->second.empty())
            groups.erase(g);
    }
};

Placer::Placer() : boxes_(std::make_unique<Boxes>()) {}
Placer::~Placer() = default;
Placer::Placer(Placer &&) noexcept = default;
Placer &Placer::operator=(Placer &&) noexcept = default;

bool Placer::shaped(const RuntimeRule &r)
{
    return element_shape(r);
}

bool Placer::fits(const RuntimeRule &r) const
{
    const auto mine = rt_boxes(r);
    if (mine.empty())
        return false;
    for (const RtBox &a : mine)
        if (boxes_->overlaps(Boxes::key(r, a), a))
            return false;
    return true;
}

bool Placer::place(const RuntimeRule &r)
{
    if (!fits(r))
        return false;
    for (const RtBox &a : rt_boxes(r))
        boxes_->insert(Boxes::key(r, a), a);
    return true;
}

void Placer::unplace(const RuntimeRule &r)
{
    for (const RtBox &a : rt_boxes(r))
        boxes_->erase(Boxes::key(r, a), a);
}

bool element_shaped(const RuntimeRule &r, const std::vector<RuntimeRule> &placed)
{
    Placer p;
    for (const RuntimeRule &q : placed)
        p.place(q);
    return p.place(r);
}

std::vector<nft::ElementOp> runtime_ops(const RuntimeRule &r, bool add, uint64_t now_us)
{
    std::vector<nft::ElementOp> ops;
    const auto boxes = rt_boxes(r);
    if (boxes.empty())
        return ops;
    std::optional<uint64_t> timeout;
    if (r.expires_at_us != 0) {
        const uint64_t left = r.expires_at_us > now_us ? r.expires_at_us - now_us : 0;
        timeout = std::max<uint64_t>(1, (left + 999) / 1000);
    }
    const std::string comment = fmt::format("rt:{}", r.id);
    const std::string origin = fmt::format("runtime rule {}", r.id);
    ops.reserve(boxes.size());
    for (const RtBox &b : boxes) {
        nft::ElementOp op;
        op.kind = add ? nft::ElementOp::Kind::add : nft::ElementOp::Kind::remove;
        op.set = rt_set(r.zone, b.family, *r.rule->verdict);
        op.element.key = rt_key(b.family, b.addr.first.data(), b.proto, b.port.first);
        op.element.key_end = rt_key(b.family, b.addr.last.data(), b.proto, b.port.last);
        if (add) {
            op.element.timeout_ms = timeout;
            op.element.comment = comment;
        }
        op.element.origin = origin;
        ops.push_back(std::move(op));
    }
    return ops;
}

} // namespace alopex::fwd::compile
