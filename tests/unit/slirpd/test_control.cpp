// SPDX-License-Identifier: GPL-2.0-or-later
// Control protocols back to back: two LCPs negotiate to Opened; slirpd's IPCP gives a
// pppd-like client (noipdefault, usepeerdns) its address and DNS server; echoes,
// retransmissions, stale replies, Code-Rejects, Protocol-Rejects and Terminate.
#include <catch2/catch.hpp>

#include <algorithm>

#include <deque>
#include <utility>
#include <vector>

#include "control.hpp"
#include "hdlc.hpp"
#include "ipcp_options.hpp"
#include "ppp_peer.hpp"

using namespace alopex;
using namespace alopex::slirp::ppp;

namespace {

using Bytes = std::vector<uint8_t>;

struct Wire {
    std::deque<std::pair<int, Bytes>> q;   // (to side, info)
    std::vector<Bytes> sent[2];            // by sender
};

// Delivers queued packets until none are left (bounded).
void pump(Wire &w, ControlProtocol &a, ControlProtocol &b)
{
    for (int i = 0; i < 1000 && !w.q.empty(); ++i) {
        auto [to, info] = std::move(w.q.front());
        w.q.pop_front();
        (to == 0 ? a : b).input(info);
    }
}

ControlProtocol::Send sender(Wire &w, int from)
{
    return [&w, from](uint16_t, Bytes info) {
        w.sent[from].push_back(info);
        w.q.emplace_back(1 - from, std::move(info));
    };
}

std::function<uint32_t()> counter(uint32_t start)
{
    return [n = start]() mutable { return n++; };
}

struct LcpPair {
    Wire wire;
    LcpOptions oa{{}, counter(0xA0000000)}, ob{{}, counter(0xB0000000)};
    int ups[2] = {0, 0}, downs[2] = {0, 0};
    ControlProtocol a{proto_lcp, negotiator_for(oa), sender(wire, 0), {[this] { ++ups[0]; }, [this] { ++downs[0]; }, {}, {}}};
    ControlProtocol b{proto_lcp, negotiator_for(ob), sender(wire, 1), {[this] { ++ups[1]; }, [this] { ++downs[1]; }, {}, {}}};
    void open()
    {
        a.set_lcp_extras({{}, {}, [this] { return oa.settings().our_magic; }, {}});
        b.set_lcp_extras({{}, {}, [this] { return ob.settings().our_magic; }, {}});
        a.open();
        b.open();
        a.up();
        b.up();
        pump(wire, a, b);
    }
};

} // namespace

TEST_CASE("control: two LCPs negotiate to Opened, each with the other's settings", "[slirp][control]")
{
    LcpPair p;
    p.open();
    CHECK(p.a.state() == State::Opened);
    CHECK(p.b.state() == State::Opened);
    CHECK(p.ups[0] == 1);
    CHECK(p.ups[1] == 1);
    CHECK(p.oa.settings().send_pfc);
    CHECK(p.oa.settings().send_accm == 0);
    CHECK(p.oa.settings().peer_magic == p.ob.settings().our_magic);
    CHECK(p.oa.settings().receive_acfc);
    CHECK_FALSE(p.a.timer_running());
}

TEST_CASE("control: Echo-Request answered with our magic; replies and Discard-Requests taken", "[slirp][control]")
{
    LcpPair p;
    Bytes got;
    p.open();
    p.b.set_lcp_extras({{}, [&](uint8_t id, std::span<const uint8_t> d) {
                            got.assign(d.begin(), d.end());
                            got.insert(got.begin(), id);
                        },
                        [&p] { return p.ob.settings().our_magic; }, {}});
    p.b.send_echo_request(42);
    pump(p.wire, p.a, p.b);
    REQUIRE(got.size() == 5);
    CHECK(got[0] == 42);
    uint32_t magic = uint32_t{got[1]} << 24 | uint32_t{got[2]} << 16 | uint32_t{got[3]} << 8 | got[4];
    CHECK(magic == p.oa.settings().our_magic);
    CHECK(p.a.stats().echo_requests == 1);
    // One reply and nothing more: a reply is not answered (two ends that did would reply
    // to each other for ever; found in the 115200 benchmark).
    auto count = [&](int side, Code code) {
        return std::ranges::count_if(p.wire.sent[side], [code](const Bytes &b) { return b[0] == uint8_t(code); });
    };
    CHECK(count(0, Code::EchoReply) == 1);
    CHECK(count(1, Code::EchoReply) == 0);
    CHECK(p.wire.q.empty());
    size_t sent_a = p.wire.sent[0].size();
    Bytes stray, discard;
    build_packet(stray, static_cast<uint8_t>(Code::EchoReply), 9, Bytes{1, 2, 3, 4});
    build_packet(discard, static_cast<uint8_t>(Code::DiscardRequest), 10, Bytes{1, 2, 3, 4});
    p.a.input(stray);
    p.a.input(discard);
    CHECK(p.wire.sent[0].size() == sent_a);
    CHECK(p.a.stats().echo_replies == 1);
    // Our own magic in a request: the line is looped back.
    int loops = 0;
    p.a.set_lcp_extras({{}, {}, [&p] { return p.oa.settings().our_magic; }, [&] { ++loops; }});
    Bytes echo;
    Bytes m = {static_cast<uint8_t>(p.oa.settings().our_magic >> 24), static_cast<uint8_t>(p.oa.settings().our_magic >> 16),
               static_cast<uint8_t>(p.oa.settings().our_magic >> 8), static_cast<uint8_t>(p.oa.settings().our_magic)};
    build_packet(echo, static_cast<uint8_t>(Code::EchoRequest), 7, m);
    p.a.input(echo);
    CHECK(loops == 1);
    CHECK(p.a.state() == State::Opened);
}

