// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's PPP link on a virtual clock against a pppd-like peer (ppp_peer.hpp): LCP, then
// IPCP, then IP both ways with the negotiated framing; byte-by-byte delivery; protocols
// it does not carry; a silent peer, a passive restart, and echo keepalive.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "link.hpp"
#include "ppp_peer.hpp"
#include "tcp_packet.hpp"

using namespace alopex;
using namespace alopex::slirp::ppp;
using slirp_test::Bytes;
using slirp_test::Peer;

namespace {

struct Rig {
    Bytes to_peer;
    std::vector<Bytes> ip;
    int ups = 0, downs = 0;
    uint64_t now = 1'000'000;
    Link link;
    Peer peer;
    size_t chunk = 0;   // 0: all at once

    explicit Rig(LinkConfig config = {})
        : link(config, [n = 0x5000u]() mutable { return n++; },
               {[this](std::span<const uint8_t> b) { to_peer.insert(to_peer.end(), b.begin(), b.end()); },
                [this](std::span<const uint8_t> p) { ip.emplace_back(p.begin(), p.end()); }, [this] { ++ups; },
                [this] { ++downs; }, {}, {}, {}, {}, {}})
    {
    }
    // Moves bytes both ways until neither side has anything to say.
    void exchange()
    {
        for (int i = 0; i < 100 && (!to_peer.empty() || !peer.to_link.empty()); ++i) {
            Bytes a = std::exchange(to_peer, {});
            peer.input(a);
            Bytes b = std::exchange(peer.to_link, {});
            if (chunk == 0) {
                link.line_input(b, now);
            } else {
                for (size_t k = 0; k < b.size(); k += chunk)
                    link.line_input(std::span(b).subspan(k, std::min(chunk, b.size() - k)), now);
            }
        }
    }
    void connect()
    {
        IpcpConfig c;
        link.start(now);
        peer.start();
        exchange();
    }
    // Advances the clock to the link's next deadline (or by `step`), runs it, exchanges.
    void tick(uint64_t step = 0)
    {
        now = step ? now + step : std::max(now, link.next_deadline());
        link.advance(now);
        exchange();
    }
};

LinkConfig with_dns()
{
    LinkConfig c;
    c.ipcp.dns1 = net::Address::v4(0x0A000001);
    return c;
}

} // namespace

TEST_CASE("link: LCP then IPCP with a pppd-like peer; IP both ways, compressed framing", "[slirp][link]")
{
    Rig r(with_dns());
    r.connect();
    CHECK(r.link.phase() == Phase::Network);
    CHECK(r.link.lcp_state() == State::Opened);
    CHECK(r.link.ipcp_state() == State::Opened);
    CHECK(r.peer.ipcp_open);
    CHECK(r.peer.ipcp_client.address == 0x0A000002);
    CHECK(r.peer.ipcp_client.dns == 0x0A000001);
    // pppd's other requests: VJ compression (taken) and a second DNS server (rejected).
    CHECK_FALSE(r.peer.ipcp_client.vj_rejected);
    CHECK(r.peer.ipcp_client.dns2_rejected);
    CHECK(r.ups == 1);
    CHECK(r.link.lcp_settings().send_acfc);

    Bytes packet = {0x45, 0x00, 0x00, 0x14, 0x11, 0x7E, 0x7D, 0x03};
    r.peer.send_ip(packet);
    r.exchange();
    REQUIRE(r.ip.size() == 1);
    CHECK(r.ip[0] == packet);
    REQUIRE(r.link.send_ip(packet));
    CHECK_FALSE(r.link.send_ip(Bytes{}));                  // found by fuzz-slirp-link: a runt frame
    CHECK_FALSE(r.link.send_ip(Bytes(1501, 0x45)));        // over the peer's MRU
    r.exchange();
    REQUIRE(r.peer.ip.size() == 1);
    CHECK(r.peer.ip[0] == packet);
    CHECK(r.peer.frames.back()[0] == 0x21);   // ACFC and PFC: the protocol octet first
    CHECK(r.link.framing_stats().fcs_errors == 0);
}

