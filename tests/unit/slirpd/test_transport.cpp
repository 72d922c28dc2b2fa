// SPDX-License-Identifier: GPL-2.0-or-later
// UDP and TCP headers: round trips with every option, pseudo-header checksums, and the
// hostile shapes of libslirp's CVEs (UDP length past the payload, data offsets that lie,
// option lengths 0, 1 and past the header, an urgent pointer past the data).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "ipv4.hpp"
#include "transport.hpp"

using namespace alopex::slirp::stack;

namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint32_t a = 0x0A000002, b = 0x0A000001;

Bytes wrap(uint8_t proto, const Bytes &segment)
{
    Bytes out;
    build_ipv4(out, {.protocol = proto, .src = a, .dst = b}, segment);
    return out;
}

// A TCP header by hand: data offset in words, options as given, then data.
Bytes raw_tcp(uint8_t words, const Bytes &options, const Bytes &data, uint16_t urgent = 0)
{
    Bytes t = {0x04, 0xD2, 0x00, 0x16, 0, 0, 0, 1, 0, 0, 0, 0, static_cast<uint8_t>(words << 4), 0x22,
               0xFF, 0xFF, 0, 0, static_cast<uint8_t>(urgent >> 8), static_cast<uint8_t>(urgent)};
    t.insert(t.end(), options.begin(), options.end());
    t.insert(t.end(), data.begin(), data.end());
    uint32_t sum = checksum_add(pseudo_header_sum(a, b, proto_tcp, t.size()), t);
    uint16_t c = checksum_fold(sum);
    t[16] = static_cast<uint8_t>(c >> 8);
    t[17] = static_cast<uint8_t>(c);
    return wrap(proto_tcp, t);
}

} // namespace

TEST_CASE("transport: UDP round trip and checksum", "[slirp][transport]")
{
    Bytes seg;
    build_udp(seg, a, b, 5353, 53, Bytes{1, 2, 3, 4, 5});
    auto p = wrap(proto_udp, seg);
    auto ip = parse_ipv4(p);
    REQUIRE(ip);
    auto u = parse_udp(*ip);
    REQUIRE(u);
    CHECK(u->src_port == 5353);
    CHECK(u->dst_port == 53);
    CHECK(Bytes(u->payload.begin(), u->payload.end()) == Bytes{1, 2, 3, 4, 5});
    p[p.size() - 1] ^= 1;
    auto bad = parse_ipv4(p);
    REQUIRE(bad);
    CHECK_FALSE(parse_udp(*bad));
}

TEST_CASE("transport hostile: UDP lengths that lie", "[slirp][transport]")
{
    Bytes seg;
    build_udp(seg, a, b, 1, 53, Bytes(20, 7));
    for (uint16_t len : {uint16_t{0}, uint16_t{7}, uint16_t{29}, uint16_t{0xFFFF}}) {
        Bytes s = seg;
        s[4] = static_cast<uint8_t>(len >> 8);
        s[5] = static_cast<uint8_t>(len);
        s[6] = s[7] = 0;   // no checksum: only the length is wrong
        auto packet = wrap(proto_udp, s);   // the parsed views point into it
        auto ip = parse_ipv4(packet);
        REQUIRE(ip);
        INFO("length " << len);
        CHECK_FALSE(parse_udp(*ip));
    }
    Bytes shorter = seg;   // a shorter length is fine: the rest is padding
    shorter[5] = 12;
    shorter[6] = shorter[7] = 0;
    auto packet = wrap(proto_udp, shorter);
    auto ip = parse_ipv4(packet);
    auto u = parse_udp(*ip);
    REQUIRE(u);
    CHECK(u->payload.size() == 4);
}

TEST_CASE("transport: TCP round trip with every option slirpd writes", "[slirp][transport]")
{
    Tcp t;
    t.src_port = 40000;
    t.dst_port = 22;
    t.seq = 0xFFFFFFF0;
    t.ack = 12345;
    t.flags = tcp_flag::syn | tcp_flag::ack;
    t.window = 29200;
    t.options.mss = 1460;
    t.options.window_scale = 7;
    t.options.sack_permitted = true;
    t.options.timestamps = std::pair{1u, 2u};
    Bytes seg, data = {'s', 's', 'h'};
    build_tcp(seg, a, b, t, data);
    auto packet = wrap(proto_tcp, seg);
    auto ip = parse_ipv4(packet);
    REQUIRE(ip);
    auto back = parse_tcp(*ip);
    REQUIRE(back);
    CHECK(back->seq == t.seq);
    CHECK(back->ack == t.ack);
    CHECK(back->flags == t.flags);
    CHECK(back->window == t.window);
    CHECK(back->options == t.options);
    CHECK(Bytes(back->payload.begin(), back->payload.end()) == data);
}

TEST_CASE("transport hostile: TCP data offsets and options that lie", "[slirp][transport]")
{
    CHECK(parse_tcp(*parse_ipv4(raw_tcp(5, {}, {}))));
    CHECK_FALSE(parse_tcp(*parse_ipv4(raw_tcp(4, {}, {}))));            // offset under 5 words
    CHECK_FALSE(parse_tcp(*parse_ipv4(raw_tcp(15, {}, {1, 2, 3}))));   // offset past the segment
    CHECK_FALSE(parse_tcp(*parse_ipv4(raw_tcp(6, {2, 0, 0, 0}, {}))));    // option length 0
    CHECK_FALSE(parse_tcp(*parse_ipv4(raw_tcp(6, {2, 1, 0, 0}, {}))));    // option length 1
    CHECK_FALSE(parse_tcp(*parse_ipv4(raw_tcp(6, {1, 1, 8, 10}, {}))));   // past the header
    auto odd_packet = raw_tcp(6, {2, 3, 5, 0}, {});
    auto odd = parse_tcp(*parse_ipv4(odd_packet));                      // MSS of the wrong size: ignored
    REQUIRE(odd);
    CHECK_FALSE(odd->options.mss);
    auto eol = parse_tcp(*parse_ipv4(raw_tcp(6, {0, 2, 0, 0}, {})));     // after End of List: nothing read
    CHECK(eol);
    // An urgent pointer past the data changes nothing: URG is plain data.
    auto urg_packet = raw_tcp(5, {}, {1, 2}, 0xFFFF);
    auto urg = parse_tcp(*parse_ipv4(urg_packet));
    REQUIRE(urg);
    CHECK(urg->payload.size() == 2);
    Bytes bad = raw_tcp(5, {}, {1, 2});
    bad.back() ^= 0x10;
    CHECK_FALSE(parse_tcp(*parse_ipv4(bad)));                           // checksum
    Bytes tiny = wrap(proto_tcp, Bytes(19, 0));
    CHECK_FALSE(parse_tcp(*parse_ipv4(tiny)));
}
