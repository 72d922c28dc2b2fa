// SPDX-License-Identifier: GPL-2.0-or-later
// TCP and UDP over IPv6 in slirpd's stack: a handshake and data with a listener at
// slirpd's link-local address and at another address a map names (checksums over the
// IPv6 pseudo-header, the MSS 20 octets under IPv4's), nothing for an address nobody
// names, a UDP service with its answer, a UDP datagram without a checksum dropped (IPv6
// requires one), a Destination Unreachable quoting the held SYN, an active open from
// slirpd's IPv6 address (none before IPV6CP made one), and the rate limit counting a
// peer by its /64.
#include <catch2/catch.hpp>

#include <vector>

#include "ipv6.hpp"
#include "stack.hpp"
#include "tcp_rig.hpp"
#include "transport.hpp"

using namespace alopex::slirp::stack;
using alopex::net::Address;
using Bytes = std::vector<uint8_t>;

namespace {

const Address6 us = {0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Address6 peer = {0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
const Address6 mapped = {0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};   // fd00::5
const Address6 unnamed = {0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6};

Bytes tcp6(const Address6 &src, const Address6 &dst, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
           uint32_t ack, const Bytes &data = {})
{
    Tcp t = tcp_rig::header(sport, dport, flags, seq, ack);
    Bytes seg;
    size_t start = put_tcp(seg, t, data);
    set_tcp_checksum(seg, start, pseudo6_sum(src, dst, proto_tcp, seg.size()));
    Bytes out;
    build_ipv6(out, src, dst, proto_tcp, 64, seg);
    return out;
}

Bytes udp6(const Address6 &src, const Address6 &dst, uint16_t sport, uint16_t dport, const Bytes &data,
           bool checksum = true)
{
    Bytes d;
    size_t start = put_udp(d, sport, dport, data);
    if (checksum)
        set_udp_checksum(d, start, pseudo6_sum(src, dst, proto_udp, d.size()));
    Bytes out;
    build_ipv6(out, src, dst, proto_udp, 64, d);
    return out;
}

struct Rig {
    std::vector<Bytes> out;
    std::vector<std::pair<tcp::Connection *, TcpKey>> pending;
    Stack stack;
    uint64_t now = 1'000'000;
    explicit Rig(StackConfig cfg = {})
        : stack(cfg, [this](std::span<const uint8_t> p) { out.emplace_back(p.begin(), p.end()); }, 7)
    {
        stack.set_ipv6_address(us);
        auto take = [this](tcp::Connection &c, const TcpKey &k) { pending.emplace_back(&c, k); };
        stack.listen_tcp(to_address(us), 22, take);
        stack.listen_tcp(to_address(mapped), 80, take);
    }
    void in(const Bytes &p) { stack.input(p, now); }
    // The last packet out, as IPv6 and TCP, its checksum verified.
    std::pair<Ipv6, Tcp> last_tcp()
    {
        REQUIRE(!out.empty());
        auto ip = parse_ipv6(out.back());
        REQUIRE(ip);
        REQUIRE(ip->next == proto_tcp);
        auto t = parse_tcp_segment(ip->payload, pseudo6_sum(ip->src, ip->dst, proto_tcp, ip->payload.size()));
        REQUIRE(t);
        return {*ip, *t};
    }
};

} // namespace

TEST_CASE("stack6 tcp: a handshake and data both ways with a listener at slirpd's address", "[slirp][ipv6][stack]")
{
    Rig r;
    r.in(tcp6(peer, us, 40000, 22, tcp_flag::syn, 100, 0));
    REQUIRE(r.pending.size() == 1);
    CHECK(r.pending[0].second.local == to_address(us));
    CHECK(r.pending[0].second.remote == to_address(peer));
    CHECK(r.out.empty());   // held until the host side connects
    tcp::Connection &c = *r.pending[0].first;
    c.accept(r.now);
    auto [ip, sa] = r.last_tcp();
    CHECK(ip.src == us);
    CHECK(ip.dst == peer);
    CHECK(sa.flags == (tcp_flag::syn | tcp_flag::ack));
    CHECK(sa.ack == 101);
    CHECK(sa.options.mss == 1440);   // 1500 - 40 - 20
    r.in(tcp6(peer, us, 40000, 22, tcp_flag::ack | tcp_flag::psh, 101, sa.seq + 1, {'h', 'i'}));
    CHECK(c.state() == tcp::State::Established);
    auto got = c.received();
    CHECK(Bytes(got.begin(), got.end()) == Bytes{'h', 'i'});
    r.out.clear();
    CHECK(c.write(Bytes{'o', 'k'}, r.now) == 2);
    auto [ip2, data] = r.last_tcp();
    CHECK(ip2.src == us);
    CHECK(Bytes(data.payload.begin(), data.payload.end()) == Bytes{'o', 'k'});
    CHECK(data.seq == sa.seq + 1);
    CHECK(r.stack.stats().bad_packets == 0);
}

TEST_CASE("stack6 tcp: a mapped address is served, an unnamed one is not routed; RSTs from the address asked",
          "[slirp][ipv6][stack]")
{
    Rig r;
    r.in(tcp6(peer, mapped, 40001, 80, tcp_flag::syn, 5, 0));
    REQUIRE(r.pending.size() == 1);
    CHECK(r.pending[0].second.local == to_address(mapped));
    r.pending[0].first->accept(r.now);
    CHECK(r.last_tcp().first.src == mapped);
    // Another port of the mapped address: a RST from it.
    r.in(tcp6(peer, mapped, 40002, 81, tcp_flag::syn, 9, 0));
    auto [ip, rst] = r.last_tcp();
    CHECK(ip.src == mapped);
    CHECK(rst.flags == (tcp_flag::rst | tcp_flag::ack));
    CHECK(rst.ack == 10);
    // An address nobody names: nothing at all (not routed).
    size_t before = r.out.size();
    r.in(tcp6(peer, unnamed, 40003, 80, tcp_flag::syn, 1, 0));
    CHECK(r.out.size() == before);
    CHECK(r.stack.stats().not_handled == 1);
    // A segment with a checksum wrong for IPv6's pseudo-header is dropped.
    Bytes bad = tcp6(peer, us, 40004, 22, tcp_flag::syn, 1, 0);
    bad[8 + 15] ^= 1;   // the source address, after the checksum was made
    r.in(bad);
    CHECK(r.stack.stats().bad_packets == 1);
    CHECK(r.pending.size() == 1);
}

TEST_CASE("stack6 udp: a bound service and its answer; no checksum dropped; else port unreachable",
          "[slirp][ipv6][stack]")
{
    Rig r;
    std::vector<std::pair<Address, Bytes>> got;
    r.stack.bind_udp(to_address(us), 53, [&](const Address &src, uint16_t port, std::span<const uint8_t> p) {
        CHECK(port == 5353);
        got.emplace_back(src, Bytes(p.begin(), p.end()));
    });
    r.in(udp6(peer, us, 5353, 53, {1, 2, 3}));
    REQUIRE(got.size() == 1);
    CHECK(got[0].first == to_address(peer));
    CHECK(got[0].second == Bytes{1, 2, 3});
    CHECK(r.out.empty());
    REQUIRE(r.stack.send_udp(to_address(us), 53, to_address(peer), 5353, Bytes{9, 8}));
    auto ip = parse_ipv6(r.out.back());
    REQUIRE(ip);
    REQUIRE(ip->next == proto_udp);
    auto u = parse_udp_segment(ip->payload, pseudo6_sum(ip->src, ip->dst, proto_udp, 0), true);
    REQUIRE(u);
    CHECK(u->src_port == 53);
    CHECK(Bytes(u->payload.begin(), u->payload.end()) == Bytes{9, 8});
    // RFC 8200 §8.1: a zero checksum is not allowed over IPv6.
    r.in(udp6(peer, us, 5353, 53, {4}, false));
    CHECK(got.size() == 1);
    CHECK(r.stack.stats().bad_packets == 1);
    // A port nobody binds: Destination Unreachable, port unreachable.
    r.out.clear();
    r.in(udp6(peer, us, 5353, 54, {5}));
    REQUIRE(r.out.size() == 1);
    auto e = parse_ipv6(r.out.back());
    REQUIRE(e);
    auto m = parse_icmp6(*e);
    REQUIRE(m);
    CHECK(m->type == icmp6_unreachable);
    CHECK(m->code == 4);
    CHECK_FALSE(r.stack.send_udp(to_address(us), 53, to_address(peer), 5353, Bytes(1500, 0)));   // over the MTU
}

TEST_CASE("stack6 tcp: unreachable() quotes the held SYN in a Destination Unreachable", "[slirp][ipv6][stack]")
{
    Rig r;
    Bytes syn = tcp6(peer, us, 40000, 22, tcp_flag::syn, 100, 0);
    r.in(syn);
    REQUIRE(r.pending.size() == 1);
    r.stack.unreachable(*r.pending[0].first, 1);
    REQUIRE(r.out.size() == 1);
    auto ip = parse_ipv6(r.out.back());
    REQUIRE(ip);
    auto m = parse_icmp6(*ip);
    REQUIRE(m);
    CHECK(m->type == icmp6_unreachable);
    CHECK(m->code == 3);   // address unreachable
    CHECK(Bytes(m->rest.begin() + 4, m->rest.end()) == syn);
    CHECK(r.stack.stats().host_unreachables == 1);
    r.stack.advance(r.now);
    CHECK(r.stack.tcp_connections() == 0);
}

TEST_CASE("stack6 tcp: an active open goes from slirpd's IPv6 address, none before it has one",
          "[slirp][ipv6][stack]")
{
    std::vector<Bytes> out;
    Stack s({}, [&](std::span<const uint8_t> p) { out.emplace_back(p.begin(), p.end()); }, 3);
    tcp::Events events;
    CHECK(s.connect_tcp(to_address(peer), 22, &events, 1) == nullptr);
    s.set_ipv6_address(us);
    tcp::Connection *c = s.connect_tcp(to_address(peer), 22, &events, 1);
    REQUIRE(c);
    REQUIRE(out.size() == 1);
    auto ip = parse_ipv6(out[0]);
    REQUIRE(ip);
    CHECK(ip->src == us);
    CHECK(ip->dst == peer);
    auto t = parse_tcp_segment(ip->payload, pseudo6_sum(ip->src, ip->dst, proto_tcp, ip->payload.size()));
    REQUIRE(t);
    CHECK(t->flags == tcp_flag::syn);
    CHECK(t->dst_port == 22);
    CHECK(t->src_port >= 49152);
    c->abort();
}

TEST_CASE("stack6 rate limit: a peer is its /64", "[slirp][ipv6][stack][ratelimit]")
{
    StackConfig cfg;
    cfg.limits.new_per_peer = {.count = 2, .window = 60'000'000, .lockout = 10'000'000};
    Rig r(cfg);
    Address6 other = peer;   // the same /64, another interface identifier
    other[15] ^= 0xFF;
    r.in(tcp6(peer, us, 40000, 22, tcp_flag::syn, 1, 0));
    r.in(tcp6(other, us, 40001, 22, tcp_flag::syn, 1, 0));
    r.in(tcp6(other, us, 40002, 22, tcp_flag::syn, 1, 0));
    CHECK(r.pending.size() == 2);
    CHECK(r.stack.stats().tcp_rate_limited == 1);
    CHECK(r.last_tcp().second.flags == (tcp_flag::rst | tcp_flag::ack));
}
