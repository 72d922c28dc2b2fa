// SPDX-License-Identifier: GPL-2.0-or-later
// New-connection rate limits with a lockout: per peer and per port, a sliding window, the
// lockout's length not extended by attempts during it, limits off at 0, memory bounded;
// and in the stack, a SYN over the limit answered with a RST and counted.
#include <catch2/catch.hpp>

#include <vector>

#include "ipv4.hpp"
#include "rate_limit.hpp"
#include "stack.hpp"
#include "transport.hpp"

using namespace alopex::slirp::stack;
using V = RateLimiter::Verdict;

namespace {
constexpr uint32_t peer_a = 0x0A000002, peer_b = 0x0A000003, us = 0x0A000001;
constexpr uint64_t s = 1'000'000;
alopex::net::Address v4(uint32_t a) { return alopex::net::Address::v4(a); }
} // namespace

TEST_CASE("rate limit: a port over its limit is locked out, others are not", "[slirp][stack][ratelimit]")
{
    RateLimiter r({}, {.count = 3, .window = 60 * s, .lockout = 10 * s});
    uint64_t t = 1000 * s;
    for (int i = 0; i < 3; ++i)
        CHECK(r.admit(v4(i % 2 ? peer_a : peer_b), v4(us), 22, t + i * s).verdict == V::Admit);
    auto d = r.admit(v4(peer_a), v4(us), 22, t + 3 * s);
    CHECK(d.verdict == V::LockedOut);
    CHECK(d.by_port);
    CHECK(d.until == t + 13 * s);
    CHECK(r.admit(v4(peer_b), v4(us), 22, t + 5 * s).verdict == V::Refused);   // from anyone
    CHECK(r.admit(v4(peer_a), v4(us), 80, t + 5 * s).verdict == V::Admit);     // another port
    CHECK(r.admit(v4(peer_a), v4(us), 22, t + 12 * s).verdict == V::Refused);  // not extended by tries
    CHECK(r.admit(v4(peer_a), v4(us), 22, t + 13 * s).verdict == V::Admit);    // over: a fresh window
    CHECK(r.admit(v4(peer_a), v4(us), 22, t + 14 * s).verdict == V::Admit);
    CHECK(r.admit(v4(peer_a), v4(us), 22, t + 15 * s).verdict == V::Admit);
    CHECK(r.admit(v4(peer_a), v4(us), 22, t + 16 * s).verdict == V::LockedOut);
}

TEST_CASE("rate limit: the window slides; a peer's limit covers every port", "[slirp][stack][ratelimit]")
{
    RateLimiter r({.count = 2, .window = 10 * s, .lockout = 30 * s}, {});
    uint64_t t = 5000 * s;
    CHECK(r.admit(v4(peer_a), v4(us), 22, t).verdict == V::Admit);
    CHECK(r.admit(v4(peer_a), v4(us), 80, t + 6 * s).verdict == V::Admit);
    CHECK(r.admit(v4(peer_a), v4(us), 443, t + 10 * s).verdict == V::Admit);   // the first left the window
    auto d = r.admit(v4(peer_a), v4(us), 8080, t + 11 * s);
    CHECK(d.verdict == V::LockedOut);
    CHECK_FALSE(d.by_port);
    CHECK(r.admit(v4(peer_b), v4(us), 22, t + 12 * s).verdict == V::Admit);    // another peer
    CHECK(r.admit(v4(peer_a), v4(us), 22, t + 40 * s).verdict == V::Refused);
    CHECK(r.admit(v4(peer_a), v4(us), 22, t + 41 * s).verdict == V::Admit);
}

TEST_CASE("rate limit: off at 0; what is remembered stays bounded", "[slirp][stack][ratelimit]")
{
    RateLimiter off({}, {});
    for (int i = 0; i < 1000; ++i)
        CHECK(off.admit(v4(peer_a), v4(us), 22, static_cast<uint64_t>(i)).verdict == V::Admit);
    CHECK(off.remembered() == 0);
    RateLimiter r({.count = 5, .window = 1 * s, .lockout = 2 * s}, {.count = 5, .window = 1 * s, .lockout = 2 * s});
    uint64_t t = 100 * s;
    for (uint32_t i = 0; i < 20000; ++i)   // a scan from ever new addresses and ports
        r.admit(v4(0x0B000000 + i), v4(us), static_cast<uint16_t>(1000 + i % 30000), t + i * 1000);
    CHECK(r.remembered() <= 4096 + 2 * 2000);
    r.admit(v4(peer_a), v4(us), 22, t + 100 * s);
    CHECK(r.remembered() <= 2);
}

TEST_CASE("rate limit: the stack answers a SYN over the limit with a RST and reports the lockout",
          "[slirp][stack][ratelimit]")
{
    StackConfig cfg;
    cfg.limits.new_per_port = {.count = 2, .window = 60 * s, .lockout = 5 * s};
    std::vector<std::vector<uint8_t>> out;
    Stack stack(cfg, [&](std::span<const uint8_t> p) { out.emplace_back(p.begin(), p.end()); }, 1);
    int accepted = 0, lockouts = 0;
    stack.listen_tcp(v4(us), 22, [&](tcp::Connection &c, const TcpKey &) {
        ++accepted;
        c.accept(1);
    });
    stack.on_lockout([&](const alopex::net::Address &peer, const alopex::net::Address &address, uint16_t port,
                         bool by_port, uint64_t until) {
        ++lockouts;
        CHECK(peer == v4(peer_a));
        CHECK(address == v4(us));
        CHECK(port == 22);
        CHECK(by_port);
        CHECK(until == 10 * s + 5 * s);
    });
    auto syn = [&](uint16_t sport) {
        Tcp t;
        t.src_port = sport;
        t.dst_port = 22;
        t.seq = 100;
        t.flags = tcp_flag::syn;
        t.window = 65535;
        std::vector<uint8_t> seg, pkt;
        build_tcp(seg, peer_a, us, t, {});
        build_ipv4(pkt, {.protocol = proto_tcp, .src = peer_a, .dst = us}, seg);
        out.clear();
        stack.input(pkt, 10 * s);
        REQUIRE(out.size() == 1);
        return *parse_tcp(*parse_ipv4(out[0]));
    };
    CHECK(syn(40000).flags == (tcp_flag::syn | tcp_flag::ack));
    CHECK(syn(40001).flags == (tcp_flag::syn | tcp_flag::ack));
    CHECK((syn(40002).flags & tcp_flag::rst) != 0);
    CHECK((syn(40003).flags & tcp_flag::rst) != 0);
    CHECK(accepted == 2);
    CHECK(lockouts == 1);
    CHECK(stack.stats().tcp_rate_limited == 2);
    CHECK(stack.stats().lockouts == 1);
}
