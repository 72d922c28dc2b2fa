// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-ipv6: IPv6 packets into slirpd's stack at fe80::1 (each a length octet
// and that many bytes, the fixed header's addresses and version filled in from the
// first octets so that most reach the extension-header chain and the upper layers).
// A listener at fe80::1 port 22 accepts every connection, one at fd00::5 port 80 answers
// each with unreachable(), and a UDP service at fe80::1 port 53 echoes each datagram.
// Whatever comes, what the stack sends must be a well-formed IPv6 packet from fe80::1
// (or fd00::5, for its connections) with a right ICMPv6, TCP or UDP checksum, no error
// longer than the minimum MTU, and no error answering an ICMPv6 error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "ipv6.hpp"
#include "stack.hpp"
#include "transport.hpp"

using namespace alopex::slirp::stack;

namespace {

const Address6 us = {0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Address6 mapped = {0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};

void check(std::span<const uint8_t> out, bool about_error)
{
    auto ip = parse_ipv6(out);
    if (!ip || (ip->src != us && ip->src != mapped) || ip->fragment)
        std::abort();
    if (ip->next == proto_icmpv6) {
        auto m = parse_icmp6(*ip);
        if (!m)
            std::abort();
        if (m->type < 128 && (out.size() > ipv6_min_mtu || about_error))
            std::abort();
    } else if (ip->next == proto_tcp) {
        if (!parse_tcp_segment(ip->payload, pseudo6_sum(ip->src, ip->dst, proto_tcp, ip->payload.size())))
            std::abort();
    } else if (ip->next == proto_udp) {
        if (ip->src != us || !parse_udp_segment(ip->payload, pseudo6_sum(ip->src, ip->dst, proto_udp, 0), true))
            std::abort();
    } else {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::span<const uint8_t> in(data, size);
    std::vector<std::vector<uint8_t>> sent;
    Stack stack({}, [&](std::span<const uint8_t> p) { sent.emplace_back(p.begin(), p.end()); }, 1);
    stack.set_ipv6_address(us);
    uint64_t now = 1;
    stack.listen_tcp(to_address(us), 22, [&](tcp::Connection &c, const TcpKey &) { c.accept(now); });
    stack.listen_tcp(to_address(mapped), 80, [&](tcp::Connection &c, const TcpKey &) { stack.unreachable(c, 1); });
    stack.bind_udp(to_address(us), 53, [&](const alopex::net::Address &src, uint16_t port, std::span<const uint8_t> p) {
        stack.send_udp(to_address(us), 53, src, port, p);
    });
    while (!in.empty()) {
        size_t n = std::min<size_t>(in[0] * 4u, in.size() - 1);
        std::vector<uint8_t> p(in.begin() + 1, in.begin() + 1 + static_cast<long>(n));
        in = in.subspan(1 + n);
        if (p.size() >= 40) {   // version 6; the destination us (or all nodes), the source the peer
            p[0] = static_cast<uint8_t>(0x60 | (p[0] & 0x0F));
            if (p[24] & 1)
                std::copy(us.begin(), us.end(), p.begin() + 24);
            else if (p[24] & 2)
                std::copy(mapped.begin(), mapped.end(), p.begin() + 24);
            p[8] = 0xFE, p[9] = 0x80;
        }
        auto t = icmp6_type_of(p);
        (void)parse_ipv6(p);
        sent.clear();
        now += 1000;
        stack.input(p, now);
        stack.advance(now);
        for (const auto &o : sent)
            check(o, t && *t < 128);
    }
    return 0;
}
