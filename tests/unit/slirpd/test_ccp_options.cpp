// SPDX-License-Identifier: GPL-2.0-or-later
// CCP's options (RFC 1962, Deflate of RFC 1979) as pppd 2.4.9 asks them: its default
// request (Deflate 26, the draft Deflate 24, BSD-Compress 21) gets the last two rejected,
// then Deflate alone is acknowledged; windows outside 9..15, another method or check are
// Naked with pppd's own values; our request and what the peer's Nak and Reject do to it;
// malformed option lists.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "ccp_options.hpp"

using namespace alopex::slirp::ppp;
using Bytes = std::vector<uint8_t>;

namespace {
const Bytes pppd_default = {26, 4, 0x78, 0x00, 24, 4, 0x78, 0x00, 21, 3, 0x2F};
}

TEST_CASE("ccp options: pppd's default request, then Deflate alone", "[slirp][ccp]")
{
    CcpOptions o({});
    unsigned acked = 0;
    o.peer_acked = [&](unsigned w) { acked = w; };
    auto r = o.on_request(pppd_default, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
    CHECK(r->options == Bytes{24, 4, 0x78, 0x00, 21, 3, 0x2F});
    CHECK(acked == 0);
    CHECK_FALSE(o.deflate_to_peer());
    r = o.on_request(Bytes{26, 4, 0x78, 0x00}, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureAck);
    CHECK(r->options == Bytes{26, 4, 0x78, 0x00});
    CHECK(acked == 15);
    CHECK(o.deflate_to_peer() == 15u);
    // An empty request (pppd after everything it had was rejected): acknowledged, no Deflate.
    r = o.on_request(Bytes{}, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureAck);
    CHECK_FALSE(o.deflate_to_peer());
}

TEST_CASE("ccp options: Deflate windows, methods and checks we do not take are Naked", "[slirp][ccp]")
{
    CcpOptions o({});
    auto answer = [&](Bytes req) {
        auto r = o.on_request(req, false);
        REQUIRE(r);
        return *r;
    };
    auto r = answer({26, 4, 0x48, 0x00});   // window 12
    CHECK(r.code == Code::ConfigureAck);
    CHECK(o.deflate_to_peer() == 12u);
    for (Bytes bad : {Bytes{26, 4, 0x08, 0x00}, Bytes{26, 4, 0x88, 0x00}, Bytes{26, 4, 0x77, 0x00},
                      Bytes{26, 4, 0x78, 0x01}}) {
        r = answer(bad);
        CHECK(r.code == Code::ConfigureNak);
        CHECK(r.options == Bytes{26, 4, 0x78, 0x00});
    }
    r = answer({26, 3, 0x78});   // a wrong length
    CHECK(r.code == Code::ConfigureReject);
    r = answer({26, 4, 0x78, 0x00, 26, 4, 0x48, 0x00});   // a second Deflate
    CHECK(r.code == Code::ConfigureReject);
    CHECK(r.options == Bytes{26, 4, 0x48, 0x00});
    r = answer({18, 6, 0, 0, 0, 0x40, 1, 2});   // MPPE, Predictor-1
    CHECK(r.code == Code::ConfigureReject);
    CHECK(r.options == Bytes{18, 6, 0, 0, 0, 0x40, 1, 2});
    // Max-failure: what would be Naked is rejected.
    r = *o.on_request(Bytes{26, 4, 0x08, 0x00}, true);
    CHECK(r.code == Code::ConfigureReject);
    // Malformed lists are errors (the packet is discarded).
    CHECK_FALSE(o.on_request(Bytes{26, 1}, false));
    CHECK_FALSE(o.on_request(Bytes{26, 9, 0x78, 0x00}, false));
    CHECK_FALSE(o.on_request(Bytes{26}, false));
}

TEST_CASE("ccp options: our request, and the peer's Nak, Reject and Ack", "[slirp][ccp]")
{
    CcpOptions o({});
    unsigned ours = 0;
    o.ours_acked = [&](unsigned w) { ours = w; };
    CHECK(o.request() == Bytes{26, 4, 0x78, 0x00});
    CHECK_FALSE(o.on_ack(Bytes{26, 4, 0x48, 0x00}));   // not what we asked
    CHECK(o.on_nak(Bytes{26, 4, 0x58, 0x00}));         // window 13
    CHECK(o.request() == Bytes{26, 4, 0x58, 0x00});
    CHECK(o.on_ack(Bytes{26, 4, 0x58, 0x00}));
    CHECK(ours == 13);
    CHECK(o.deflate_from_peer() == 13u);
    o.reset();
    CHECK(o.request() == Bytes{26, 4, 0x78, 0x00});
    CHECK(o.on_nak(Bytes{26, 4, 0x08, 0x00}));   // window 8: we stop asking
    CHECK(o.request().empty());
    o.reset();
    CHECK_FALSE(o.on_reject(Bytes{21, 3, 0x2F}));   // not something we asked
    CHECK(o.on_reject(Bytes{26, 4, 0x78, 0x00}));
    CHECK(o.request().empty());
    ours = 0;
    CHECK(o.on_ack(Bytes{}));
    CHECK(ours == 0);
    CHECK_FALSE(o.deflate_from_peer());
    CcpOptions off({.deflate = false});
    CHECK(off.request().empty());
    auto r = off.on_request(Bytes{26, 4, 0x78, 0x00}, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
}
