// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's IPv4 stack, first part: the Internet checksum (RFC 1071's example), IPv4 and
// ICMP parsing against hostile packets (every truncation, length lies, bad checksums,
// fragments), and ping of slirpd's address.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "ipv4.hpp"
#include "stack.hpp"
#include "transport.hpp"

using namespace alopex::slirp::stack;

namespace {

using Bytes = std::vector<uint8_t>;
using alopex::net::Address;
constexpr uint32_t peer = 0x0A000002, us = 0x0A000001;

Bytes ping(uint32_t dst, uint16_t id, uint16_t seq, size_t data_len, uint32_t src = peer)
{
    Bytes rest = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), static_cast<uint8_t>(seq >> 8),
                  static_cast<uint8_t>(seq)};
    for (size_t i = 0; i < data_len; ++i)
        rest.push_back(static_cast<uint8_t>(i));
    Bytes icmp, out;
    build_icmp(icmp, icmp_echo_request, 0, rest);
    build_ipv4(out, {.protocol = proto_icmp, .src = src, .dst = dst}, icmp);
    return out;
}

struct Rig {
    std::vector<Bytes> out;
    Stack stack{{}, [this](std::span<const uint8_t> p) { out.emplace_back(p.begin(), p.end()); }};
};

} // namespace

TEST_CASE("stack: the Internet checksum, as RFC 1071 computes its example", "[slirp][stack]")
{
    Bytes example = {0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7};
    CHECK(checksum_fold(checksum_add(0, example)) == static_cast<uint16_t>(~0xDDF2));
    Bytes odd = {0x01};
    CHECK(checksum(odd) == static_cast<uint16_t>(~0x0100));
    Bytes big(200000, 0xFF);   // long data cannot overflow the sum
    CHECK(checksum(big) == 0x0000);
}