TEST_CASE("control: a retransmitted request keeps its identifier; stale and wrong replies are discarded", "[slirp][control]")
{
    Wire w;
    LcpOptions o({}, counter(1));
    ControlProtocol a(proto_lcp, negotiator_for(o), sender(w, 0), {});
    a.open();
    a.up();
    REQUIRE(w.sent[0].size() == 1);
    a.timeout();
    REQUIRE(w.sent[0].size() == 2);
    CHECK(w.sent[0][0] == w.sent[0][1]);   // same id, same options
    auto req = parse_packet(w.sent[0][0]);
    REQUIRE(req);
    Bytes ack;
    build_packet(ack, static_cast<uint8_t>(Code::ConfigureAck), static_cast<uint8_t>(req->id + 1), req->data);
    a.input(ack);
    CHECK(a.state() == State::ReqSent);   // wrong identifier
    Bytes bad;
    build_packet(bad, static_cast<uint8_t>(Code::ConfigureAck), req->id, Bytes{7, 2});
    a.input(bad);
    CHECK(a.state() == State::ReqSent);   // not what we asked for
    CHECK(a.stats().discarded == 2);
    ack.clear();
    build_packet(ack, static_cast<uint8_t>(Code::ConfigureAck), req->id, req->data);
    a.input(ack);
    CHECK(a.state() == State::AckRcvd);
    a.input(Bytes{1, 2, 0});   // shorter than a header
    CHECK(a.stats().discarded == 3);
}

TEST_CASE("control: unknown codes are Code-Rejected; Code-Rejects and Protocol-Rejects are taken", "[slirp][control]")
{
    LcpPair p;
    std::vector<uint16_t> protocol_rejects;
    p.open();
    p.a.set_lcp_extras({[&](uint16_t proto) { protocol_rejects.push_back(proto); }, {},
                        [&p] { return p.oa.settings().our_magic; }, {}});
    size_t before = p.wire.sent[0].size();
    p.a.input(Bytes{42, 9, 0, 6, 0xAB, 0xCD});
    REQUIRE(p.wire.sent[0].size() == before + 1);
    auto cj = parse_packet(p.wire.sent[0].back());
    REQUIRE(cj);
    CHECK(cj->code == static_cast<uint8_t>(Code::CodeReject));
    CHECK(Bytes(cj->data.begin(), cj->data.end()) == Bytes{42, 9, 0, 6, 0xAB, 0xCD});
    p.wire.q.clear();
    // The peer rejects our Echo-Request code: permitted, LCP stays up.
    p.a.input(Bytes{7, 3, 0, 8, 9, 1, 0, 4});
    CHECK(p.a.state() == State::Opened);
    // The peer rejects CCP: reported, LCP stays up.
    p.a.input(Bytes{8, 4, 0, 8, 0x80, 0xFD, 1, 1});
    CHECK(protocol_rejects == std::vector<uint16_t>{proto_ccp});
    CHECK(p.a.state() == State::Opened);
    // ... and a Protocol-Reject we send carries the packet, cut to the MRU.
    Bytes big(3000, 0x55);
    p.a.send_protocol_reject(proto_ccp, big, 1500);
    auto pr = parse_packet(p.wire.sent[0].back());
    REQUIRE(pr);
    CHECK(pr->code == static_cast<uint8_t>(Code::ProtocolReject));
    CHECK(pr->whole.size() == 1500);
    // Rejecting Configure-Request is catastrophic: LCP leaves Opened.
    p.a.input(Bytes{7, 5, 0, 8, 1, 1, 0, 4});
    CHECK(p.a.state() == State::Stopping);
    CHECK(p.downs[0] == 1);
}

TEST_CASE("control: the peer terminates; our Terminate-Ack; the link may come back", "[slirp][control]")
{
    LcpPair p;
    p.open();
    p.b.close();
    pump(p.wire, p.a, p.b);
    CHECK(p.b.state() == State::Closed);
    CHECK(p.a.state() == State::Stopping);
    CHECK(p.downs[0] == 1);
    p.a.timeout();
    CHECK(p.a.state() == State::Stopped);
    p.b.open();   // the peer dials again
    pump(p.wire, p.a, p.b);
    CHECK(p.a.state() == State::Opened);
    CHECK(p.b.state() == State::Opened);
    CHECK(p.ups[0] == 2);
}

TEST_CASE("control: slirpd's IPCP gives a pppd-like client its address and DNS", "[slirp][control]")
{
    Wire w;
    IpcpConfig cfg;
    cfg.dns1 = net::Address::v4(0x0A000001);
    IpcpOptions server(cfg);
    slirp_test::ClientIpcp client;
    int ups = 0;
    ControlProtocol a(proto_ipcp, negotiator_for(server), sender(w, 0), {[&] { ++ups; }, {}, {}, {}});
    ControlProtocol b(proto_ipcp, client.negotiator(), sender(w, 1), {[&] { ++ups; }, {}, {}, {}});
    a.open();
    b.open();
    a.up();
    b.up();
    pump(w, a, b);
    CHECK(a.state() == State::Opened);
    CHECK(b.state() == State::Opened);
    CHECK(ups == 2);
    CHECK(client.address == 0x0A000002);
    CHECK(client.dns == 0x0A000001);
    CHECK(server.peer_acked());
    // An NCP Code-Rejects LCP's own codes.
    size_t before = w.sent[0].size();
    a.input(Bytes{9, 1, 0, 8, 0, 0, 0, 0});
    REQUIRE(w.sent[0].size() == before + 1);
    CHECK(w.sent[0].back()[0] == static_cast<uint8_t>(Code::CodeReject));
}
