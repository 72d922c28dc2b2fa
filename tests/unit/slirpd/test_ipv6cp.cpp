// SPDX-License-Identifier: GPL-2.0-or-later
// IPV6CP (RFC 5072): the Interface-Identifier negotiation with its collisions and zero
// identifiers, hostile option lists, and the Link carrying IPv6 beside IPv4 once IPV6CP
// is Opened with the test peer (as pppd's +ipv6); without it configured, the peer's
// IPV6CP is Protocol-Rejected.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "ipv6cp_options.hpp"
#include "link.hpp"
#include "ppp_peer.hpp"

using namespace alopex;
using namespace alopex::slirp::ppp;
using Bytes = std::vector<uint8_t>;

namespace {

Bytes id_option(uint64_t id)
{
    Bytes b{1, 10};
    for (int i = 0; i < 8; ++i)
        b.push_back(static_cast<uint8_t>(id >> (56 - 8 * i)));
    return b;
}

} // namespace

TEST_CASE("ipv6cp: identifiers, a zero or colliding one Naked, compression and junk rejected", "[slirp][ipv6cp]")
{
    Ipv6cpOptions o({.enabled = true, .local_id = 0x0200'5EFF'FE00'0001}, [n = 1u]() mutable { return n++; });
    CHECK(o.request() == id_option(0x0200'5EFF'FE00'0001));
    auto r = o.on_request(id_option(0x1122'3344'5566'7788), false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureAck);
    CHECK(o.peer_id() == 0x1122'3344'5566'7788);
    for (uint64_t bad : {uint64_t{0}, uint64_t{0x0200'5EFF'FE00'0001}}) {
        r = o.on_request(id_option(bad), false);
        REQUIRE(r);
        CHECK(r->code == Code::ConfigureNak);
        REQUIRE(r->options.size() == 10);
        Bytes zero = id_option(0), ours = id_option(0x0200'5EFF'FE00'0001);
        CHECK(r->options != zero);
        CHECK(r->options != ours);
        r = o.on_request(id_option(bad), true);   // after max-failure
        CHECK(r->code == Code::ConfigureReject);
    }
    r = o.on_request(Bytes{2, 4, 0x00, 0x4F}, false);   // IPv6-Compression-Protocol
    CHECK(r->code == Code::ConfigureReject);
    r = o.on_request(Bytes{1, 6, 1, 2, 3, 4}, false);   // a short identifier
    CHECK(r->code == Code::ConfigureReject);
    CHECK_FALSE(o.on_request(Bytes{1, 12, 1}, false));   // past the end: discarded

    // A Nak's identifier is taken unless it is zero or the peer's; a Reject stops asking.
    REQUIRE(o.on_nak(id_option(0)));
    CHECK(o.local_id() == 0x0200'5EFF'FE00'0001);
    REQUIRE(o.on_nak(id_option(0xAAAA'0000'0000'0001)));
    CHECK(o.local_id() == 0xAAAA'0000'0000'0001);
    CHECK(o.on_ack(o.request()));
    CHECK_FALSE(o.on_reject(Bytes{2, 4, 0x00, 0x4F}));
    REQUIRE(o.on_reject(o.request()));
    CHECK(o.request().empty());
    CHECK(link_local(0x1122'3344'5566'7788) ==
          std::array<uint8_t, 16>{0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88});
}

TEST_CASE("link ipv6: IPV6CP beside IPCP with a +ipv6 peer, IPv6 both ways; off: Protocol-Rejected",
          "[slirp][ipv6cp][link]")
{
    std::vector<Bytes> ip;
    Bytes to_peer;
    int ipv6_ups = 0;
    LinkConfig cfg;
    cfg.ipv6cp.enabled = true;
    cfg.echo_interval_usec = 0;
    uint64_t now = 1'000'000;
    Link link(cfg, [n = 0x5000u]() mutable { return n++; },
              {[&](std::span<const uint8_t> b) { to_peer.insert(to_peer.end(), b.begin(), b.end()); },
               [&](std::span<const uint8_t> p) { ip.emplace_back(p.begin(), p.end()); }, {}, {}, {}, {}, {}, {},
               [&] { ++ipv6_ups; }});
    slirp_test::Peer peer;
    peer.enable_ipv6();
    auto exchange = [&] {
        for (int i = 0; i < 100 && (!to_peer.empty() || !peer.to_link.empty()); ++i) {
            peer.input(std::exchange(to_peer, {}));
            link.line_input(std::exchange(peer.to_link, {}), now);
        }
    };
    link.start(now);
    peer.start();
    exchange();
    REQUIRE(link.ipv6cp_state() == State::Opened);
    REQUIRE(peer.ipv6cp_open);
    CHECK(ipv6_ups == 1);
    CHECK(link.ipcp_state() == State::Opened);
    CHECK(link.ipv6cp_options().peer_id() == peer.ipv6cp_options.local_id());
    CHECK(peer.ipv6cp_options.peer_id() == link.ipv6cp_options().local_id());
    CHECK(link.ipv6cp_options().local_id() != link.ipv6cp_options().peer_id());

    Bytes v6(48, 0);
    v6[0] = 0x60, v6[5] = 8, v6[6] = 58, v6[7] = 64;   // payload 8 octets of ICMPv6
    peer.send_ip(v6);
    exchange();
    REQUIRE(ip.size() == 1);
    CHECK(ip[0] == v6);
    peer.ip.clear();
    REQUIRE(link.send_ip(v6));
    exchange();
    REQUIRE(peer.ip.size() == 1);
    CHECK(peer.ip[0] == v6);
    CHECK(link.stats().ipv6_in == 1);
    CHECK(link.stats().ipv6_out == 1);

    // Not configured: the peer's IPV6CP is Protocol-Rejected and IPv6 cannot be sent.
    Bytes to_peer2;
    Link plain({}, [n = 0x6000u]() mutable { return n++; },
               {[&](std::span<const uint8_t> b) { to_peer2.insert(to_peer2.end(), b.begin(), b.end()); }, {}, {}, {}, {},
                {}, {}, {}, {}});
    slirp_test::Peer peer2;
    peer2.enable_ipv6();
    plain.start(now);
    peer2.start();
    for (int i = 0; i < 100 && (!to_peer2.empty() || !peer2.to_link.empty()); ++i) {
        peer2.input(std::exchange(to_peer2, {}));
        plain.line_input(std::exchange(peer2.to_link, {}), now);
    }
    CHECK(plain.ipcp_state() == State::Opened);
    CHECK(peer2.ipv6cp_rejected);
    CHECK_FALSE(peer2.ipv6cp_open);
    CHECK_FALSE(plain.send_ip(v6));
}
