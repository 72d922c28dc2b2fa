// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-transport: an IPv4 packet from the peer, read as UDP or TCP. Whatever parses
// must come back the same when slirpd writes it again (ports, sequence numbers, flags,
// window, the options slirpd writes, payload) and parse again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "ipv4.hpp"
#include "transport.hpp"

using namespace alopex::slirp::stack;

namespace {

Ipv4 rewrap(std::vector<uint8_t> &buf, const Ipv4 &ip, const std::vector<uint8_t> &segment)
{
    buf.clear();
    if (!build_ipv4(buf, {.protocol = ip.protocol, .src = ip.src, .dst = ip.dst}, segment))
        std::abort();
    auto again = parse_ipv4(buf);
    if (!again)
        std::abort();
    return *again;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    auto ip = parse_ipv4(std::span<const uint8_t>(data, size));
    if (!ip)
        return 0;
    std::vector<uint8_t> seg, buf;
    if (ip->protocol == proto_udp) {
        auto u = parse_udp(*ip);
        if (!u)
            return 0;
        build_udp(seg, ip->src, ip->dst, u->src_port, u->dst_port, u->payload);
        auto v = parse_udp(rewrap(buf, *ip, seg));
        if (!v || v->src_port != u->src_port || v->dst_port != u->dst_port ||
            !std::equal(v->payload.begin(), v->payload.end(), u->payload.begin(), u->payload.end()))
            std::abort();
    } else if (ip->protocol == proto_tcp) {
        auto t = parse_tcp(*ip);
        if (!t)
            return 0;
        build_tcp(seg, ip->src, ip->dst, *t, t->payload);
        auto v = parse_tcp(rewrap(buf, *ip, seg));
        if (!v || v->seq != t->seq || v->ack != t->ack || v->flags != t->flags || v->window != t->window ||
            v->urgent != t->urgent || !(v->options == t->options) ||
            !std::equal(v->payload.begin(), v->payload.end(), t->payload.begin(), t->payload.end()))
            std::abort();
    }
    return 0;
}
