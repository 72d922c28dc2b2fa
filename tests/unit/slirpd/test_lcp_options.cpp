// SPDX-License-Identifier: GPL-2.0-or-later
// Control packets and LCP options: pppd's default request acknowledged, what slirpd asks
// for, Naks and Rejects both ways, a looped-back line, and the hostile option lists of
// issue 11 (zero, short and overlong lengths, 255 options).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "lcp_options.hpp"
#include "packet.hpp"

using namespace alopex::slirp::ppp;
namespace o = lcp_option;

namespace {

using Bytes = std::vector<uint8_t>;

// pppd's first LCP request with Debian's defaults: ACCM 0, magic, PFC, ACFC.
Bytes pppd_request(uint32_t magic = 0x12345678)
{
    Bytes b;
    put_option_u32(b, o::accm, 0);
    put_option_u32(b, o::magic_number, magic);
    put_option(b, o::pfc, {});
    put_option(b, o::acfc, {});
    return b;
}

std::function<uint32_t()> counter(uint32_t start)
{
    return [n = start]() mutable { return n++; };
}

} // namespace

TEST_CASE("control packets: header, length and padding", "[slirp][lcp]")
{
    Bytes b;
    build_packet(b, 1, 7, Bytes{1, 2, 3});
    CHECK(b == Bytes{1, 7, 0, 7, 1, 2, 3});
    b.push_back(0xEE);   // padding past Length is not data
    auto p = parse_packet(b);
    REQUIRE(p);
    CHECK(p->code == 1);
    CHECK(p->id == 7);
    CHECK(Bytes(p->data.begin(), p->data.end()) == Bytes{1, 2, 3});
    CHECK(p->whole.size() == 7);
    CHECK_FALSE(parse_packet(Bytes{1, 7, 0}));             // shorter than a header
    CHECK_FALSE(parse_packet(Bytes{1, 7, 0, 3}));          // Length below 4
    CHECK_FALSE(parse_packet(Bytes{1, 7, 0, 9, 1, 2}));    // Length past the frame
    CHECK(parse_packet(Bytes{9, 1, 0, 4}));                // header only
}

TEST_CASE("lcp options: hostile lists are malformed, never read past the packet", "[slirp][lcp]")
{
    CHECK_FALSE(parse_options(Bytes{5, 0}));            // length 0
    CHECK_FALSE(parse_options(Bytes{5, 1}));            // length 1
    CHECK_FALSE(parse_options(Bytes{5, 6, 0, 0}));      // runs past the data
    CHECK_FALSE(parse_options(Bytes{7}));               // a lone type octet
    CHECK(parse_options(Bytes{})->empty());
    Bytes many;
    for (int i = 0; i < 255; ++i)
        put_option(many, static_cast<uint8_t>(100 + i % 100), {});
    auto l = parse_options(many);
    REQUIRE(l);
    CHECK(l->size() == 255);

    LcpOptions lcp({}, counter(1));
    auto r = lcp.on_request(many, false);   // 255 unknown options: all rejected, nothing else
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
    CHECK(r->options == many);
    CHECK_FALSE(lcp.on_request(Bytes{5, 0}, false));
}

TEST_CASE("lcp options: pppd's default request is acknowledged and sets how we send", "[slirp][lcp]")
{
    LcpOptions lcp({}, counter(0xA0000000));
    auto req = pppd_request();
    auto r = lcp.on_request(req, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureAck);
    CHECK(r->options == req);
    CHECK(lcp.settings().send_accm == 0);
    CHECK(lcp.settings().send_pfc);
    CHECK(lcp.settings().send_acfc);
    CHECK(lcp.settings().peer_magic == 0x12345678);
    CHECK(lcp.settings().send_mru == 1500);
}

