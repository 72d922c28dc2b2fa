// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's stack with TCP listeners: a SYN held until the acceptor decides (SYN-ACK,
// RST, ICMP unreachable), the connection limits against a SYN flood, idle resets,
// TIME-WAIT recycled, and unlistened ports still refused.
#include <catch2/catch.hpp>

#include <set>

#include <vector>

#include "ipv4.hpp"
#include "stack.hpp"
#include "tcp_rig.hpp"
#include "transport.hpp"

using namespace alopex::slirp::stack;

namespace {

using Bytes = std::vector<uint8_t>;
using alopex::net::Address;
constexpr uint32_t peer = 0x0A000002, us = 0x0A000001;

Bytes segment(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, Bytes data = {})
{
    Tcp t = tcp_rig::header(sport, dport, flags, seq, ack);
    if (flags & tcp_flag::syn)
        t.options.mss = 1460;
    Bytes seg, out;
    build_tcp(seg, peer, us, t, data);
    build_ipv4(out, {.protocol = proto_tcp, .src = peer, .dst = us}, seg);
    return out;
}

struct Out {
    Ipv4 ip;
    Bytes packet;
};

struct Rig {
    std::vector<Bytes> out;
    std::vector<tcp::Connection *> pending;
    Stack stack;
    uint64_t now = 1'000'000;
    explicit Rig(StackConfig cfg = {})
        : stack(cfg, [this](std::span<const uint8_t> p) { out.emplace_back(p.begin(), p.end()); }, 42)
    {
        stack.listen_tcp(Address::v4(us), 22, [this](tcp::Connection &c, const TcpKey &k) {
            CHECK(k.local == Address::v4(us));
            CHECK(k.remote == Address::v4(peer));
            CHECK(k.local_port == 22);
            pending.push_back(&c);
        });
    }
    void in(const Bytes &p) { stack.input(p, now); }
    Tcp last_tcp()
    {
        auto ip = parse_ipv4(out.back());
        REQUIRE(ip);
        REQUIRE(ip->protocol == proto_tcp);
        auto t = parse_tcp(*ip);
        REQUIRE(t);
        return *t;
    }
};

} // namespace

TEST_CASE("stack tcp: a SYN to a listened port waits for the host side, then a handshake", "[slirp][stack]")
{
    Rig r;
    r.in(segment(40000, 22, tcp_flag::syn, 100, 0));
    REQUIRE(r.pending.size() == 1);
    CHECK(r.out.empty());
    CHECK(r.stack.tcp_connections() == 1);
    r.pending[0]->accept(r.now);
    REQUIRE(r.out.size() == 1);
    auto sa = r.last_tcp();
    CHECK(sa.flags == (tcp_flag::syn | tcp_flag::ack));
    CHECK(sa.ack == 101);
    CHECK(sa.options.mss == 1460);
    r.in(segment(40000, 22, tcp_flag::ack, 101, sa.seq + 1, {'h', 'i'}));
    CHECK(r.pending[0]->state() == tcp::State::Established);
    auto got = r.pending[0]->received();
    CHECK(Bytes(got.begin(), got.end()) == Bytes{'h', 'i'});
    // Another port is still refused.
    r.in(segment(40001, 23, tcp_flag::syn, 5, 0));
    CHECK(r.last_tcp().flags == (tcp_flag::rst | tcp_flag::ack));
    CHECK(r.stack.tcp_connections() == 1);
}

TEST_CASE("stack tcp: refused gives a RST; unreachable an ICMP quoting the SYN", "[slirp][stack]")
{
    Rig r;
    r.in(segment(40000, 22, tcp_flag::syn, 100, 0));
    r.pending[0]->refuse();
    CHECK(r.last_tcp().flags == (tcp_flag::rst | tcp_flag::ack));
    r.now += 1;
    r.in(segment(40000, 22, tcp_flag::syn, 200, 0));   // freed: a new attempt is a new connection
    REQUIRE(r.pending.size() == 2);
    CHECK(r.stack.tcp_connections() == 1);
    auto syn = segment(40000, 22, tcp_flag::syn, 200, 0);
    r.stack.unreachable(*r.pending[1], 1);
    auto ip = parse_ipv4(r.out.back());
    REQUIRE(ip);
    REQUIRE(ip->protocol == proto_icmp);
    auto icmp = parse_icmp(ip->payload);
    REQUIRE(icmp);
    CHECK(icmp->type == icmp_unreachable);
    CHECK(icmp->code == 1);
    CHECK(Bytes(icmp->rest.begin() + 4, icmp->rest.end()) == Bytes(syn.begin(), syn.begin() + 28));
    CHECK(r.stack.stats().host_unreachables == 1);
    r.stack.advance(r.now);
    CHECK(r.stack.tcp_connections() == 0);
}

