// SPDX-License-Identifier: GPL-2.0-or-later
// Retransmission timing (RFC 2131 4.1) and jitter bounds under a fake clock and RNG.
#include <catch2/catch.hpp>

#include <random>

#include "helpers.hpp"

using namespace dhcp_test;

namespace {

size_t sends(const Actions &a)
{
    return all<SendBroadcast>(a).size() + all<SendUnicast>(a).size();
}

} // namespace

TEST_CASE("DISCOVER backoff: 4, 8, 16, 32, 64, 64 s without jitter")
{
    Client c(Identity{mac, {}, ""}, [] { return 1'000'000u; });
    auto a = c.start(0);
    int64_t now = 0;
    uint32_t xid = c.xid();
    for (int64_t want : {4, 8, 16, 32, 64, 64, 64}) {
        REQUIRE(deadline(a));
        CHECK(*deadline(a) - now == want * S);
        now = *deadline(a);
        a = c.on_timer(now);
        CHECK(sends(a) == 1);
        CHECK(c.xid() == xid);   // retransmissions keep the xid
        auto p = parse_packet(all<SendBroadcast>(a).at(0).packet);
        REQUIRE(p);
        CHECK(p->secs == uint16_t(now / S));
    }
}

TEST_CASE("Jitter stays within +-1 s and uses the RNG")
{
    std::mt19937 gen(42);
    Client c(Identity{mac, {}, ""}, [&] { return uint32_t(gen()); });
    auto a = c.start(0);
    int64_t now = 0, base = 4;
    int64_t min_seen = S, max_seen = -S;
    for (int i = 0; i < 200; ++i) {
        int64_t delta = *deadline(a) - now - base * S;
        CHECK(delta >= -S);
        CHECK(delta <= S);
        min_seen = std::min(min_seen, delta);
        max_seen = std::max(max_seen, delta);
        now = *deadline(a);
        a = c.on_timer(now);
        base = std::min<int64_t>(base * 2, 64);
    }
    CHECK(min_seen < -S / 2);   // really jittered, both ways
    CHECK(max_seen > S / 2);

    // Extreme RNG values hit the bounds exactly.
    Client lo(Identity{mac, {}, ""}, [] { return 0u; });
    CHECK(*deadline(lo.start(0)) == 3 * S);
    Client hi(Identity{mac, {}, ""}, [] { return 2'000'000u; });
    CHECK(*deadline(hi.start(0)) == 5 * S);
}

TEST_CASE("REQUEST retransmits 4 times, then back to DISCOVER")
{
    Client c(Identity{mac, {}, ""}, [] { return 1'000'000u; });
    c.start(0);
    auto a = *c.on_packet(build_reply(reply(MessageType::offer, c.xid())), 1 * S);
    CHECK(*deadline(a) == 5 * S);
    a = c.on_timer(5 * S);
    CHECK(c.state() == State::requesting);
    CHECK(*deadline(a) == 13 * S);
    a = c.on_timer(13 * S);
    CHECK(*deadline(a) == 29 * S);
    a = c.on_timer(29 * S);
    CHECK(c.state() == State::requesting);
    CHECK(*deadline(a) == 61 * S);
    a = c.on_timer(61 * S);   // the 4th transmission went unanswered
    CHECK(c.state() == State::selecting);
    auto p = parse_packet(all<SendBroadcast>(a).at(0).packet);
    REQUIRE(p);
    CHECK(p->type == MessageType::discover);
}

TEST_CASE("Options 58/59 set T1/T2; both passed at once goes straight to rebinding")
{
    Client c(Identity{mac, {}, ""}, [] { return 1'000'000u; });
    c.start(0);
    auto off = reply(MessageType::offer, c.xid(), 1000);
    REQUIRE(c.on_packet(build_reply(off), 0));
    auto ack = reply(MessageType::ack, c.xid(), 1000);
    ack.t1 = 100;
    ack.t2 = 200;
    auto a = *c.on_packet(build_reply(ack), 0);
    CHECK(*deadline(a) == 100 * S);
    CHECK(c.lease()->t2_s == 200);
    // Suspended past T2: the next timer call rebinds (broadcast).
    a = c.on_timer(500 * S);
    CHECK(c.state() == State::rebinding);
    CHECK(all<SendBroadcast>(a).size() == 1);
    CHECK(all<SendUnicast>(a).empty());
    // Suspended past expiry: lost at once.
    a = c.on_timer(2000 * S);
    CHECK(all<LeaseLost>(a).size() == 1);
    CHECK(c.state() == State::selecting);
}

TEST_CASE("renew() from BOUND sends at once; from SELECTING restarts discovery")
{
    Client c(Identity{mac, {}, ""}, [] { return 1'000'000u; });
    auto a = c.start(0);
    a = c.renew(2 * S);
    CHECK(c.state() == State::selecting);
    CHECK(*deadline(a) == 6 * S);
    REQUIRE(c.on_packet(build_reply(reply(MessageType::offer, c.xid())), 2 * S));
    REQUIRE(c.on_packet(build_reply(reply(MessageType::ack, c.xid())), 2 * S));
    a = c.renew(3 * S);
    CHECK(c.state() == State::renewing);
    CHECK(all<SendUnicast>(a).size() == 1);
    a = c.renew(4 * S);   // again: retransmits
    CHECK(all<SendUnicast>(a).size() == 1);
}
