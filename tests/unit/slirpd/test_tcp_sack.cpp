// SPDX-License-Identifier: GPL-2.0-or-later
// SACK in slirpd's TCP engine (RFC 2018, RFC 6675) against a scripted peer: the blocks
// our ACKs carry, loss recovery that finds several holes in one round trip and never
// sends SACKed data again, and SACK blocks that lie.
#include <catch2/catch.hpp>

#include <algorithm>

#include "tcp_rig.hpp"

using namespace tcp_rig;
using tcp::State;

namespace {

Tcp with_sack(Tcp t, std::initializer_list<SackBlock> blocks)
{
    for (const auto &b : blocks)
        t.options.sack[t.options.sack_blocks++] = b;
    return t;
}

// Opens with SACK and grows cwnd: 10 segments acked one by one; returns the next
// sequence number to send.
uint32_t grow(Rig &r)
{
    r.open(65535, true, true);
    uint32_t p = Rig::peer_iss + 1, s = Rig::iss + 1;
    for (int i = 0; i < 10; ++i) {
        r.c.write(pattern(1460), r.now);
        r.feed(r.seg(tcp_flag::ack, p, s + static_cast<uint32_t>(i + 1) * 1460));
    }
    r.out.clear();
    return s + 14600;
}

// The application writes `segments` full segments; what went out is forgotten. Returns
// how many went.
size_t write_clear(Rig &r, size_t segments)
{
    r.c.write(pattern(segments * 1460, 5), r.now);
    size_t n = r.out.size();
    r.out.clear();
    return n;
}

std::vector<uint32_t> sent_seqs(const Rig &r, size_t from = 0)
{
    std::vector<uint32_t> v;
    for (size_t i = from; i < r.out.size(); ++i)
        if (!r.out[i].data.empty())
            v.push_back(r.out[i].h.seq);
    return v;
}

} // namespace

TEST_CASE("tcp sack: ACKs name the out-of-order data held, the latest segment's block first", "[slirp][tcp]")
{
    Rig r;
    r.open(65535, true, true);
    REQUIRE(r.c.sack());
    uint32_t p = Rig::peer_iss + 1, s = Rig::iss + 1;
    r.feed(r.seg(tcp_flag::ack, p + 1000, s), pattern(100));
    r.feed(r.seg(tcp_flag::ack, p + 3000, s), pattern(100));
    r.feed(r.seg(tcp_flag::ack, p + 2000, s), pattern(100));
    REQUIRE(r.out.size() == 3);
    const auto &o = r.out.back().h.options;
    REQUIRE(o.sack_blocks == 3);
    CHECK(o.sack[0] == SackBlock{p + 2000, p + 2100});   // RFC 2018 §4: the latest first
    CHECK(o.sack[1] == SackBlock{p + 1000, p + 1100});
    CHECK(o.sack[2] == SackBlock{p + 3000, p + 3100});
    // Adjacent pieces are one block.
    r.feed(r.seg(tcp_flag::ack, p + 1100, s), pattern(900));
    REQUIRE(r.out.back().h.options.sack_blocks == 2);
    CHECK(r.out.back().h.options.sack[0] == SackBlock{p + 1000, p + 2100});
    // The first hole filled: the ACK moves and names what is still held.
    r.feed(r.seg(tcp_flag::ack, p, s), pattern(1000));
    CHECK(r.out.back().h.ack == p + 2100);
    REQUIRE(r.out.back().h.options.sack_blocks == 1);
    CHECK(r.out.back().h.options.sack[0] == SackBlock{p + 3000, p + 3100});
    r.feed(r.seg(tcp_flag::ack, p + 2100, s), pattern(900));
    CHECK(r.out.back().h.ack == p + 3100);
    CHECK(r.out.back().h.options.sack_blocks == 0);
    // Six holes: four blocks at most.
    for (uint32_t i = 0; i < 6; ++i)
        r.feed(r.seg(tcp_flag::ack, p + 4000 + 200 * i, s), pattern(100));
    CHECK(r.out.back().h.options.sack_blocks == 4);
    CHECK(r.out.back().h.options.sack[0] == SackBlock{p + 5000, p + 5100});
}