TEST_CASE("stack: the word-wise checksum equals RFC 1071's octet-pair sum, any length and start", "[slirp][stack]")
{
    auto reference = [](uint32_t start, std::span<const uint8_t> d) {
        uint64_t sum = start;
        size_t i = 0;
        for (; i + 1 < d.size(); i += 2) {
            sum += static_cast<uint32_t>(d[i] << 8 | d[i + 1]);
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        if (i < d.size())
            sum += static_cast<uint32_t>(d[i] << 8);
        while (sum >> 16)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return checksum_fold(static_cast<uint32_t>(sum));
    };
    uint32_t x = 12345;
    Bytes data(3000);
    for (auto &b : data)
        b = static_cast<uint8_t>((x = x * 1103515245 + 12345) >> 16);
    for (size_t off : {0, 1, 3})
        for (size_t len : {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 20, 21, 63, 64, 65, 1460, 1461, 2997})
            for (uint32_t start : {0u, 1u, 0xFFFFu, 0x1FFFEu, 0xFFFFFFFFu}) {
                auto d = std::span(data).subspan(off, len);
                CHECK(checksum_fold(checksum_add(start, d)) == reference(start, d));
            }
    Bytes ones(4001, 0xFF);
    CHECK(checksum_fold(checksum_add(0, ones)) == reference(0, ones));
}

TEST_CASE("stack: a ping of slirpd's address is answered, data and identifiers kept", "[slirp][stack]")
{
    Rig r;
    auto p = ping(us, 0x1234, 7, 56);
    r.stack.input(p, 0);
    REQUIRE(r.out.size() == 1);
    auto ip = parse_ipv4(r.out[0]);
    REQUIRE(ip);
    CHECK(ip->src == us);
    CHECK(ip->dst == peer);
    CHECK(ip->protocol == proto_icmp);
    auto icmp = parse_icmp(ip->payload);   // checksums verified by the parsers
    REQUIRE(icmp);
    CHECK(icmp->type == icmp_echo_reply);
    auto req = parse_icmp(parse_ipv4(p)->payload);
    CHECK(Bytes(icmp->rest.begin(), icmp->rest.end()) == Bytes(req->rest.begin(), req->rest.end()));
    CHECK(r.stack.stats().echo_replies == 1);
}

TEST_CASE("stack hostile: truncations, length lies and bad checksums are counted, never answered", "[slirp][stack]")
{
    Rig r;
    auto good = ping(us, 1, 1, 32);
    for (size_t n = 0; n < good.size(); ++n)   // every truncation: total length now lies
        r.stack.input(std::span(good).first(n), 0);
    CHECK(r.stack.stats().bad_packets == good.size());
    CHECK(r.out.empty());

    auto bad = good;
    bad[2] = 0x00, bad[3] = 0x10;   // total length 16, below the header
    r.stack.input(bad, 0);
    bad = good;
    bad[0] = 0x4F;                  // header length 60 > the packet's header
    r.stack.input(bad, 0);
    bad = good;
    bad[0] = 0x75;                  // version 7 (6 goes to the IPv6 side)
    r.stack.input(bad, 0);
    bad = good;
    bad[12] ^= 1;                   // header checksum
    r.stack.input(bad, 0);
    CHECK(r.stack.stats().bad_packets == good.size() + 4);
    bad = good;
    bad[30] ^= 1;                   // ICMP checksum
    r.stack.input(bad, 0);
    CHECK(r.stack.stats().icmp_bad == 1);
    CHECK(r.out.empty());

    // Bytes past Total Length are link padding: cut off, the ping is answered.
    auto padded = good;
    padded.insert(padded.end(), 10, 0xAA);
    r.stack.input(padded, 0);
    REQUIRE(r.out.size() == 1);
    CHECK(r.out[0].size() == good.size());
}

TEST_CASE("stack hostile: fragments are dropped, not reassembled; others are not answered", "[slirp][stack]")
{
    Rig r;
    auto p = ping(us, 1, 1, 32);
    auto frag = [&](uint16_t flags_offset) {
        Bytes f = p;
        f[6] = static_cast<uint8_t>(flags_offset >> 8);
        f[7] = static_cast<uint8_t>(flags_offset);
        f[10] = f[11] = 0;
        uint16_t c = checksum(std::span(f).first(20));
        f[10] = static_cast<uint8_t>(c >> 8);
        f[11] = static_cast<uint8_t>(c);
        return f;
    };
    for (int i = 0; i < 1000; ++i)   // a fragment train
        r.stack.input(frag(static_cast<uint16_t>(0x2000 | i)), 0);
    r.stack.input(frag(0x0010), 0);     // last fragment (offset only)
    CHECK(r.stack.stats().fragments == 1001);
    CHECK(r.out.empty());
    r.stack.input(ping(0x08080808, 1, 1, 8), 0);   // somewhere else
    CHECK(r.stack.stats().not_handled == 1);
    CHECK(r.out.empty());
}

TEST_CASE("stack: nothing is mapped yet, so TCP gets a RST and UDP a port unreachable", "[slirp][stack]")
{
    Rig r;
    auto segment = [](uint8_t flags, uint32_t seq, uint32_t ack, size_t data) {
        Tcp t;
        t.src_port = 40000;
        t.dst_port = 22;
        t.seq = seq;
        t.ack = ack;
        t.flags = flags;
        t.window = 1000;
        Bytes seg, out;
        build_tcp(seg, peer, us, t, Bytes(data, 'x'));
        build_ipv4(out, {.protocol = proto_tcp, .src = peer, .dst = us}, seg);
        return out;
    };
    r.stack.input(segment(tcp_flag::syn, 1000, 0, 0), 0);
    REQUIRE(r.out.size() == 1);
    auto ip = parse_ipv4(r.out[0]);
    REQUIRE(ip);
    CHECK(ip->src == us);
    CHECK(ip->dst == peer);
    auto rst = parse_tcp(*ip);
    REQUIRE(rst);
    CHECK(rst->flags == (tcp_flag::rst | tcp_flag::ack));
    CHECK(rst->ack == 1001);   // the SYN counts one
    CHECK(rst->src_port == 22);
    CHECK(rst->dst_port == 40000);
    r.stack.input(segment(tcp_flag::ack | tcp_flag::psh, 5, 777, 10), 0);
    REQUIRE(r.out.size() == 2);
    auto rst2 = parse_tcp(*parse_ipv4(r.out[1]));
    REQUIRE(rst2);
    CHECK(rst2->flags == tcp_flag::rst);
    CHECK(rst2->seq == 777);
    r.stack.input(segment(tcp_flag::rst, 5, 0, 0), 0);   // a RST is never answered
    CHECK(r.out.size() == 2);
    CHECK(r.stack.stats().resets == 2);

    Bytes udp, packet;
    build_udp(udp, peer, us, 5353, 9, Bytes{1, 2, 3});
    build_ipv4(packet, {.protocol = proto_udp, .src = peer, .dst = us}, udp);
    r.stack.input(packet, 0);
    REQUIRE(r.out.size() == 3);
    auto un = parse_ipv4(r.out[2]);
    REQUIRE(un);
    auto icmp = parse_icmp(un->payload);
    REQUIRE(icmp);
    CHECK(icmp->type == icmp_unreachable);
    CHECK(icmp->code == 3);
    // The quoted header and the first 8 octets: the sender matches it to its socket.
    CHECK(Bytes(icmp->rest.begin() + 4, icmp->rest.end()) == Bytes(packet.begin(), packet.begin() + 28));
}

TEST_CASE("stack: a bound UDP service gets its datagrams and answers through send_udp", "[slirp][stack]")
{
    Rig r;
    std::vector<std::pair<uint16_t, Bytes>> got;
    r.stack.bind_udp(Address::v4(us), 53, [&](const Address &src, uint16_t port, std::span<const uint8_t> payload) {
        CHECK(src == Address::v4(peer));
        got.emplace_back(port, Bytes(payload.begin(), payload.end()));
    });
    Bytes udp, packet;
    build_udp(udp, peer, us, 40001, 53, Bytes{0x12, 0x34});
    build_ipv4(packet, {.protocol = proto_udp, .src = peer, .dst = us}, udp);
    r.stack.input(packet, 0);
    REQUIRE(got.size() == 1);
    CHECK(got[0].first == 40001);
    CHECK(got[0].second == Bytes{0x12, 0x34});
    CHECK(r.out.empty());   // no port unreachable
    REQUIRE(r.stack.send_udp(Address::v4(us), 53, Address::v4(peer), 40001, Bytes{0xAB}));
    REQUIRE(r.out.size() == 1);
    auto ip = parse_ipv4(r.out[0]);
    REQUIRE(ip);
    auto u = parse_udp(*ip);
    REQUIRE(u);
    CHECK(u->src_port == 53);
    CHECK(u->dst_port == 40001);
    CHECK(Bytes(u->payload.begin(), u->payload.end()) == Bytes{0xAB});
    CHECK_FALSE(r.stack.send_udp(Address::v4(us), 53, Address::v4(peer), 40001, Bytes(1500, 0)));   // over the MTU
    // Another port of the same address is still refused.
    udp.clear();
    packet.clear();
    build_udp(udp, peer, us, 40001, 54, Bytes{1});
    build_ipv4(packet, {.protocol = proto_udp, .src = peer, .dst = us}, udp);
    r.stack.input(packet, 0);
    CHECK(r.stack.stats().port_unreachables == 1);
}