TEST_CASE("link: VJ both ways, as pppd asks and as we ask; a frame lost on the line tosses", "[slirp][link]")
{
    Rig r(with_dns());
    r.connect();
    REQUIRE(r.peer.vj_in);    // the peer's request kept VJ: slirpd compresses toward it
    REQUIRE(r.peer.vj_out);   // ours asked for it: the peer compresses toward slirpd
    slirp_test::Seg up, down;
    up.data = 100;
    down.src = 0x0A000001, down.dst = 0x0A000002, down.sport = 22, down.dport = 40000, down.data = 1000;
    std::vector<Bytes> sent_up, sent_down;
    for (int i = 0; i < 5; ++i) {
        sent_up.push_back(slirp_test::packet(up));
        sent_down.push_back(slirp_test::packet(down));
        r.peer.send_ip(sent_up.back());
        REQUIRE(r.link.send_ip(sent_down.back()));
        up.seq += 100, ++up.id, down.seq += 1000, ++down.id;
    }
    r.exchange();
    CHECK(r.ip == sent_up);
    CHECK(r.peer.ip == sent_down);
    CHECK(r.link.stats().vj_uncompressed_in == 1);   // each connection's first
    CHECK(r.link.stats().vj_compressed_in == 4);
    CHECK(r.link.stats().vj_uncompressed_out == 1);
    CHECK(r.link.stats().vj_compressed_out == 4);
    CHECK(r.peer.vj_compressed_in == 4);
    CHECK(r.link.stats().vj_octets_saved == 4 * 37);

    // A compressed frame spoiled on the line: the next ones, which do not name their
    // slot, are tossed until one that does (the peer's compressor names it only when the
    // connection changes, so a second connection's packet comes between).
    r.ip.clear();
    slirp_test::Seg lost = up;
    r.peer.send_ip(slirp_test::packet(lost));
    Bytes line = std::exchange(r.peer.to_link, {});
    line[line.size() / 2] ^= 0x01;
    r.link.line_input(line, r.now);
    up.seq += 100, ++up.id;
    r.peer.send_ip(slirp_test::packet(up));
    r.exchange();
    CHECK(r.ip.empty());
    CHECK(r.link.stats().vj_tossed == 1);
    slirp_test::Seg other = up;
    other.sport = 40001;
    Bytes other_packet = slirp_test::packet(other);
    r.peer.send_ip(other_packet);                // uncompressed: a new connection
    up.seq += 100, ++up.id;
    r.peer.send_ip(slirp_test::packet(up));      // compressed, naming its slot again...
    r.exchange();
    // ...but built on a header that missed the lost packet's delta: its TCP checksum
    // fails, so it is tossed (not handed to the stack) and so are the slot's next ones.
    CHECK(r.ip == std::vector<Bytes>{other_packet});
    CHECK(r.link.stats().vj_tossed == 2);
    CHECK(r.link.stats().vj_errors == 0);
    // TCP sends the lost segment again: the compressor sends a sequence going back
    // uncompressed, which sets the slot up; the connection's packets pass again.
    Bytes resent = slirp_test::packet(lost);
    r.peer.send_ip(resent);
    up.seq += 100, ++up.id;
    Bytes next = slirp_test::packet(up);
    r.peer.send_ip(next);
    r.exchange();
    CHECK(r.ip == std::vector<Bytes>{other_packet, resent, next});
    CHECK(r.link.stats().vj_tossed == 2);
}

TEST_CASE("link: VJ configured off: pppd's request rejected, none of ours", "[slirp][link]")
{
    LinkConfig cfg = with_dns();
    cfg.ipcp.vj = false;
    Rig r(cfg);
    r.connect();
    CHECK(r.peer.ipcp_client.vj_rejected);
    CHECK_FALSE(r.peer.vj_in);
    CHECK_FALSE(r.peer.vj_out);
    slirp_test::Seg up;
    r.peer.send_ip(slirp_test::packet(up));
    r.exchange();
    CHECK(r.ip.size() == 1);
    CHECK(r.link.stats().vj_uncompressed_in == 0);
}

