// SPDX-License-Identifier: GPL-2.0-or-later
// Hostile DHCP packets: every one is a clear Error, never a crash or a half-parsed lease.
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace dhcp_test;

namespace {

// A valid ACK's first 240 bytes (header + cookie) followed by the given options.
std::vector<uint8_t> with_options(std::initializer_list<uint8_t> opts, uint32_t xid = 5)
{
    auto b = build_reply(reply(MessageType::ack, xid));
    b.resize(240);
    b.insert(b.end(), opts);
    return b;
}

// Message type ACK, server id, lease time: what every reply below starts with.
#define BASE option::message_type, 1, 5, option::server_id, 4, 192, 0, 2, 1, \
             option::lease_time, 4, 0, 0, 0, 60

std::string why(const alopex::Result<Packet> &r)
{
    REQUIRE(!r);
    return r.error().message;
}

} // namespace

TEST_CASE("The base hostile-test packet is valid")
{
    REQUIRE(parse_reply(with_options({BASE, option::end}), 5, mac));
}

TEST_CASE("Truncated packets at every length")
{
    auto b = build_reply(reply(MessageType::ack, 5));
    for (size_t n = 0; n < 240; ++n)
        CHECK(!parse_packet(std::span(b.data(), n)));
    CHECK_THAT(why(parse_packet(std::span(b.data(), 100))), Catch::Contains("truncated"));
    // The first 240 + k bytes: options cut anywhere: an Error or (at an option boundary
    // without END) a packet, never more.
    auto full = with_options({BASE, option::dns, 4, 1, 2, 3, 4, option::end});
    for (size_t n = 240; n < full.size(); ++n)
        (void)parse_reply(std::span(full.data(), n), 5, mac);
}

TEST_CASE("Header checks: op, htype, hlen, cookie, xid, chaddr")
{
    auto good = with_options({BASE, option::end});
    auto b = good;
    b[0] = 3;
    CHECK_THAT(why(parse_packet(b)), Catch::Contains("op 3"));
    b = good, b[1] = 6;
    CHECK_THAT(why(parse_packet(b)), Catch::Contains("htype"));
    b = good, b[2] = 16;
    CHECK_THAT(why(parse_packet(b)), Catch::Contains("hlen"));
    b = good, b[236] = 0;
    CHECK_THAT(why(parse_packet(b)), Catch::Contains("cookie"));
    b = good, b[0] = 1;   // a BOOTREQUEST is not a reply
    CHECK_THAT(why(parse_reply(b, 5, mac)), Catch::Contains("BOOTREPLY"));
    CHECK_THAT(why(parse_reply(good, 6, mac)), Catch::Contains("xid"));
    Mac other = mac;
    other[5] ^= 1;
    CHECK_THAT(why(parse_reply(good, 5, other)), Catch::Contains("chaddr"));
}

TEST_CASE("Message type missing, wrong length or unknown")
{
    CHECK_THAT(why(parse_packet(with_options({option::end}))), Catch::Contains("message type"));
    CHECK(!parse_packet(with_options({option::message_type, 0, option::end})));
    CHECK(!parse_packet(with_options({option::message_type, 2, 5, 5, option::end})));
    CHECK(!parse_packet(with_options({option::message_type, 1, 9, option::end})));
    // A DISCOVER sent back at us is not a reply.
    CHECK(!parse_reply(with_options({option::message_type, 1, 1, option::server_id, 4, 192, 0,
                                     2, 1, option::end}), 5, mac));
}

TEST_CASE("Lying option lengths")
{
    CHECK_THAT(why(parse_packet(with_options({BASE, option::dns, 200, 1, 2, 3, 4}))),
               Catch::Contains("runs past"));
    CHECK_THAT(why(parse_packet(with_options({BASE, option::dns}))), Catch::Contains("no length"));
    CHECK(!parse_packet(with_options({option::message_type, 4, 5})));
}

TEST_CASE("Duplicated fixed-size options are refused after concatenation")
{
    CHECK(!parse_reply(with_options({BASE, option::lease_time, 4, 0, 0, 0, 1, option::end}), 5, mac));
    CHECK(!parse_reply(with_options({BASE, option::message_type, 1, 5, option::end}), 5, mac));
    CHECK(!parse_reply(with_options({BASE, option::subnet_mask, 4, 255, 255, 255, 0,
                                     option::subnet_mask, 4, 255, 255, 255, 0, option::end}), 5, mac));
}

