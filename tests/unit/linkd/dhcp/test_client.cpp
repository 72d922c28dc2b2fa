// SPDX-License-Identifier: GPL-2.0-or-later
// The client state machine over its whole lifecycle with a fake clock and RNG.
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace dhcp_test;

namespace {

// rng() == 1'000'000 gives zero jitter; the xid is then 1'000'000 too.
constexpr uint32_t zero_jitter = 1'000'000;

struct Fixture {
    Client c{Identity{mac, {}, "h"}, [] { return zero_jitter; }};

    Actions feed(const ReplySpec &s, int64_t now)
    {
        auto r = c.on_packet(build_reply(s), now);
        REQUIRE(r);
        return *r;
    }
    // DISCOVER -> OFFER -> REQUEST -> ACK at `now`.
    Actions acquire(int64_t now, uint32_t lease = 120)
    {
        auto a = c.start(now);
        REQUIRE(c.state() == State::selecting);
        feed(reply(MessageType::offer, c.xid(), lease), now);
        REQUIRE(c.state() == State::requesting);
        return feed(reply(MessageType::ack, c.xid(), lease), now);
    }
};

Packet sent(const Action *a)
{
    REQUIRE(a);
    const std::vector<uint8_t> *bytes = nullptr;
    if (auto *b = std::get_if<SendBroadcast>(a))
        bytes = &b->packet;
    else if (auto *u = std::get_if<SendUnicast>(a))
        bytes = &u->packet;
    REQUIRE(bytes);
    auto p = parse_packet(*bytes);
    REQUIRE(p);
    return *p;
}

const Action *find_send(const Actions &a)
{
    for (auto &x : a)
        if (std::holds_alternative<SendBroadcast>(x) || std::holds_alternative<SendUnicast>(x))
            return &x;
    return nullptr;
}

} // namespace

TEST_CASE("State names")
{
    CHECK(to_string(State::init_reboot) == "init-reboot");
    CHECK(state_from_string("rebinding") == State::rebinding);
    CHECK(!state_from_string("nope"));
}

TEST_CASE("Full lifecycle: DISCOVER, OFFER, REQUEST, ACK, renew, rebind, expiry")
{
    Fixture f;
    auto a = f.c.start(0);
    auto d = sent(find_send(a));
    CHECK(d.type == MessageType::discover);
    CHECK(std::holds_alternative<SendBroadcast>(*find_send(a)));
    CHECK(deadline(a) == 4 * S);

    a = f.feed(reply(MessageType::offer, f.c.xid()), 1 * S);
    auto r = sent(find_send(a));
    CHECK(r.type == MessageType::request);
    CHECK(r.server_id == server);
    CHECK(r.requested_ip == offered);
    CHECK(r.xid == f.c.xid());
    CHECK(r.secs == 1);

    a = f.feed(reply(MessageType::ack, f.c.xid()), 2 * S);
    CHECK(f.c.state() == State::bound);
    auto acq = first<LeaseAcquired>(a);
    REQUIRE(acq);
    CHECK(!acq->renewed);
    CHECK(acq->lease.address == offered);
    CHECK(acq->lease.prefixlen == 24);
    CHECK(acq->lease.mtu == 1400);
    CHECK(acq->lease.acquired_usec == 0);   // when the exchange started (RFC 2131 4.4.1)
    REQUIRE(first<PersistLease>(a));
    CHECK(first<PersistLease>(a)->lease == acq->lease);
    CHECK(deadline(a) == 60 * S);           // T1 = 0.5 * 120

    // Early timer calls only re-arm.
    a = f.c.on_timer(59 * S);
    CHECK(!find_send(a));
    CHECK(f.c.state() == State::bound);

    // T1: unicast REQUEST (renewing) from the leased address to the server.
    a = f.c.on_timer(60 * S);
    CHECK(f.c.state() == State::renewing);
    auto *u = std::get_if<SendUnicast>(find_send(a));
    REQUIRE(u);
    CHECK(u->source == offered);
    CHECK(u->server == server);
    auto rn = sent(find_send(a));
    CHECK(rn.ciaddr == offered);
    CHECK(!rn.server_id);
    // T2 = 105 s: half of 45 s is below 60 s, so the next deadline is T2 itself.
    CHECK(deadline(a) == 105 * S);

    // No answer: T2 -> rebinding, broadcast from the leased address.
    a = f.c.on_timer(105 * S);
    CHECK(f.c.state() == State::rebinding);
    auto *b = std::get_if<SendBroadcast>(find_send(a));
    REQUIRE(b);
    CHECK(b->source == offered);
    CHECK(sent(find_send(a)).ciaddr == offered);
    CHECK(deadline(a) == 120 * S);          // expiry (15 s left < 60 s)

    // Expiry: lease lost, state file removed, back to INIT with a DISCOVER.
    a = f.c.on_timer(120 * S);
    auto lost = first<LeaseLost>(a);
    REQUIRE(lost);
    CHECK(lost->lease.address == offered);
    REQUIRE(first<PersistLease>(a));
    CHECK(!first<PersistLease>(a)->lease);
    CHECK(f.c.state() == State::selecting);
    CHECK(!f.c.lease());
    auto d2 = sent(find_send(a));
    CHECK(d2.type == MessageType::discover);
    CHECK(d2.requested_ip == offered);      // asks for its old address back
}

