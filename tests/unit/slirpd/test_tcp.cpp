// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's TCP engine against a scripted peer: opening (passive, deferred until the host
// side connected; refused; active), data and ACKs, the window we offer and its bounds,
// retransmission (RFC 6298), fast retransmit and NewReno (RFC 5681/6582), zero-window
// probes, RST and SYN rules (RFC 5961), closing both ways and TIME-WAIT, keepalive.
#include <catch2/catch.hpp>

#include "tcp_rig.hpp"

using namespace tcp_rig;
using tcp::State;

TEST_CASE("tcp: a SYN is answered only when the host side is connected; MSS and window scale", "[slirp][tcp]")
{
    Rig r;
    Tcp syn = r.seg(tcp_flag::syn, Rig::peer_iss, 0, 29200);
    syn.options.mss = 1400;
    syn.options.window_scale = 7;
    syn.options.sack_permitted = true;
    syn.options.timestamps = {{1, 0}};
    r.c.syn_arrived(syn, r.now);
    CHECK(r.out.empty());
    CHECK(r.c.state() == State::SynPending);
    r.feed(syn);   // a retransmitted SYN waits with the first
    CHECK(r.out.empty());

    r.c.accept(r.now);
    REQUIRE(r.out.size() == 1);
    const auto &sa = r.out[0];
    CHECK(sa.h.flags == (tcp_flag::syn | tcp_flag::ack));
    CHECK(sa.h.seq == Rig::iss);
    CHECK(sa.h.ack == Rig::peer_iss + 1);
    CHECK(sa.h.options.mss == 1460);
    CHECK(sa.h.options.window_scale == 2);   // 128 KiB needs a shift of 2
    CHECK(sa.h.options.sack_permitted);      // the SYN permitted SACK: so does ours (RFC 2018 §2)
    CHECK_FALSE(sa.h.options.timestamps);
    CHECK(sa.h.window == 65535);             // a SYN's window is not scaled
    CHECK(r.c.state() == State::SynReceived);

    r.feed(r.seg(tcp_flag::ack, Rig::peer_iss + 1, Rig::iss + 1, 229));   // 229 << 7
    CHECK(r.c.state() == State::Established);
    CHECK(r.app.saw("established"));
    CHECK(r.app.saw("writable"));
    // Segments are sized to the peer's MSS.
    auto data = pattern(5000);
    CHECK(r.c.write(data, r.now) == 5000);
    REQUIRE(r.out.size() >= 3);
    CHECK(r.out[1].data.size() == 1400);
    CHECK(r.out[1].h.seq == Rig::iss + 1);
}

TEST_CASE("tcp: refused (RST to the SYN), and a lost SYN-ACK is sent again", "[slirp][tcp]")
{
    {
        Rig r;
        r.c.syn_arrived(r.seg(tcp_flag::syn, Rig::peer_iss, 0), r.now);
        r.c.refuse();
        REQUIRE(r.out.size() == 1);
        CHECK(r.out[0].h.flags == (tcp_flag::rst | tcp_flag::ack));
        CHECK(r.out[0].h.ack == Rig::peer_iss + 1);
        CHECK(r.c.finished());
        CHECK_FALSE(r.app.is_closed);   // our own decision: no event
    }
    {
        Rig r;
        r.c.syn_arrived(r.seg(tcp_flag::syn, Rig::peer_iss, 0), r.now);
        r.c.accept(r.now);
        r.feed(r.seg(tcp_flag::syn, Rig::peer_iss, 0));   // the peer did not get it
        REQUIRE(r.out.size() == 2);
        CHECK(r.out[1].h.flags == (tcp_flag::syn | tcp_flag::ack));
        // Unanswered, the SYN-ACK is retransmitted with backoff, then the attempt ends.
        r.run_until(r.now + 200'000'000);
        CHECK(r.out.size() == 2 + 5);
        CHECK(r.app.is_closed);
        CHECK(r.app.reason == tcp::CloseReason::Timeout);
    }
}