TEST_CASE("link: the same, with the line delivering one byte at a time", "[slirp][link]")
{
    Rig r(with_dns());
    r.chunk = 1;
    r.connect();
    CHECK(r.link.ipcp_state() == State::Opened);
}

TEST_CASE("link: IP before IPCP is dropped; CCP and IPV6CP are Protocol-Rejected", "[slirp][link]")
{
    Rig r(with_dns());
    CHECK_FALSE(r.link.send_ip(Bytes{0x45}));
    CHECK(r.link.stats().ip_dropped == 1);
    r.connect();
    // The peer, as pppd, sent a CCP Configure-Request when LCP opened.
    CHECK(r.peer.ccp_rejected);
    CHECK(r.link.stats().protocol_rejects == 1);
    r.peer.send_raw(proto_ccp, Bytes{1, 1, 0, 4});
    r.peer.send_raw(0x8057, Bytes{1, 1, 0, 4});
    r.exchange();
    CHECK(r.link.stats().protocol_rejects == 3);
    int rejects = 0;
    for (const auto &f : r.peer.frames) {
        auto p = parse_frame(f);
        auto k = p ? parse_packet(p->info) : alopex::Result<Packet>(std::unexpected(alopex::Error{}));
        if (p && p->protocol == proto_lcp && k && k->code == static_cast<uint8_t>(Code::ProtocolReject))
            ++rejects;
    }
    CHECK(rejects == 3);
    CHECK(r.link.lcp_state() == State::Opened);
}

TEST_CASE("link: a silent peer gets requests every restart period, then the link waits passively", "[slirp][link]")
{
    Rig r;
    r.link.start(r.now);
    size_t requests = 0;
    for (int i = 0; i < 20 && r.link.next_deadline() != UINT64_MAX; ++i) {
        Bytes out = std::exchange(r.to_peer, {});
        requests += out.empty() ? 0 : 1;
        uint64_t before = r.now;
        r.now = r.link.next_deadline();
        CHECK(r.now - before == 3'000'000);
        r.link.advance(r.now);
    }
    requests += r.to_peer.empty() ? 0 : 1;
    r.to_peer.clear();
    CHECK(requests == 10);
    CHECK(r.link.lcp_state() == State::Stopped);
    CHECK(r.link.phase() == Phase::Dead);
    CHECK(r.link.next_deadline() == UINT64_MAX);
    // The peer shows up later: its request starts the link again.
    r.peer.start();
    r.exchange();
    CHECK(r.link.lcp_state() == State::Opened);
    CHECK(r.link.ipcp_state() == State::Opened);
}

TEST_CASE("link: echo keepalive measures the peer, and restarts the link when it stops answering", "[slirp][link]")
{
    LinkConfig c = with_dns();
    c.echo_interval_usec = 10'000'000;
    c.echo_failures = 3;
    Rig r(c);
    r.connect();
    r.tick(10'000'000);
    CHECK(r.link.stats().echo_rtt_usec == 0);   // answered within the exchange (no time passes)
    CHECK(r.peer.lcp->stats().echo_requests == 1);
    r.peer.answer_echoes = false;
    for (int i = 0; i < 3; ++i)
        r.tick(10'000'000);
    CHECK(r.link.stats().echo_timeouts == 0);
    CHECK(r.ups == 1);
    r.tick(10'000'000);   // the fourth interval: three unanswered
    CHECK(r.link.stats().echo_timeouts == 1);
    CHECK(r.downs == 1);
    // The peer is still there: renegotiation brings the network back.
    r.exchange();
    CHECK(r.link.ipcp_state() == State::Opened);
    CHECK(r.ups == 2);
}