TEST_CASE("Renewal ACK at T1 extends the lease")
{
    Fixture f;
    f.acquire(0);
    f.c.on_timer(60 * S);
    REQUIRE(f.c.state() == State::renewing);
    auto a = f.feed(reply(MessageType::ack, f.c.xid()), 61 * S);
    CHECK(f.c.state() == State::bound);
    auto acq = first<LeaseAcquired>(a);
    REQUIRE(acq);
    CHECK(acq->renewed);
    CHECK(acq->lease.acquired_usec == 60 * S);
    CHECK(deadline(a) == 120 * S);
    CHECK(!first<LeaseLost>(a));
}

TEST_CASE("Rebinding ACK from another server; renewal with a new address")
{
    Fixture f;
    f.acquire(0);
    f.c.on_timer(60 * S);
    f.c.on_timer(105 * S);
    REQUIRE(f.c.state() == State::rebinding);
    auto s = reply(MessageType::ack, f.c.xid());
    s.server_id = 0xc0000202;
    auto a = f.feed(s, 106 * S);
    CHECK(f.c.state() == State::bound);
    CHECK(f.c.lease()->server_id == 0xc0000202);

    f.c.renew(110 * S);
    s = reply(MessageType::ack, f.c.xid());
    s.yiaddr = 0xc000020b;
    a = f.feed(s, 111 * S);
    REQUIRE(first<LeaseLost>(a));
    CHECK(first<LeaseLost>(a)->lease.address == offered);
    REQUIRE(first<LeaseAcquired>(a));
    CHECK(!first<LeaseAcquired>(a)->renewed);
    CHECK(first<LeaseAcquired>(a)->lease.address == 0xc000020b);
}

TEST_CASE("Long lease: renewing retransmits at half the remaining time, at least 60 s")
{
    Fixture f;
    f.acquire(0, 3600);
    auto a = f.c.on_timer(1800 * S);
    REQUIRE(f.c.state() == State::renewing);
    // T2 = 3150: remaining 1350 -> next at 1800 + 675.
    CHECK(deadline(a) == 2475 * S);
    a = f.c.on_timer(2475 * S);
    CHECK(deadline(a) == (2475 + 337) * S + S / 2);
    a = f.c.on_timer(3100 * S);
    CHECK(deadline(a) == 3150 * S);   // 25 s left: straight to T2
}

TEST_CASE("NAK while requesting: back to INIT after a short backoff, doubling")
{
    Fixture f;
    f.c.start(0);
    f.feed(reply(MessageType::offer, f.c.xid()), 0);
    auto a = f.feed(reply(MessageType::nak, f.c.xid()), 1 * S);
    CHECK(f.c.state() == State::init);
    CHECK(!find_send(a));
    CHECK(!first<LeaseLost>(a));
    CHECK(deadline(a) == 3 * S);
    a = f.c.on_timer(3 * S);
    CHECK(f.c.state() == State::selecting);
    f.feed(reply(MessageType::offer, f.c.xid()), 3 * S);
    a = f.feed(reply(MessageType::nak, f.c.xid()), 3 * S);
    CHECK(deadline(a) == 7 * S);   // 4 s
}

TEST_CASE("NAK while renewing loses the lease")
{
    Fixture f;
    f.acquire(0);
    f.c.renew(10 * S);
    auto a = f.feed(reply(MessageType::nak, f.c.xid()), 11 * S);
    REQUIRE(first<LeaseLost>(a));
    REQUIRE(first<PersistLease>(a));
    CHECK(!first<PersistLease>(a)->lease);
    CHECK(f.c.state() == State::init);
}

TEST_CASE("INIT-REBOOT with a persisted lease: ACK accepted")
{
    Fixture f;
    auto acquired = f.acquire(0);
    auto acq = first<LeaseAcquired>(acquired);
    REQUIRE(acq);
    Lease persisted = acq->lease;

    Fixture g;   // a "restarted" client
    auto a = g.c.start(30 * S, persisted);
    CHECK(g.c.state() == State::rebooting);
    auto r = sent(find_send(a));
    CHECK(r.type == MessageType::request);
    CHECK(r.requested_ip == offered);
    CHECK(!r.server_id);
    CHECK(r.ciaddr == 0);
    a = g.feed(reply(MessageType::ack, g.c.xid()), 31 * S);
    CHECK(g.c.state() == State::bound);
    REQUIRE(first<LeaseAcquired>(a));
    CHECK(first<LeaseAcquired>(a)->lease.acquired_usec == 30 * S);
}