TEST_CASE("stack tcp hostile: a SYN flood meets the limits; memory stays bounded", "[slirp][stack]")
{
    StackConfig cfg;
    cfg.limits.max_connections = 100;
    cfg.limits.max_per_port = 60;
    Rig r(cfg);
    r.stack.listen_tcp(Address::v4(us), 80, [&](tcp::Connection &c, const TcpKey &) { r.pending.push_back(&c); });
    for (uint32_t i = 0; i < 10000; ++i)
        r.in(segment(static_cast<uint16_t>(1024 + i % 60000), i % 2 ? 22 : 80, tcp_flag::syn, i, 0));
    CHECK(r.stack.tcp_connections() == 100);
    CHECK(r.pending.size() == 100);
    CHECK(r.stack.stats().tcp_limited == 9900);
    size_t per22 = 0;
    r.stack.each_tcp([&](const TcpKey &k, uint64_t, const tcp::Connection &) { per22 += k.local_port == 22; });
    CHECK(per22 <= 60);
    // Those the host side refuses free their places.
    for (size_t i = 0; i < 10; ++i)
        r.pending[i]->refuse();
    r.stack.advance(r.now);
    CHECK(r.stack.tcp_connections() == 90);
}

TEST_CASE("stack tcp: an idle connection is reset; TIME-WAIT makes room at the limit", "[slirp][stack]")
{
    StackConfig cfg;
    cfg.limits.max_connections = 1;
    cfg.limits.idle_timeout = 60'000'000;
    Rig r(cfg);
    r.in(segment(40000, 22, tcp_flag::syn, 100, 0));
    r.pending[0]->accept(r.now);
    uint32_t iss = r.last_tcp().seq;
    r.in(segment(40000, 22, tcp_flag::ack, 101, iss + 1));
    // We close, the peer closes: TIME-WAIT.
    r.pending[0]->shutdown(r.now);
    r.in(segment(40000, 22, tcp_flag::ack | tcp_flag::fin, 101, iss + 2));
    CHECK(r.pending[0]->state() == tcp::State::TimeWait);
    r.pending.clear();
    r.in(segment(40001, 22, tcp_flag::syn, 7, 0));   // at the limit: the TIME-WAIT goes
    REQUIRE(r.pending.size() == 1);
    CHECK(r.stack.tcp_connections() == 1);
    r.pending[0]->accept(r.now);
    iss = r.last_tcp().seq;
    r.in(segment(40001, 22, tcp_flag::ack, 8, iss + 1));
    CHECK(r.pending[0]->state() == tcp::State::Established);
    // The TCP counters keep what the recycled connection counted.
    auto before = r.stack.tcp_totals();
    CHECK(before.segments_in >= 3);
    CHECK(before.segments_out >= 3);
    uint64_t t = r.now;
    while (r.stack.tcp_connections() && r.now < t + 200'000'000) {
        r.now = std::max(r.now + 1, r.stack.next_deadline());
        r.stack.advance(r.now);
    }
    CHECK(r.stack.tcp_connections() == 0);
    CHECK(r.now - t >= 60'000'000);
    CHECK(r.now - t <= 71'000'000);
    CHECK(r.stack.stats().tcp_idle_resets == 1);
    CHECK(r.last_tcp().flags == (tcp_flag::rst | tcp_flag::ack));
    auto after = r.stack.tcp_totals();   // every connection freed: the sums stay
    CHECK(after.segments_in == before.segments_in);
    CHECK(after.segments_out == before.segments_out + 1);   // the reset
}

TEST_CASE("stack tcp hostile: URG pointing past the data is plain data; queued output dies with a reset",
          "[slirp][stack]")
{
    Rig r;
    r.in(segment(40000, 22, tcp_flag::syn, 100, 0));
    r.pending[0]->accept(r.now);
    uint32_t iss = r.last_tcp().seq;
    r.in(segment(40000, 22, tcp_flag::ack, 101, iss + 1));
    // A shape of libslirp's urgent-data bugs: an urgent pointer far beyond the segment.
    Tcp t;
    t.src_port = 40000;
    t.dst_port = 22;
    t.seq = 101;
    t.ack = iss + 1;
    t.flags = tcp_flag::ack | tcp_flag::urg;
    t.window = 65535;
    t.urgent = 65000;
    Bytes data = {'a', 'b', 'c'}, seg, pkt;
    build_tcp(seg, peer, us, t, data);
    build_ipv4(pkt, {.protocol = proto_tcp, .src = peer, .dst = us}, seg);
    r.in(pkt);
    auto got = r.pending[0]->received();
    CHECK(Bytes(got.begin(), got.end()) == data);

    // Output queued for a peer that then resets (the shape of use-after-free bugs with
    // queued output on a closed socket): nothing more is sent, the connection is gone.
    tcp::Connection *c = r.pending[0];
    struct Gone : tcp::Events {
        bool closed_ = false;
        void closed(tcp::CloseReason) override { closed_ = true; }
    } gone;
    c->set_events(&gone);
    Bytes big(100000, 'z');
    c->write(big, r.now);
    size_t sent = r.out.size();
    r.in(segment(40000, 22, tcp_flag::rst, 104, 0));
    CHECK(gone.closed_);
    r.now += 5'000'000;
    r.stack.advance(r.now);
    CHECK(r.out.size() == sent);
    CHECK(r.stack.tcp_connections() == 0);
    CHECK(r.stack.next_deadline() == UINT64_MAX);
}