TEST_CASE("tcp: an active open (client mode) completes, and a RST refuses it", "[slirp][tcp]")
{
    {
        Rig r;
        r.c.connect(r.now);
        REQUIRE(r.out.size() == 1);
        CHECK(r.out[0].h.flags == tcp_flag::syn);
        CHECK(r.out[0].h.options.window_scale == 2);   // offered
        Tcp sa = r.seg(tcp_flag::syn | tcp_flag::ack, Rig::peer_iss, Rig::iss + 1, 1000);
        sa.options.mss = 536;
        r.now += 30'000;
        r.feed(sa);
        CHECK(r.c.state() == State::Established);
        CHECK(r.out.back().h.flags == tcp_flag::ack);
        CHECK(r.out.back().h.ack == Rig::peer_iss + 1);
        CHECK(r.c.srtt() == 30'000);
        // Without the peer's window scale option, neither side scales.
        CHECK(r.out.back().h.window == 65535);
    }
    {
        Rig r;
        r.c.connect(r.now);
        r.feed(r.seg(tcp_flag::rst | tcp_flag::ack, 0, Rig::iss + 1));
        CHECK(r.app.reason == tcp::CloseReason::Refused);
        CHECK(r.c.finished());
    }
}

TEST_CASE("tcp: data both ways; ACKs delayed, every second full segment at once", "[slirp][tcp]")
{
    Rig r;
    r.open();
    uint32_t p = Rig::peer_iss + 1;
    auto a = pattern(1460, 1), b = pattern(1460, 2), small = pattern(10, 3);
    r.feed(r.seg(tcp_flag::ack, p, Rig::iss + 1), a);
    CHECK(r.out.empty());   // delayed
    r.feed(r.seg(tcp_flag::ack, p + 1460, Rig::iss + 1), b);
    REQUIRE(r.out.size() == 1);
    CHECK(r.out[0].h.ack == p + 2920);
    r.feed(r.seg(tcp_flag::ack | tcp_flag::psh, p + 2920, Rig::iss + 1), small);
    CHECK(r.out.size() == 1);
    r.at(r.now + 39'000);
    CHECK(r.out.size() == 1);
    r.at(r.now + 1'000);   // 40 ms
    REQUIRE(r.out.size() == 2);
    CHECK(r.out[1].h.ack == p + 2930);
    Bytes all = a;
    all.insert(all.end(), b.begin(), b.end());
    all.insert(all.end(), small.begin(), small.end());
    CHECK(r.received() == all);
    CHECK(r.c.stats().bytes_in == 2930);

    // Our data: PSH on the last segment, the peer's ACK frees the buffer.
    r.out.clear();
    auto d = pattern(3000, 4);
    r.c.write(d, r.now);
    REQUIRE(r.out.size() == 3);
    CHECK(r.out[2].has(tcp_flag::psh));
    CHECK(r.c.send_queued() == 3000);
    r.feed(r.seg(tcp_flag::ack, p + 2930, Rig::iss + 1 + 3000));
    CHECK(r.c.send_queued() == 0);
    CHECK(r.c.next_deadline() == UINT64_MAX);
}

TEST_CASE("tcp: the window offered is the free receive buffer, and nothing past it is kept", "[slirp][tcp]")
{
    tcp::Config cfg;
    cfg.receive_buffer = 8192;
    Rig r(cfg);
    r.open();
    uint32_t p = Rig::peer_iss + 1;
    auto big = pattern(1460);
    for (int i = 0; i < 8; ++i)   // 11680 bytes offered into 8192
        r.feed(r.seg(tcp_flag::ack, p + static_cast<uint32_t>(i) * 1460, Rig::iss + 1), big);
    CHECK(r.c.received().size() == 8192);
    CHECK(r.c.memory() <= 8192 + 8192);
    r.at(r.now + 50'000);
    REQUIRE_FALSE(r.out.empty());
    CHECK(r.out.back().h.window == 0);
    CHECK(r.out.back().h.ack == p + 8192);
    // Reading half opens the window again: a window update is sent.
    r.out.clear();
    r.c.consume(4096, r.now);
    REQUIRE(r.out.size() == 1);
    CHECK(r.out[0].h.window == 4096);
}

TEST_CASE("tcp: out-of-order segments are kept in the window and delivered in order", "[slirp][tcp]")
{
    Rig r;
    r.open();
    uint32_t p = Rig::peer_iss + 1;
    auto a = pattern(1000, 1), b = pattern(1000, 2), c = pattern(1000, 3);
    r.feed(r.seg(tcp_flag::ack, p + 2000, Rig::iss + 1), c);
    r.feed(r.seg(tcp_flag::ack, p + 1000, Rig::iss + 1), b);
    REQUIRE(r.out.size() == 2);   // duplicate ACKs at once
    CHECK(r.out[1].h.ack == p);
    CHECK(r.c.received().empty());
    r.feed(r.seg(tcp_flag::ack, p, Rig::iss + 1), a);
    CHECK(r.out.back().h.ack == p + 3000);   // the hole filled: ACKed at once
    Bytes all = a;
    all.insert(all.end(), b.begin(), b.end());
    all.insert(all.end(), c.begin(), c.end());
    CHECK(r.received() == all);
    CHECK(r.c.stats().out_of_order == 2);

    // Overlapping and duplicate pieces: each byte once, in order.
    auto stream = pattern(6000, 9);
    auto slice = [&](size_t from, size_t n) { return Bytes(stream.begin() + from, stream.begin() + from + n); };
    p += 3000;
    r.feed(r.seg(tcp_flag::ack, p + 1500, Rig::iss + 1), slice(1500, 1000));
    r.feed(r.seg(tcp_flag::ack, p + 2000, Rig::iss + 1), slice(2000, 2000));
    r.feed(r.seg(tcp_flag::ack, p + 1500, Rig::iss + 1), slice(1500, 1000));
    r.feed(r.seg(tcp_flag::ack, p, Rig::iss + 1), slice(0, 1000));
    r.feed(r.seg(tcp_flag::ack, p + 500, Rig::iss + 1), slice(500, 1500));
    r.feed(r.seg(tcp_flag::ack, p, Rig::iss + 1), slice(0, 6000));
    CHECK(r.received() == stream);
}

TEST_CASE("tcp: RFC 6298 retransmission timer, backoff, and the end of a dead connection", "[slirp][tcp]")
{
    Rig r;
    r.open();
    r.c.write(pattern(100), r.now);
    REQUIRE(r.out.size() == 1);
    uint64_t t0 = r.now;
    CHECK(r.c.next_deadline() == t0 + 200'000);   // the handshake's 10 ms RTT: the minimum RTO
    r.run_until(t0 + 200'000);
    REQUIRE(r.out.size() == 2);
    CHECK(r.out[1].h.seq == Rig::iss + 1);
    CHECK(r.out[1].data.size() == 100);
    CHECK(r.c.next_deadline() == t0 + 600'000);   // doubled
    r.run_until(t0 + 1000'000'000);
    CHECK(r.app.is_closed);
    CHECK(r.app.reason == tcp::CloseReason::Timeout);
    CHECK(r.out.back().has(tcp_flag::rst));
    CHECK(r.c.stats().timeouts == 12);
}

TEST_CASE("tcp: an RTT sample sets the RTO (min 200 ms); Karn's rule skips retransmissions", "[slirp][tcp]")
{
    Rig r;
    r.open();
    r.c.write(pattern(100), r.now);
    CHECK(r.c.srtt() == 10'000);   // the handshake's
    r.now += 1'000'000;
    r.feed(r.seg(tcp_flag::ack, Rig::peer_iss + 1, Rig::iss + 101));
    CHECK(r.c.srtt() == (7 * 10'000 + 1'000'000) / 8);
    r.c.write(pattern(100), r.now);
    // RTTVAR = (3 * 5000 + 990000) / 4; RTO = SRTT + 4 RTTVAR
    uint64_t rto = (7 * 10'000 + 1'000'000) / 8 + (3 * 5'000 + 990'000);
    CHECK(r.c.next_deadline() == r.now + rto);
    // A retransmission gives no sample (Karn): the late ACK of it leaves SRTT alone.
    r.at(r.now + rto);
    r.now += 3'000'000;
    uint64_t srtt = r.c.srtt();
    r.feed(r.seg(tcp_flag::ack, Rig::peer_iss + 1, Rig::iss + 201));
    CHECK(r.c.srtt() == srtt);
}

TEST_CASE("tcp: three duplicate ACKs retransmit at once; NewReno recovers every hole", "[slirp][tcp]")
{
    Rig r;
    r.open();
    uint32_t p = Rig::peer_iss + 1, s = Rig::iss + 1;
    // Grow cwnd first: 10 segments acked one by one.
    for (int i = 0; i < 10; ++i) {
        r.c.write(pattern(1460), r.now);
        r.feed(r.seg(tcp_flag::ack, p, s + static_cast<uint32_t>(i + 1) * 1460));
    }
    s += 14600;
    r.out.clear();
    r.c.write(pattern(14600, 5), r.now);
    REQUIRE(r.out.size() == 10);
    // Segments 0 and 3 are lost: the peer ACKs s for segments 1, 2 (and more).
    for (int i = 0; i < 3; ++i)
        r.feed(r.seg(tcp_flag::ack, p, s));
    REQUIRE(r.out.size() == 11);
    CHECK(r.out[10].h.seq == s);
    CHECK(r.c.stats().fast_retransmits == 1);
    // The retransmission fills the first hole: a partial ACK, up to the second hole.
    r.feed(r.seg(tcp_flag::ack, p, s + 3 * 1460));
    bool resent_second = false;
    for (size_t i = 11; i < r.out.size(); ++i)
        resent_second |= r.out[i].h.seq == s + 3 * 1460;
    CHECK(resent_second);
    r.feed(r.seg(tcp_flag::ack, p, s + 14600));
    CHECK(r.c.send_queued() == 0);
    CHECK(r.c.stats().timeouts == 0);
}

TEST_CASE("tcp: a zero window is probed until it opens, without giving up", "[slirp][tcp]")
{
    Rig r;
    r.open(0);
    r.c.write(pattern(5000), r.now);
    CHECK(r.out.empty());
    uint64_t t0 = r.now;
    for (int i = 0; i < 20; ++i) {   // far past max_retransmits: probes answered keep it alive
        r.at(r.c.next_deadline());
        REQUIRE_FALSE(r.out.empty());
        CHECK(r.out.back().data.size() == 1);
        CHECK(r.out.back().h.seq == Rig::iss + 1);
        r.feed(r.seg(tcp_flag::ack, Rig::peer_iss + 1, Rig::iss + 1, 0));
    }
    CHECK(r.c.state() == State::Established);
    CHECK(r.now - t0 > 60'000'000);
    CHECK(r.c.stats().window_probes == 20);
    r.out.clear();
    r.feed(r.seg(tcp_flag::ack, Rig::peer_iss + 1, Rig::iss + 1, 100));   // 100 << 7: opened
    REQUIRE(r.out.size() == 4);   // all 5000 bytes: within the window and the initial cwnd
    CHECK(r.out[0].h.seq == Rig::iss + 1);
}

TEST_CASE("tcp: RST and SYN rules of RFC 5961", "[slirp][tcp]")
{
    uint32_t p = Rig::peer_iss + 1;
    {
        Rig r;
        r.open();
        r.feed(r.seg(tcp_flag::rst, p + 100, 0));   // in the window, not exact: challenge
        REQUIRE(r.out.size() == 1);
        CHECK(r.out[0].h.flags == tcp_flag::ack);
        CHECK(r.out[0].h.ack == p);
        r.feed(r.seg(tcp_flag::rst, p + 10'000'000, 0));   // outside: ignored
        CHECK(r.out.size() == 1);
        r.feed(r.seg(tcp_flag::syn, p + 5, 0));             // SYN while synchronized: challenge
        CHECK(r.out.size() == 2);
        CHECK(r.c.state() == State::Established);
        CHECK(r.c.stats().challenge_acks == 2);
        r.feed(r.seg(tcp_flag::rst, p, 0));                 // exact: the end
        CHECK(r.app.reason == tcp::CloseReason::Reset);
        CHECK(r.c.finished());
    }
    {
        Rig r;
        r.open();
        r.feed(r.seg(tcp_flag::ack, p, Rig::iss + 500));   // acknowledges what was never sent
        REQUIRE(r.out.size() == 1);
        CHECK(r.out[0].h.ack == p);
        CHECK(r.c.state() == State::Established);
    }
    {
        Rig r;   // an ACK in SYN-RECEIVED that does not fit gets a RST
        r.c.syn_arrived(r.seg(tcp_flag::syn, Rig::peer_iss, 0), r.now);
        r.c.accept(r.now);
        r.feed(r.seg(tcp_flag::ack, p, Rig::iss + 99));
        CHECK(r.out.back().h.flags == tcp_flag::rst);
        CHECK(r.out.back().h.seq == Rig::iss + 99);
        CHECK(r.c.state() == State::SynReceived);
    }
}

TEST_CASE("tcp: the peer closes first (CLOSE-WAIT, LAST-ACK)", "[slirp][tcp]")
{
    Rig r;
    r.open();
    uint32_t p = Rig::peer_iss + 1;
    r.feed(r.seg(tcp_flag::ack | tcp_flag::fin, p, Rig::iss + 1), pattern(10));
    CHECK(r.c.state() == State::CloseWait);
    CHECK(r.app.saw("peer_closed"));
    REQUIRE(r.out.size() == 1);
    CHECK(r.out[0].h.ack == p + 11);
    CHECK_FALSE(r.c.peer_finished());   // 10 bytes still to read
    // Half-close: we still send.
    r.c.write(pattern(20), r.now);
    r.c.shutdown(r.now);
    CHECK(r.c.state() == State::LastAck);
    CHECK(r.out.back().has(tcp_flag::fin));
    r.feed(r.seg(tcp_flag::ack, p + 11, Rig::iss + 22));
    CHECK(r.c.closed());
    CHECK_FALSE(r.app.is_closed);   // not before the application read what was received
    CHECK(r.received().size() == 10);
    CHECK(r.app.is_closed);
    CHECK(r.app.reason == tcp::CloseReason::Done);
    CHECK(r.c.finished());
}

TEST_CASE("tcp: we close first (FIN-WAIT-1/2, TIME-WAIT for 2 MSL, a retransmitted FIN)", "[slirp][tcp]")
{
    Rig r;
    r.open();
    uint32_t p = Rig::peer_iss + 1;
    r.c.shutdown(r.now);
    CHECK(r.c.state() == State::FinWait1);
    REQUIRE(r.out.size() == 1);
    CHECK(r.out[0].h.flags == (tcp_flag::fin | tcp_flag::ack));
    r.feed(r.seg(tcp_flag::ack, p, Rig::iss + 2));
    CHECK(r.c.state() == State::FinWait2);
    r.feed(r.seg(tcp_flag::ack, p, Rig::iss + 2), pattern(5));   // half-close: it still sends
    r.feed(r.seg(tcp_flag::ack | tcp_flag::fin, p + 5, Rig::iss + 2));
    CHECK(r.c.state() == State::TimeWait);
    CHECK(r.out.back().h.ack == p + 6);
    CHECK(r.received().size() == 5);
    CHECK(r.app.reason == tcp::CloseReason::Done);
    r.at(r.now + 30'000'000);
    r.out.clear();
    r.feed(r.seg(tcp_flag::ack | tcp_flag::fin, p + 5, Rig::iss + 2));   // our ACK was lost
    REQUIRE(r.out.size() == 1);
    CHECK(r.out[0].h.ack == p + 6);
    r.at(r.now + 59'000'000);
    CHECK(r.c.state() == State::TimeWait);   // restarted
    r.at(r.now + 1'000'000);
    CHECK(r.c.finished());
}

TEST_CASE("tcp: simultaneous close goes through CLOSING", "[slirp][tcp]")
{
    Rig r;
    r.open();
    uint32_t p = Rig::peer_iss + 1;
    r.c.shutdown(r.now);
    r.feed(r.seg(tcp_flag::ack | tcp_flag::fin, p, Rig::iss + 1));   // its FIN crossed ours
    CHECK(r.c.state() == State::Closing);
    r.feed(r.seg(tcp_flag::ack, p + 1, Rig::iss + 2));
    CHECK(r.c.state() == State::TimeWait);
}

TEST_CASE("tcp: keepalive probes a silent peer and gives up", "[slirp][tcp]")
{
    tcp::Config cfg;
    cfg.keepalive_idle = 10'000'000;
    cfg.keepalive_interval = 1'000'000;
    cfg.keepalive_probes = 3;
    Rig r(cfg);
    r.open();
    r.run_until(r.now + 10'000'000);
    REQUIRE(r.out.size() == 1);
    CHECK(r.out[0].h.seq == Rig::iss);   // one before SND.UNA
    r.feed(r.seg(tcp_flag::ack, Rig::peer_iss + 1, Rig::iss + 1));   // answered: idle again
    r.run_until(r.now + 9'000'000);
    CHECK(r.out.size() == 1);
    r.run_until(r.now + 20'000'000);
    CHECK(r.app.reason == tcp::CloseReason::Timeout);
    CHECK(r.out.back().has(tcp_flag::rst));
}

TEST_CASE("tcp: the send buffer is bounded; writable comes when ACKs free it", "[slirp][tcp]")
{
    tcp::Config cfg;
    cfg.send_buffer = 10000;
    Rig r(cfg);
    r.open(10);   // 10 << 7 = 1280 bytes of window
    CHECK(r.c.write(pattern(30000), r.now) == 10000);
    CHECK(r.c.send_space() == 0);
    CHECK(r.c.write(pattern(10), r.now) == 0);
    r.app.events.clear();
    r.feed(r.seg(tcp_flag::ack, Rig::peer_iss + 1, Rig::iss + 1 + 1280, 10));
    CHECK(r.app.saw("writable"));
    CHECK(r.c.send_space() == 1280);
}