TEST_CASE("link: hostile line input keeps the link up and counted", "[slirp][link]")
{
    Rig r(with_dns());
    r.connect();
    Bytes flood(50000, flag);
    r.link.line_input(flood, r.now);
    Bytes abort = {flag, 0x21, 0x45, control_escape, flag};
    r.link.line_input(abort, r.now);
    Bytes big = {flag};
    big.insert(big.end(), 100000, 0x41);
    r.link.line_input(big, r.now);
    CHECK(r.link.framing_stats().aborts == 1);
    CHECK(r.link.framing_stats().too_long == 1);
    CHECK(r.link.lcp_state() == State::Opened);
    Bytes packet = {0x45, 1, 2, 3};
    r.peer.send_ip(packet);
    r.exchange();
    REQUIRE(r.ip.size() == 1);   // the next good frame after the flag
    CHECK(r.ip[0] == packet);
}

TEST_CASE("link: paced, frames go at the line's rate and a keystroke passes the bulk queue", "[slirp][link][pace]")
{
    LinkConfig cfg = with_dns();
    cfg.echo_interval_usec = 0;
    cfg.line_rate = 11520;   // 115200 bit/s, 8N1
    Rig r(cfg);
    r.connect();
    REQUIRE(r.link.ipcp_state() == State::Opened);
    REQUIRE(r.peer.vj_in);
    r.now += 1'000'000;   // the negotiation's frames have left the line
    slirp_test::Seg bulk;
    bulk.src = 0x0A000001, bulk.dst = 0x0A000002, bulk.sport = 80, bulk.dport = 40000, bulk.data = 200;
    std::vector<Bytes> sent;
    uint64_t start = r.now, out0 = r.link.stats().bytes_out;
    for (int i = 0; i < 20; ++i) {
        sent.push_back(slirp_test::packet(bulk));
        REQUIRE(r.link.send_ip(sent.back(), r.now));
        bulk.seq += 200, ++bulk.id;
    }
    // The first frame at once (the line was idle); the rest wait for it.
    CHECK(r.link.queue().packets() == 19);
    uint64_t first = r.link.stats().bytes_out;
    uint64_t due = r.link.next_deadline();
    CHECK(due > r.now);
    CHECK(due + 4'000 >= r.now + (first - out0) * 1'000'000 / 11520);
    CHECK(due + 4'000 <= r.now + (first - out0) * 1'000'000 / 11520 + 1);
    r.exchange();
    REQUIRE(r.peer.ip.size() == 1);
    r.tick();
    r.tick();
    REQUIRE(r.peer.ip.size() == 3);

    // A keystroke of another connection while 17 bulk packets wait: it goes next.
    slirp_test::Seg key;
    key.src = 0x0A000001, key.dst = 0x0A000002, key.sport = 22, key.dport = 40001, key.data = 36;
    Bytes keystroke = slirp_test::packet(key);
    REQUIRE(r.link.send_ip(keystroke, r.now + 2'000));
    CHECK(r.peer.ip.size() == 3);   // the line is busy with a bulk frame
    r.tick();
    REQUIRE(r.peer.ip.size() == 4);
    CHECK(r.peer.ip[3] == keystroke);

    // The rest at the line's rate: never more octets handed over than the line carried
    // since the start, plus the first frame and the lead.
    while (!r.link.queue().empty()) {
        r.tick();
        uint64_t handed = r.link.stats().bytes_out - out0;
        uint64_t carried = (r.now - start) * 11520 / 1'000'000;
        CHECK(handed <= carried + (first - out0) + 4'000 * 11520 / 1'000'000 + 250);
    }
    uint64_t elapsed = r.now - start;
    uint64_t octets = r.link.stats().bytes_out - out0;
    CHECK(elapsed >= (octets - 250) * 1'000'000 / 11520 - 4'000);
    CHECK(elapsed <= octets * 1'000'000 / 11520 + 1'000);   // and no idle line in between
    // VJ compressed them as they left: the peer rebuilt every packet, in order.
    REQUIRE(r.peer.ip.size() == 21);
    std::vector<Bytes> bulk_got;
    for (size_t i = 0; i < r.peer.ip.size(); ++i)
        if (i != 3)
            bulk_got.push_back(r.peer.ip[i]);
    CHECK(bulk_got == sent);
    CHECK(r.link.stats().queued_packets == 21);
    CHECK(r.link.stats().queue_delay_max_usec > 300'000);   // the last bulk packet's wait
    CHECK(r.peer.vj_errors == 0);
}

TEST_CASE("link: paced, a line that backs up holds the queue; IPCP going down empties it", "[slirp][link][pace]")
{
    LinkConfig cfg = with_dns();
    cfg.echo_interval_usec = 0;
    cfg.line_rate = 11520;
    bool busy = false;
    Bytes to_peer;
    Peer peer;
    uint64_t now = 1'000'000;
    int space = 0;
    Link link(cfg, [n = 0x5000u]() mutable { return n++; },
              {[&](std::span<const uint8_t> b) { to_peer.insert(to_peer.end(), b.begin(), b.end()); }, {}, {}, {},
               [&] { return busy; }, [&] { ++space; }, {}, {}, {}});
    link.start(now);
    peer.start();
    for (int i = 0; i < 20; ++i) {
        peer.input(std::exchange(to_peer, {}));
        link.line_input(std::exchange(peer.to_link, {}), now);
    }
    REQUIRE(link.ipcp_state() == State::Opened);
    now += 1'000'000;
    busy = true;
    slirp_test::Seg s;
    s.src = 0x0A000001, s.dst = 0x0A000002, s.data = 100;
    for (int i = 0; i < 3; ++i)
        REQUIRE(link.send_ip(slirp_test::packet(s), now));
    CHECK(link.queue().packets() == 3);   // nothing left while the line is busy
    CHECK(link.next_deadline() >= now + 10'000);
    busy = false;
    now = link.next_deadline();
    link.advance(now);
    CHECK(link.queue().packets() < 3);
    CHECK(space == 1);
    link.close(now);   // LCP terminates: IPCP down
    for (int i = 0; i < 5; ++i) {
        peer.input(std::exchange(to_peer, {}));
        link.line_input(std::exchange(peer.to_link, {}), now);
    }
    CHECK(link.ipcp_state() != State::Opened);
    CHECK(link.queue().empty());
}

namespace {

Bytes text_packet(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq)
{
    slirp_test::Seg s;
    s.src = src, s.dst = dst, s.sport = sport, s.dport = dport, s.seq = seq, s.data = 600;
    Bytes p = slirp_test::packet(s);
    static const char text[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>pikvm</body></html>\n";
    for (size_t i = 40; i < p.size(); ++i)
        p[i] = static_cast<uint8_t>(text[(i + seq) % (sizeof text - 1)]);
    slirp_test::set_tcp_checksum(p);
    return p;
}

LinkConfig with_deflate()
{
    LinkConfig c = with_dns();
    c.ccp.deflate = true;
    c.echo_interval_usec = 0;
    return c;
}

} // namespace

TEST_CASE("link: CCP as pppd asks it: draft Deflate and BSD rejected, Deflate both ways", "[slirp][link][ccp]")
{
    Rig r(with_deflate());
    r.peer.enable_deflate();
    r.connect();
    REQUIRE(r.link.ipcp_state() == State::Opened);
    REQUIRE(r.link.ccp_state() == State::Opened);
    REQUIRE(r.peer.ccp->up);
    CHECK(r.peer.ccp->wants == std::vector<uint8_t>{26});   // 24 and 21 were rejected
    CHECK(r.link.ccp_options().deflate_to_peer() == 15u);
    CHECK(r.link.ccp_options().deflate_from_peer() == 15u);
    CHECK(r.peer.ccp->comp_live);
    CHECK(r.peer.ccp->decomp_live);
    std::vector<Bytes> down, up;
    for (uint32_t i = 0; i < 20; ++i) {
        down.push_back(text_packet(0x0A000001, 0x0A000002, 80, 40000, i * 600));
        up.push_back(text_packet(0x0A000002, 0x0A000001, 40000, 80, i * 600));
        REQUIRE(r.link.send_ip(down.back()));
        r.peer.send_ip(up.back());
        r.exchange();
    }
    CHECK(r.peer.ip == down);
    CHECK(r.ip == up);
    const auto &s = r.link.stats();
    CHECK(s.deflate_out >= 19);
    CHECK(s.deflate_in >= 19);
    CHECK(r.peer.ccp->compressed_in == s.deflate_out);
    CHECK(r.peer.ccp->errors == 0);
    CHECK(s.deflate_errors == 0);
    CHECK(s.deflate_compressed_octets_out * 2 < s.deflate_octets_out);   // text: well under half
    CHECK(s.deflate_compressed_octets_in * 2 < s.deflate_octets_in);
}

TEST_CASE("link: Deflate out of step after a lost frame: Reset-Request, Reset-Ack, in step again", "[slirp][link][ccp]")
{
    Rig r(with_deflate());
    r.peer.enable_deflate();
    r.connect();
    REQUIRE(r.link.ccp_state() == State::Opened);
    uint32_t seq = 0;
    auto up = [&] { return text_packet(0x0A000002, 0x0A000001, 40000, 80, seq += 600); };
    auto down = [&] { return text_packet(0x0A000001, 0x0A000002, 80, 40000, seq += 600); };
    // The peer's frame spoiled on the line: the next compressed one is out of sequence.
    r.peer.send_ip(up());
    Bytes line = std::exchange(r.peer.to_link, {});
    line[line.size() / 2] ^= 0x10;
    r.link.line_input(line, r.now);
    Bytes after = up();
    r.peer.send_ip(after);
    r.exchange();   // the Reset-Request goes, the Ack comes back
    CHECK(r.link.stats().deflate_errors == 1);
    CHECK(r.link.stats().deflate_resets_sent == 1);
    CHECK(r.peer.ccp->resets_received == 1);
    CHECK(r.ip.empty());
    // (VJ tosses after the line error too, until a packet names its slot: a new connection's.)
    Bytes again = text_packet(0x0A000002, 0x0A000001, 40001, 80, seq += 600);
    r.peer.send_ip(again);
    r.exchange();
    REQUIRE(r.ip.size() == 1);
    CHECK(r.ip[0] == again);
    // slirpd's frame spoiled: the peer asks, slirpd restarts its compressor.
    r.peer.ip.clear();
    REQUIRE(r.link.send_ip(down()));
    Bytes bad = std::exchange(r.to_peer, {});
    bad[bad.size() / 2] ^= 0x10;
    r.peer.input(bad);
    REQUIRE(r.link.send_ip(down()));
    r.exchange();
    CHECK(r.peer.ccp->resets_sent == 1);
    CHECK(r.link.stats().deflate_resets_received == 1);
    Bytes last = text_packet(0x0A000001, 0x0A000002, 80, 40001, seq += 600);   // VJ: a new connection
    REQUIRE(r.link.send_ip(last));
    r.exchange();
    REQUIRE_FALSE(r.peer.ip.empty());
    CHECK(r.peer.ip.back() == last);
}

TEST_CASE("link: a peer that does not do CCP leaves the link uncompressed", "[slirp][link][ccp]")
{
    Rig r(with_deflate());   // the peer sends pppd's request and never answers ours
    r.connect();
    REQUIRE(r.link.ipcp_state() == State::Opened);
    CHECK(r.link.ccp_state() != State::Opened);
    Bytes p = text_packet(0x0A000001, 0x0A000002, 80, 40000, 0);
    REQUIRE(r.link.send_ip(p));
    r.exchange();
    REQUIRE(r.peer.ip.size() == 1);
    CHECK(r.peer.ip[0] == p);
    CHECK(r.link.stats().deflate_out == 0);
    // CCP gives up after its requests; nothing more is sent on an idle link.
    uint64_t frames = r.link.stats().frames_out;
    for (int i = 0; i < 100; ++i)
        r.tick(1'000'000);
    CHECK(r.link.ccp_state() == State::Stopped);
    CHECK(r.link.stats().frames_out - frames <= 10);
}