TEST_CASE("Zero-length and wrong-length values")
{
    for (uint8_t code : {option::subnet_mask, option::router, option::dns, option::hostname,
                         option::domain, option::mtu, option::requested_ip, option::t1,
                         option::classless_routes, option::client_id})
        CHECK(!parse_reply(with_options({BASE, code, 0, option::end}), 5, mac));
    CHECK(!parse_reply(with_options({BASE, option::router, 3, 1, 2, 3, option::end}), 5, mac));
    CHECK(!parse_reply(with_options({BASE, option::mtu, 4, 0, 0, 5, 220, option::end}), 5, mac));
}

TEST_CASE("Absurd lease times and MTUs")
{
    CHECK_THAT(why(parse_reply(with_options({option::message_type, 1, 5, option::server_id, 4,
                                             192, 0, 2, 1, option::lease_time, 4, 0, 0, 0, 0,
                                             option::end}), 5, mac)),
               Catch::Contains("zero"));
    CHECK_THAT(why(parse_reply(with_options({option::message_type, 1, 5, option::server_id, 4,
                                             192, 0, 2, 1, option::end}), 5, mac)),
               Catch::Contains("lease time"));
    CHECK_THAT(why(parse_reply(with_options({BASE, option::mtu, 2, 0, 67, option::end}), 5, mac)),
               Catch::Contains("below 68"));
    // T1 > T2 > lease: both dropped, defaults apply.
    auto p = parse_reply(with_options({BASE, option::t1, 4, 0, 0, 1, 0, option::t2, 4, 0, 0, 0, 200,
                                       option::end}), 5, mac);
    REQUIRE(p);
    CHECK(!p->t1);
    CHECK(!p->t2);
    Lease l = lease_from_ack(*p, 0);
    CHECK(l.t1_s == 30);
    CHECK(l.t2_s == 52);
}

TEST_CASE("Unusable yiaddr, server id, netmask")
{
    for (Ipv4 bad : {0u, 0xffffffffu, 0x7f000001u, 0xe0000001u}) {
        auto s = reply(MessageType::ack, 5);
        s.yiaddr = bad;
        CHECK(!parse_reply(build_reply(s), 5, mac));
        s = reply(MessageType::offer, 5);
        s.server_id = bad;
        CHECK(!parse_reply(build_reply(s), 5, mac));
    }
    auto s = reply(MessageType::ack, 5);
    s.yiaddr = 0xc00002ff;   // the subnet's broadcast address
    CHECK_THAT(why(parse_reply(build_reply(s), 5, mac)), Catch::Contains("broadcast"));
    s = reply(MessageType::ack, 5);
    s.subnet_mask = 0xff00ff00;
    CHECK_THAT(why(parse_reply(build_reply(s), 5, mac)), Catch::Contains("contiguous"));
    s = reply(MessageType::nak, 5);
    s.server_id = 0;
    CHECK_THAT(why(parse_reply(build_reply(s), 5, mac)), Catch::Contains("server identifier"));
}

TEST_CASE("Classless routes: width, truncation, host bits")
{
    CHECK_THAT(why(parse_reply(with_options({BASE, option::classless_routes, 5, 33, 1, 2, 3, 4,
                                             option::end}), 5, mac)),
               Catch::Contains("over 32"));
    CHECK_THAT(why(parse_reply(with_options({BASE, option::classless_routes, 5, 24, 10, 0, 0, 1,
                                             option::end}), 5, mac)),
               Catch::Contains("truncated"));
    CHECK_THAT(why(parse_reply(with_options({BASE, option::classless_routes, 6, 8, 10, 192, 0, 2, 1,
                                             option::classless_routes, 6, 7, 11, 192, 0, 2, 1,
                                             option::end}), 5, mac)),
               Catch::Contains("beyond the prefix"));
}

TEST_CASE("Names with control characters and overload inside overload")
{
    CHECK(!parse_reply(with_options({BASE, option::domain, 3, 'a', '\n', 'b', option::end}), 5, mac));
    auto ok = parse_reply(with_options({BASE, option::domain, 4, 'a', '.', 'b', 0, option::end}), 5, mac);
    REQUIRE(ok);
    CHECK(ok->domain == "a.b");
    auto b = with_options({BASE, option::overload, 1, 1, option::end});
    b[108] = option::overload, b[109] = 1, b[110] = 1;
    CHECK_THAT(why(parse_packet(b)), Catch::Contains("inside"));
}