TEST_CASE("INIT-REBOOT NAKed: the old lease is removed, INIT")
{
    Fixture f;
    auto acquired = f.acquire(0);
    Lease persisted = first<LeaseAcquired>(acquired)->lease;
    Fixture g;
    g.c.start(30 * S, persisted);
    auto a = g.feed(reply(MessageType::nak, g.c.xid()), 31 * S);
    REQUIRE(first<LeaseLost>(a));
    CHECK(first<LeaseLost>(a)->lease.address == offered);
    CHECK(g.c.state() == State::init);
    a = g.c.on_timer(33 * S);
    CHECK(g.c.state() == State::selecting);
    CHECK(!sent(find_send(a)).requested_ip);   // the NAKed address is forgotten
}

TEST_CASE("INIT-REBOOT: expired persisted lease goes to INIT; no answer falls back")
{
    Fixture f;
    auto acquired = f.acquire(0);
    Lease persisted = first<LeaseAcquired>(acquired)->lease;
    Fixture g;
    g.c.start(200 * S, persisted);
    CHECK(g.c.state() == State::selecting);

    Fixture h;
    auto a = h.c.start(10 * S, persisted);
    CHECK(deadline(a) == 14 * S);
    a = h.c.on_timer(14 * S);
    CHECK(h.c.state() == State::rebooting);
    CHECK(deadline(a) == 22 * S);
    a = h.c.on_timer(22 * S);
    CHECK(h.c.state() == State::rebooting);
    CHECK(deadline(a) == 38 * S);
    a = h.c.on_timer(38 * S);   // third transmission unanswered: give up
    CHECK(h.c.state() == State::selecting);
    CHECK(sent(find_send(a)).requested_ip == offered);
}

TEST_CASE("Release sends RELEASE to the server and forgets the lease")
{
    Fixture f;
    f.acquire(0);
    auto a = f.c.release(5 * S);
    auto *u = std::get_if<SendUnicast>(find_send(a));
    REQUIRE(u);
    CHECK(u->server == server);
    auto p = sent(find_send(a));
    CHECK(p.type == MessageType::release);
    CHECK(p.ciaddr == offered);
    REQUIRE(first<LeaseLost>(a));
    CHECK(f.c.state() == State::stopped);
    CHECK(!f.c.timer());
    CHECK(!f.c.on_packet(build_reply(reply(MessageType::ack, f.c.xid())), 6 * S));
    // Released: a fresh start discovers without asking for the old address.
    a = f.c.start(7 * S);
    CHECK(!sent(find_send(a)).requested_ip);
}

TEST_CASE("Link down keeps the lease; start afterwards is INIT-REBOOT")
{
    Fixture f;
    f.acquire(0);
    auto a = f.c.link_down(5 * S);
    CHECK(f.c.state() == State::stopped);
    CHECK(!find_send(a));
    CHECK(f.c.lease());
    a = f.c.start(6 * S);
    CHECK(f.c.state() == State::rebooting);
    a = f.feed(reply(MessageType::ack, f.c.xid()), 7 * S);
    REQUIRE(first<LeaseAcquired>(a));
    CHECK(first<LeaseAcquired>(a)->renewed);
}

TEST_CASE("Replies that do not fit the state are dropped with a reason")
{
    Fixture f;
    f.c.start(0);
    // An ACK while selecting, an OFFER with a foreign xid.
    CHECK(!f.c.on_packet(build_reply(reply(MessageType::ack, f.c.xid())), 0));
    CHECK(!f.c.on_packet(build_reply(reply(MessageType::offer, f.c.xid() + 1)), 0));
    f.feed(reply(MessageType::offer, f.c.xid()), 0);
    auto other = reply(MessageType::ack, f.c.xid());
    other.server_id = 0xc0000209;
    auto r = f.c.on_packet(build_reply(other), 0);
    REQUIRE(!r);
    CHECK_THAT(r.error().message, Catch::Contains("not the selected server"));
    auto wrong = reply(MessageType::ack, f.c.xid());
    wrong.yiaddr = 0xc0000299;
    CHECK(!f.c.on_packet(build_reply(wrong), 0));
    CHECK(f.c.state() == State::requesting);
    f.feed(reply(MessageType::ack, f.c.xid()), 0);
    CHECK(!f.c.on_packet(build_reply(reply(MessageType::ack, f.c.xid())), 0));   // BOUND
}