TEST_CASE("lcp options: what slirpd asks for, and the peer's Ack of it", "[slirp][lcp]")
{
    LcpOptions lcp({}, counter(0xA0000000));
    auto ours = lcp.request();
    auto list = parse_options(ours);
    REQUIRE(list);
    REQUIRE(list->size() == 4);   // no MRU option at 1500
    CHECK((*list)[0].type == o::accm);
    CHECK((*list)[1].type == o::magic_number);
    CHECK((*list)[2].type == o::pfc);
    CHECK((*list)[3].type == o::acfc);
    CHECK_FALSE(lcp.on_ack(Bytes{}));   // an Ack must be our request, exactly
    CHECK(lcp.on_ack(ours));
    CHECK(lcp.settings().receive_accm == 0);
    CHECK(lcp.settings().receive_pfc);
    CHECK(lcp.settings().our_magic == 0xA0000000);

    LcpOptions small({.mru = 576, .auth = {}}, counter(5));
    auto small_request = small.request();   // the options point into it
    auto l2 = parse_options(small_request);
    REQUIRE(l2);
    uint16_t mru = 0;
    REQUIRE(value_u16((*l2)[0], mru));
    CHECK(mru == 576);
}

TEST_CASE("lcp options: the peer's odd requests: Naks and Rejects", "[slirp][lcp]")
{
    LcpOptions lcp({}, counter(0xB0000000));
    Bytes req;
    put_option_u16(req, o::mru, 64);                      // too small: Nak 128
    put_option_u32(req, o::magic_number, 0);              // zero: Nak with a value
    auto r = lcp.on_request(req, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureNak);
    auto naks = parse_options(r->options);
    REQUIRE(naks);
    REQUIRE(naks->size() == 2);
    uint16_t mru = 0;
    uint32_t magic = 0;
    CHECK(value_u16((*naks)[0], mru));
    CHECK(mru == 128);
    CHECK(value_u32((*naks)[1], magic));
    CHECK(magic != 0);

    // A Reject wins over a Nak and carries only what is rejected: PAP, a bad PFC length.
    Bytes both = req;
    const uint8_t pap[] = {0xC0, 0x23};
    put_option(both, o::auth_protocol, pap);
    put_option(both, o::pfc, Bytes{1});
    r = lcp.on_request(both, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
    CHECK(r->options == Bytes{3, 4, 0xC0, 0x23, 7, 3, 1});

    // max-failure: Naks become Rejects of the options as sent.
    r = lcp.on_request(req, true);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
    CHECK(r->options == req);
}

TEST_CASE("lcp options: our own magic coming back is a looped-back line", "[slirp][lcp]")
{
    LcpOptions lcp({}, counter(0xC0000000));
    auto ours = lcp.request();
    auto r = lcp.on_request(ours, false);   // the line echoed our request to us
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureNak);
    CHECK(lcp.loopbacks() == 1);
    auto again = lcp.request();
    CHECK(again != ours);   // a new magic of our own
}

TEST_CASE("lcp options: the peer's Nak and Reject of our request", "[slirp][lcp]")
{
    LcpOptions lcp({}, counter(0xD0000000));
    Bytes nak;
    put_option_u32(nak, o::accm, 0x000A0000);   // the line needs XON/XOFF escaped
    put_option_u32(nak, o::magic_number, 0x11111111);
    put_option(nak, o::pfc, {});
    REQUIRE(lcp.on_nak(nak));
    auto now = lcp.request();
    auto l = parse_options(now);
    REQUIRE(l);
    uint32_t accm = 0, magic = 0;
    CHECK(value_u32((*l)[0], accm));
    CHECK(accm == 0x000A0000);
    CHECK(value_u32((*l)[1], magic));
    CHECK(magic != 0xD0000000);
    CHECK(l->size() == 3);   // PFC no longer asked for

    Bytes rej;
    put_option(rej, o::acfc, {});
    REQUIRE(lcp.on_reject(rej));
    CHECK(parse_options(lcp.request())->size() == 2);
    CHECK_FALSE(lcp.on_reject(rej));                 // not asked any more: not a Reject of ours
    CHECK_FALSE(lcp.on_reject(Bytes{13, 3, 6}));     // never asked for
    CHECK_FALSE(lcp.on_nak(Bytes{5, 0}));            // malformed
    REQUIRE(lcp.on_ack(lcp.request()));
    CHECK(lcp.settings().receive_accm == 0x000A0000);
    CHECK_FALSE(lcp.settings().receive_acfc);
    CHECK_FALSE(lcp.settings().receive_pfc);
    lcp.reset();
    CHECK(parse_options(lcp.request())->size() == 4);
}
