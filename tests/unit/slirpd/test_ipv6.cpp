// SPDX-License-Identifier: GPL-2.0-or-later
// IPv6 in slirpd's stack: the parser with hostile extension-header chains (order,
// lengths, options that say discard, routing, fragments, too many), and the stack's
// answers at its link-local address: echo, a RST, port unreachable, Parameter Problem,
// each with a right checksum, and none where RFC 4443 forbids one.
#include <catch2/catch.hpp>

#include <vector>

#include "ipv6.hpp"
#include "stack.hpp"
#include "transport.hpp"

using namespace alopex::slirp::stack;
using Bytes = std::vector<uint8_t>;

namespace {

const Address6 us = {0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Address6 peer = {0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
const Address6 all_nodes = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

// An IPv6 packet: `ext` (extension headers, each with its own Next Header) after the
// fixed header whose Next Header is `first`, then `upper`.
Bytes packet6(uint8_t first, const Bytes &ext, const Bytes &upper, const Address6 &src = peer,
              const Address6 &dst = us)
{
    Bytes payload = ext;
    payload.insert(payload.end(), upper.begin(), upper.end());
    Bytes out;
    build_ipv6(out, src, dst, first, 64, payload);
    return out;
}

Bytes echo_request(const Address6 &src, const Address6 &dst)
{
    Bytes m;
    build_icmp6(m, src, dst, icmp6_echo_request, 0, Bytes{0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'});
    return m;
}

struct Rig {
    std::vector<Bytes> out;
    Stack stack{{}, [this](std::span<const uint8_t> p) { out.emplace_back(p.begin(), p.end()); }, 1};
    Rig() { stack.set_ipv6_address(us); }
    Ipv6 last()
    {
        REQUIRE(out.size() == 1);
        auto ip = parse_ipv6(out.back());
        REQUIRE(ip);
        return *ip;
    }
};

} // namespace

TEST_CASE("ipv6 parse: a plain packet, Payload Length, truncations", "[slirp][ipv6]")
{
    Bytes p = packet6(proto_icmpv6, {}, echo_request(peer, us));
    auto ip = parse_ipv6(p);
    REQUIRE(ip);
    CHECK(ip->next == proto_icmpv6);
    CHECK(ip->next_at == 6);
    CHECK(ip->src == peer);
    CHECK(ip->dst == us);
    CHECK(ip->payload.size() == 12);
    Bytes longer = p;
    longer.insert(longer.end(), {1, 2, 3});   // octets after Payload Length: not the packet's
    CHECK(parse_ipv6(longer)->payload.size() == 12);
    for (size_t n = 0; n < p.size(); ++n)
        CHECK_FALSE(parse_ipv6(std::span(p).first(n)));
    Bytes v4 = p;
    v4[0] = 0x40;
    CHECK_FALSE(parse_ipv6(v4));
}

TEST_CASE("ipv6 parse hostile: extension-header chains", "[slirp][ipv6]")
{
    Bytes icmp = echo_request(peer, us);
    // Hop-by-Hop (PadN), Destination Options (Pad1 x6), then ICMPv6.
    Bytes chain = {60, 0, 1, 4, 0, 0, 0, 0, proto_icmpv6, 0, 0, 0, 0, 0, 0, 0};
    auto ip = parse_ipv6(packet6(0, chain, icmp));
    REQUIRE(ip);
    CHECK(ip->next == proto_icmpv6);
    CHECK(ip->next_at == 48);
    CHECK(ip->payload.size() == icmp.size());

    Ipv6Problem pr;
    // Hop-by-Hop after a Destination Options header: unrecognized Next Header there.
    CHECK_FALSE(parse_ipv6(packet6(60, {0, 0, 1, 4, 0, 0, 0, 0, 58, 0, 1, 4, 0, 0, 0, 0}, icmp), &pr));
    CHECK(pr.code == 1);
    CHECK(pr.pointer == 40);
    // Unknown options: 00xxxxxx skipped, 01 discarded silently, 10 and 11 a problem.
    CHECK(parse_ipv6(packet6(60, {58, 0, 0x1E, 4, 0, 0, 0, 0}, icmp)));
    pr = {};
    CHECK_FALSE(parse_ipv6(packet6(60, {58, 0, 0x5E, 4, 0, 0, 0, 0}, icmp), &pr));
    CHECK_FALSE(pr.code);
    CHECK_FALSE(parse_ipv6(packet6(60, {58, 0, 0x9E, 4, 0, 0, 0, 0}, icmp), &pr));
    CHECK((pr.code == 2 && pr.pointer == 42 && pr.even_to_multicast));
    CHECK_FALSE(parse_ipv6(packet6(60, {58, 0, 0xDE, 4, 0, 0, 0, 0}, icmp), &pr));
    CHECK((pr.code == 2 && !pr.even_to_multicast));
    // An option running past its header; a header running past the packet.
    CHECK_FALSE(parse_ipv6(packet6(60, {58, 0, 1, 9, 0, 0, 0, 0}, icmp), &pr));
    CHECK((pr.code == 0 && pr.pointer == 42));
    CHECK_FALSE(parse_ipv6(packet6(60, {58, 200, 0, 0, 0, 0, 0, 0}, icmp), &pr));
    CHECK(pr.code == 0);
    CHECK_FALSE(parse_ipv6(packet6(60, {58, 0, 0}, {}), &pr));
    // A Routing header with segments left: slirpd routes nowhere.
    CHECK_FALSE(parse_ipv6(packet6(43, {58, 0, 4, 1, 0, 0, 0, 0}, icmp), &pr));
    CHECK((pr.code == 0 && pr.pointer == 42));
    CHECK(parse_ipv6(packet6(43, {58, 0, 4, 0, 0, 0, 0, 0}, icmp)));
    // A Fragment header: flagged, the upper layer not parsed.
    ip = parse_ipv6(packet6(44, {58, 0, 0, 1, 0, 0, 0, 7}, icmp));
    REQUIRE(ip);
    CHECK(ip->fragment);
    // Nine Destination Options headers.
    Bytes nine;
    for (int i = 0; i < 9; ++i)
        nine.insert(nine.end(), {static_cast<uint8_t>(i < 8 ? 60 : 58), 0, 1, 4, 0, 0, 0, 0});
    CHECK_FALSE(parse_ipv6(packet6(60, nine, icmp)));
}

TEST_CASE("stack ipv6: echo answered at fe80:: and to all nodes, with a right checksum", "[slirp][ipv6][stack]")
{
    Rig r;
    r.stack.input(packet6(proto_icmpv6, {}, echo_request(peer, us)), 0);
    auto ip = r.last();
    CHECK(ip.src == us);
    CHECK(ip.dst == peer);
    auto m = parse_icmp6(ip);
    REQUIRE(m);
    CHECK(m->type == icmp6_echo_reply);
    CHECK(Bytes(m->rest.begin(), m->rest.end()) == Bytes{0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'});
    r.out.clear();
    r.stack.input(packet6(proto_icmpv6, {}, echo_request(peer, all_nodes), peer, all_nodes), 0);
    CHECK(r.last().src == us);
    CHECK(r.stack.stats().echo6_replies == 2);

    r.out.clear();
    Bytes bad = packet6(proto_icmpv6, {}, echo_request(peer, us));
    bad.back() ^= 1;
    r.stack.input(bad, 0);   // bad checksum
    Address6 other = us;
    other[15] = 9;
    r.stack.input(packet6(proto_icmpv6, {}, echo_request(peer, other), peer, other), 0);   // not ours
    r.stack.input(packet6(proto_icmpv6, {}, echo_request(all_nodes, us), all_nodes, us), 0);   // from multicast
    CHECK(r.out.empty());
    CHECK(r.stack.stats().icmpv6_bad == 1);

    Stack down({}, [](std::span<const uint8_t>) { FAIL("sent before IPV6CP"); });
    down.input(packet6(proto_icmpv6, {}, echo_request(peer, us)), 0);
    CHECK(down.stats().not_handled == 1);
}

TEST_CASE("stack ipv6: TCP gets a RST, UDP a port unreachable, another protocol a Parameter Problem",
          "[slirp][ipv6][stack]")
{
    Rig r;
    Tcp syn;
    syn.src_port = 40000, syn.dst_port = 22, syn.seq = 1000, syn.flags = tcp_flag::syn;
    Bytes seg;
    size_t start = put_tcp(seg, syn, {});
    set_tcp_checksum(seg, start, pseudo6_sum(peer, us, proto_tcp, seg.size()));
    r.stack.input(packet6(proto_tcp, {}, seg), 0);
    auto ip = r.last();
    auto rst = parse_tcp_segment(ip.payload, pseudo6_sum(ip.src, ip.dst, proto_tcp, ip.payload.size()));
    REQUIRE(rst);
    CHECK(rst->flags == (tcp_flag::rst | tcp_flag::ack));
    CHECK(rst->ack == 1001);
    CHECK(rst->src_port == 22);

    r.out.clear();
    Bytes udp = {0x9C, 0x40, 0, 53, 0, 12, 0, 0, 'd', 'n', 's', '?'};
    set_udp_checksum(udp, 0, pseudo6_sum(peer, us, proto_udp, udp.size()));   // required over IPv6
    Bytes udp_packet = packet6(proto_udp, {}, udp);
    r.stack.input(udp_packet, 0);
    ip = r.last();
    auto m = parse_icmp6(ip);
    REQUIRE(m);
    CHECK((m->type == icmp6_unreachable && m->code == 4));
    CHECK(Bytes(m->rest.begin() + 4, m->rest.end()) == udp_packet);   // the whole packet quoted

    r.out.clear();
    r.stack.input(packet6(99, {}, {1, 2, 3, 4}), 0);
    m = parse_icmp6(r.last());
    REQUIRE(m);
    CHECK((m->type == icmp6_parameter_problem && m->code == 1));
    CHECK(Bytes(m->rest.begin(), m->rest.begin() + 4) == Bytes{0, 0, 0, 6});

    r.out.clear();
    r.stack.input(packet6(60, {58, 0, 0xDE, 4, 0, 0, 0, 0}, echo_request(peer, us)), 0);
    m = parse_icmp6(r.last());
    REQUIRE(m);
    CHECK((m->type == icmp6_parameter_problem && m->code == 2));
    CHECK(Bytes(m->rest.begin(), m->rest.begin() + 4) == Bytes{0, 0, 0, 42});

    // No error about an error, none to a multicast destination (unless an option asks).
    r.out.clear();
    Bytes err;
    build_icmp6(err, peer, us, icmp6_unreachable, 4, Bytes(12, 0));
    r.stack.input(packet6(60, {58, 0, 0xDE, 4, 0, 0, 0, 0}, err), 0);
    r.stack.input(packet6(99, {}, {1, 2, 3, 4}, peer, all_nodes), 0);
    CHECK(r.out.empty());
    r.stack.input(packet6(60, {58, 0, 0x9E, 4, 0, 0, 0, 0}, echo_request(peer, all_nodes), peer, all_nodes), 0);
    CHECK(r.out.size() == 1);
    r.out.clear();
    r.stack.input(packet6(44, {58, 0, 0, 1, 0, 0, 0, 7}, echo_request(peer, us)), 0);   // a fragment
    CHECK(r.out.empty());
    CHECK(r.stack.stats().fragments == 1);
}

TEST_CASE("stack ipv6: errors at most 10 a second; none about packets that were not ours", "[slirp][ipv6][stack]")
{
    Rig r;
    Bytes datagram = {0x9C, 0x40, 0, 53, 0, 8, 0, 0};
    set_udp_checksum(datagram, 0, pseudo6_sum(peer, us, proto_udp, datagram.size()));
    Bytes udp = packet6(proto_udp, {}, datagram);
    for (int i = 0; i < 20; ++i)
        r.stack.input(udp, 5'000'000);
    CHECK(r.out.size() == 10);
    CHECK(r.stack.stats().icmpv6_rate_limited == 10);
    r.out.clear();
    r.stack.input(udp, 5'300'000);   // 300 ms later: three more may go
    r.stack.input(udp, 5'300'000);
    r.stack.input(udp, 5'300'000);
    r.stack.input(udp, 5'300'000);
    CHECK(r.out.size() == 3);

    Rig s;
    Address6 other = us;
    other[15] = 9;
    s.stack.input(packet6(60, {58, 0, 0xDE, 4, 0, 0, 0, 0}, echo_request(peer, other), peer, other), 0);
    Address6 unspecified{};
    Tcp syn;
    syn.src_port = 1, syn.dst_port = 22, syn.flags = tcp_flag::syn;
    Bytes seg;
    size_t start = put_tcp(seg, syn, {});
    set_tcp_checksum(seg, start, pseudo6_sum(unspecified, us, proto_tcp, seg.size()));
    s.stack.input(packet6(proto_tcp, {}, seg, unspecified, us), 0);
    CHECK(s.out.empty());
}