TEST_CASE("tcp sack: none without the peer's SACK-permitted, and not offered when configured off", "[slirp][tcp]")
{
    Rig r;
    r.open();   // the SYN had no SACK-permitted
    CHECK_FALSE(r.c.sack());
    uint32_t p = Rig::peer_iss + 1, s = Rig::iss + 1;
    r.feed(r.seg(tcp_flag::ack, p + 1000, s), pattern(100));
    REQUIRE_FALSE(r.out.empty());
    CHECK(r.out.back().h.options.sack_blocks == 0);

    tcp::Config off;
    off.sack = false;
    Rig q(off);
    Tcp syn = q.seg(tcp_flag::syn, Rig::peer_iss, 0);
    syn.options.sack_permitted = true;
    q.c.syn_arrived(syn, q.now);
    q.c.accept(q.now);
    REQUIRE(q.out.size() == 1);
    CHECK_FALSE(q.out[0].h.options.sack_permitted);
    Rig c;
    c.c.connect(c.now);
    REQUIRE(c.out.size() == 1);
    CHECK(c.out[0].h.options.sack_permitted);   // our own SYN offers it
}

TEST_CASE("tcp sack: three holes in one window are all sent again before the first is acked", "[slirp][tcp]")
{
    Rig r;
    uint32_t p = Rig::peer_iss + 1, s = grow(r);
    REQUIRE(write_clear(r, 10) == 10);
    // Segments 0, 3 and 6 are lost; the peer's ACKs stay at s and SACK the others.
    auto seg = [s](uint32_t i) { return s + i * 1460; };
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(1), seg(2)}}));
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(1), seg(3)}}));
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(4), seg(5)}, {seg(1), seg(3)}}));
    CHECK(r.c.stats().sack_recoveries == 1);
    CHECK(sent_seqs(r) == std::vector<uint32_t>{seg(0)});
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(4), seg(6)}, {seg(1), seg(3)}}));
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(7), seg(8)}, {seg(4), seg(6)}, {seg(1), seg(3)}}));
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(7), seg(9)}, {seg(4), seg(6)}, {seg(1), seg(3)}}));
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(7), seg(10)}, {seg(4), seg(6)}, {seg(1), seg(3)}}));
    // Every hole once, nothing SACKed, no cumulative ACK yet.
    CHECK(sent_seqs(r) == std::vector<uint32_t>{seg(0), seg(3), seg(6)});
    CHECK(r.c.sack_ranges() == 3);
    r.feed(r.seg(tcp_flag::ack, p, seg(10)));
    CHECK(r.c.send_queued() == 0);
    CHECK(r.c.sack_ranges() == 0);
    CHECK(r.c.stats().timeouts == 0);
    CHECK(r.c.stats().fast_retransmits == 1);
    // Recovery over: the next data goes out as usual.
    r.out.clear();
    r.c.write(pattern(1460), r.now);
    CHECK(sent_seqs(r) == std::vector<uint32_t>{seg(10)});
}

TEST_CASE("tcp sack hostile: blocks that lie are ignored, and the scoreboard is bounded", "[slirp][tcp]")
{
    Rig r;
    uint32_t p = Rig::peer_iss + 1, s = grow(r);
    write_clear(r, 10);
    // Beyond what was sent, reversed, wrapping, below SND.UNA (a D-SACK), empty.
    Tcp lies = with_sack(r.seg(tcp_flag::ack, p, s), {{s + 20000, s + 30000}, {s + 3000, s + 1000},
                                                       {s + 0x80000000u, s + 100}, {s - 5000, s - 1000}});
    r.feed(lies);
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{s + 500, s + 500}}));
    CHECK(r.c.sack_ranges() == 0);
    CHECK(r.out.empty());   // two duplicates: nothing yet (limited transmit has nothing new)
    // Many small blocks, each of one octet: at most 64 ranges kept.
    for (uint32_t i = 0; i < 50; ++i)
        r.feed(with_sack(r.seg(tcp_flag::ack, p, s),
                         {{s + 100 + 8 * i, s + 101 + 8 * i}, {s + 7000 + 8 * i, s + 7001 + 8 * i}}));
    CHECK(r.c.sack_ranges() <= 64);
    // A block that starts below SND.UNA counts from it.
    r.feed(r.seg(tcp_flag::ack, p, s + 1460));
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s + 1460), {{s, s + 4380}}));
    CHECK(r.c.state() == State::Established);
    r.feed(r.seg(tcp_flag::ack, p, s + 14600));
    CHECK(r.c.send_queued() == 0);
    CHECK(r.c.sack_ranges() == 0);
}

TEST_CASE("tcp sack: a timeout forgets the scoreboard (RFC 2018 §8) and sends from SND.UNA", "[slirp][tcp]")
{
    Rig r;
    uint32_t p = Rig::peer_iss + 1, s = grow(r);
    write_clear(r, 3);
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{s + 1460, s + 2920}}));
    CHECK(r.c.sack_ranges() == 1);
    r.run_until(r.now + 2'000'000);
    CHECK(r.c.stats().timeouts >= 1);
    CHECK(r.c.sack_ranges() == 0);
    REQUIRE_FALSE(sent_seqs(r).empty());
    CHECK(sent_seqs(r).front() == s);
}

