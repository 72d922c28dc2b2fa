// SPDX-License-Identifier: GPL-2.0-or-later
// Runtime rules that live as elements of `<zone>_rt4|6_<verdict>` (key saddr . l4proto .
// dport, interval + timeout): the shape test, the overlap test against rules already
// placed (pipapo refuses overlapping elements), and their element operations.
#include <sys/socket.h>

#include <map>
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

struct Placer::Boxes {
    std::map<std::pair<std::string, Verdict>, std::vector<RtBox>> placed;
};

Placer::Placer() : boxes_(std::make_unique<Boxes>()) {}
Placer::~Placer() = default;
Placer::Placer(Placer &&) noexcept = default;
Placer &Placer::operator=(Placer &&) noexcept = default;

bool Placer::place(const RuntimeRule &r)
{
    auto mine = rt_boxes(r);
    if (mine.empty())
        return false;
    auto &placed = boxes_->placed[{r.zone, *r.rule->verdict}];
    for (const RtBox &a : mine)
        for (const RtBox &b : placed)
            if (boxes_overlap(a, b))
                return false;
    placed.insert(placed.end(), mine.begin(), mine.end());
    return true;
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