TEST_CASE("stack tcp: a congested link holds new data back until resume_output", "[slirp][stack]")
{
    Rig r;
    bool busy = false;
    r.stack.set_link_busy([&](const TcpKey &) { return busy; });
    r.in(segment(40000, 22, tcp_flag::syn, 100, 0));
    r.pending[0]->accept(r.now);
    uint32_t iss = r.last_tcp().seq;
    r.in(segment(40000, 22, tcp_flag::ack, 101, iss + 1));
    busy = true;
    size_t before = r.out.size();
    Bytes data(5000, 'd');
    CHECK(r.pending[0]->write(data, r.now) == 5000);   // buffered, not sent
    CHECK(r.out.size() == before);
    r.in(segment(40000, 22, tcp_flag::ack | tcp_flag::psh, 101, iss + 1, {'x'}));   // ACKs still go
    r.stack.advance(r.now + 50'000);
    CHECK(r.out.size() == before + 1);
    CHECK(r.last_tcp().payload.empty());
    busy = false;
    r.stack.resume_output(r.now);
    size_t sent = 0;
    for (size_t i = before + 1; i < r.out.size(); ++i)
        sent += parse_tcp(*parse_ipv4(r.out[i]))->payload.size();
    CHECK(sent == 5000);
}

TEST_CASE("stack tcp: the link's room is asked per connection; a busy one does not hold the others", "[slirp][stack]")
{
    Rig r;
    std::set<uint16_t> busy;   // remote ports
    r.stack.set_link_busy([&](const TcpKey &k) { return busy.contains(k.remote_port); });
    uint32_t iss[2] = {};
    for (uint16_t i = 0; i < 2; ++i) {
        r.in(segment(static_cast<uint16_t>(40000 + i), 22, tcp_flag::syn, 100, 0));
        r.pending[i]->accept(r.now);
        iss[i] = r.last_tcp().seq;
        r.in(segment(static_cast<uint16_t>(40000 + i), 22, tcp_flag::ack, 101, iss[i] + 1));
    }
    busy = {40000, 40001};
    Bytes data(3000, 'd');
    size_t before = r.out.size();
    CHECK(r.pending[0]->write(data, r.now) == 3000);
    CHECK(r.pending[1]->write(data, r.now) == 3000);
    CHECK(r.out.size() == before);
    CHECK(r.stack.output_blocked());
    busy = {40000};   // only the second has room now
    r.stack.resume_output(r.now);
    size_t to[2] = {};
    for (size_t i = before; i < r.out.size(); ++i) {
        auto t = parse_tcp(*parse_ipv4(r.out[i]));
        to[t->dst_port - 40000] += t->payload.size();
    }
    CHECK(to[0] == 0);
    CHECK(to[1] == 3000);
    CHECK(r.stack.output_blocked());   // the first still waits
    busy.clear();
    before = r.out.size();
    r.stack.resume_output(r.now);
    CHECK(!r.stack.output_blocked());
    size_t sent = 0;
    for (size_t i = before; i < r.out.size(); ++i)
        sent += parse_tcp(*parse_ipv4(r.out[i]))->payload.size();
    CHECK(sent == 3000);
}

TEST_CASE("stack tcp: segment limits for a slow line apply to connections opened after", "[slirp][stack]")
{
    Rig r;
    r.stack.set_segment_limits(174, 1400);
    r.in(segment(40000, 22, tcp_flag::syn, 100, 0));
    r.pending[0]->accept(r.now);
    auto sa = r.last_tcp();
    REQUIRE(sa.options.mss);
    CHECK(*sa.options.mss == 174);
    CHECK(sa.window <= 1400);
    CHECK(sa.window >= 1400 - 174);
    r.in(segment(40000, 22, tcp_flag::ack, 101, sa.seq + 1));
    Bytes data(1000, 'd');
    size_t before = r.out.size();
    CHECK(r.pending[0]->write(data, r.now) == 1000);
    REQUIRE(r.out.size() > before);
    for (size_t i = before; i < r.out.size(); ++i)
        CHECK(parse_tcp(*parse_ipv4(r.out[i]))->payload.size() <= 174);
    r.stack.set_segment_limits(0, 0);   // back to what the MTU gives
    r.in(segment(40001, 22, tcp_flag::syn, 100, 0));
    r.pending[1]->accept(r.now);
    REQUIRE(r.last_tcp().options.mss);
    CHECK(*r.last_tcp().options.mss == 1460);
}