TEST_CASE("tcp: fast retransmit works whatever the ISS (RFC 6582's recover starts at it)", "[slirp][tcp]")
{
    // An ISS in the upper half of the sequence space: with `recover` left at 0, the
    // first recovery never started and every loss waited for the timeout.
    for (bool sack : {false, true}) {
        for (uint32_t iss : {0x90000000u, 0xFFFFFF00u, 5u}) {
            std::vector<Sent> out;
            tcp::Connection c({}, 22, 40000, iss, [&](const Tcp &h, std::span<const uint8_t> d) {
                out.push_back({h, Bytes(d.begin(), d.end())});
            });
            uint64_t now = 1'000'000;
            Tcp t;
            t.src_port = 40000, t.dst_port = 22, t.window = 65535;
            t.seq = 7000, t.flags = tcp_flag::syn;
            t.options.mss = 1460;
            t.options.sack_permitted = sack;
            c.syn_arrived(t, now);
            c.accept(now);
            t.seq = 7001, t.ack = iss + 1, t.flags = tcp_flag::ack;
            c.input(t, now += 10'000);
            REQUIRE(c.state() == State::Established);
            c.write(pattern(8 * 1460), now);
            out.clear();
            for (int i = 0; i < 3; ++i)
                c.input(t, now += 1000);   // three duplicates of ACK iss + 1
            INFO("ISS " << iss << (sack ? " with SACK" : ""));
            CHECK(c.stats().fast_retransmits == 1);
            REQUIRE_FALSE(out.empty());
            CHECK(out.front().h.seq == iss + 1);
            CHECK(c.stats().timeouts == 0);
        }
    }
}

TEST_CASE("tcp sack: a retransmission that is lost too goes again once later data is SACKed", "[slirp][tcp]")
{
    Rig r;
    uint32_t p = Rig::peer_iss + 1, s = grow(r);
    auto seg = [s](uint32_t i) { return s + i * 1460; };
    r.c.write(pattern(20 * 1460, 5), r.now);   // the window (20 segments after grow) goes
    REQUIRE(sent_seqs(r).size() == 20);
    r.c.write(pattern(10 * 1460, 6), r.now);   // and this waits
    CHECK(sent_seqs(r).size() == 20);
    r.out.clear();
    // Segment 0 lost: three SACKs start the recovery and its retransmission.
    // (Each SACKed segment has left the network: one new segment goes for each.)
    for (uint32_t i = 2; i <= 4; ++i)
        r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(1), seg(i)}}));
    REQUIRE(sent_seqs(r) == std::vector<uint32_t>{seg(20), seg(21), seg(22), seg(0)});
    // The rest of the window arrives; the pipe lets new data out, sent after the
    // retransmission.
    r.out.clear();
    for (uint32_t i = 5; i <= 23; ++i)
        r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(1), seg(i)}}));
    auto after = sent_seqs(r);
    REQUIRE_FALSE(after.empty());
    CHECK(after[0] == seg(23));   // new data, past SND.MAX at the retransmission
    CHECK(r.c.stats().lost_retransmits == 0);
    // That new data is SACKed, and segment 0 is still missing: its retransmission was lost.
    r.out.clear();
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(1), seg(24)}}));
    CHECK(r.c.stats().lost_retransmits == 1);
    REQUIRE_FALSE(sent_seqs(r).empty());
    CHECK(sent_seqs(r).front() == seg(0));
    CHECK(r.c.stats().timeouts == 0);
}

TEST_CASE("tcp sack: going back after a timeout passes over what the peer holds", "[slirp][tcp]")
{
    Rig r;
    uint32_t p = Rig::peer_iss + 1, s = grow(r);
    auto seg = [s](uint32_t i) { return s + i * 1460; };
    write_clear(r, 4);
    // Segments 1 and 2 SACKed; 0 and 3 lost; too few duplicates for a fast retransmit.
    r.feed(with_sack(r.seg(tcp_flag::ack, p, s), {{seg(1), seg(3)}}));
    r.run_until(r.now + 250'000);   // one timeout (the RTO is 200 ms here)
    CHECK(r.c.stats().timeouts == 1);
    r.feed(r.seg(tcp_flag::ack, p, seg(1)));   // the retransmitted segment 0 arrived
    r.run_until(r.now + 10'000);
    auto seqs = sent_seqs(r);
    CHECK(std::find(seqs.begin(), seqs.end(), seg(0)) != seqs.end());
    CHECK(std::find(seqs.begin(), seqs.end(), seg(1)) == seqs.end());
    CHECK(std::find(seqs.begin(), seqs.end(), seg(2)) == seqs.end());
    CHECK(std::find(seqs.begin(), seqs.end(), seg(3)) != seqs.end());
}
