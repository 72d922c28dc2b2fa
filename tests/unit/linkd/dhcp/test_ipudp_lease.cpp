// SPDX-License-Identifier: GPL-2.0-or-later
// IPv4/UDP framing of the packet socket, and the lease state file.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "ipudp.hpp"

using namespace dhcp_test;

TEST_CASE("IPv4/UDP frames round-trip with valid checksums")
{
    std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
    auto f = build_ipv4_udp(0, 0xffffffff, 68, 67, payload);
    REQUIRE(f.size() == 33);
    CHECK(inet_checksum(std::span(f.data(), 20)) == 0);
    auto d = parse_ipv4_udp(f, 67);
    REQUIRE(d);
    CHECK(d->src == 0);
    CHECK(d->dst == 0xffffffff);
    CHECK(d->sport == 68);
    CHECK(std::vector<uint8_t>(d->payload.begin(), d->payload.end()) == payload);
    // Link-layer padding after the datagram is cut.
    auto padded = f;
    padded.resize(60, 0);
    REQUIRE(parse_ipv4_udp(padded, 67));
    CHECK(parse_ipv4_udp(padded, 67)->payload.size() == 5);
}

TEST_CASE("IPv4/UDP hostile frames")
{
    std::vector<uint8_t> payload(300, 7);
    auto good = build_ipv4_udp(server, offered, 67, 68, payload);
    REQUIRE(parse_ipv4_udp(good, 68));
    CHECK(!parse_ipv4_udp(good, 67));                 // wrong port
    for (size_t n = 0; n < good.size(); ++n)
        CHECK(!parse_ipv4_udp(std::span(good.data(), n), 68));
    auto f = good;
    f[0] = 0x65;   // IPv6 version
    CHECK(!parse_ipv4_udp(f, 68));
    f = good, f[0] = 0x44;   // IHL 16 bytes
    CHECK(!parse_ipv4_udp(f, 68));
    f = good, f[0] = 0x4f;   // IHL 60 bytes: header checksum then fails
    CHECK(!parse_ipv4_udp(f, 68));
    f = good, f[9] = 6;
    CHECK(!parse_ipv4_udp(f, 68));
    f = good, f[6] |= 0x20;   // MF
    CHECK(!parse_ipv4_udp(f, 68));
    f = good, f[2] = 0xff;    // total length beyond the frame
    CHECK(!parse_ipv4_udp(f, 68));
    f = good, f[12] ^= 1;     // header checksum
    CHECK(!parse_ipv4_udp(f, 68));
    f = good, f[24] = 0xff;   // UDP length beyond the datagram
    CHECK(!parse_ipv4_udp(f, 68));
    f = good, f[100] ^= 0xff; // payload: UDP checksum
    CHECK(!parse_ipv4_udp(f, 68));
    CHECK(parse_ipv4_udp(f, 68, false));   // checksum offload pending: not checked
    f[26] = f[27] = 0;        // no UDP checksum at all
    CHECK(parse_ipv4_udp(f, 68));
}

TEST_CASE("Lease file round-trip and wall-clock conversion")
{
    Lease l;
    l.address = offered;
    l.prefixlen = 24;
    l.routers = {server, 0xc0000202};
    l.dns = {0x08080808};
    l.domain = "example.net";
    l.mtu = 1400;
    l.classless_routes = {{0, 0, server}, {0x0a000000, 8, 0}};
    l.server_id = server;
    l.lease_s = 120, l.t1_s = 60, l.t2_s = 105;
    l.acquired_usec = 50 * S;
    std::string text = format_lease(l, 1000 * S);
    CHECK_THAT(text, Catch::Contains("acquired_realtime_usec=1050000000"));
    auto back = parse_lease(text, 1000 * S);
    REQUIRE(back);
    CHECK(*back == l);
    // After a "restart" the clock offset differs: the acquisition moves with it.
    auto later = parse_lease(text, 1040 * S);
    REQUIRE(later);
    CHECK(later->acquired_usec == 10 * S);

    l.mtu.reset();
    l.classless_routes.clear();
    auto again = parse_lease(format_lease(l, 0), 0);
    REQUIRE(again);
    CHECK(*again == l);
}

TEST_CASE("Lease file: invalid content is refused")
{
    Lease l;
    l.address = offered, l.prefixlen = 24, l.server_id = server;
    l.lease_s = 120, l.t1_s = 60, l.t2_s = 105;
    std::string good = format_lease(l, 0);
    REQUIRE(parse_lease(good, 0));
    auto replace = [&](std::string from, std::string to) {
        std::string s = good;
        s.replace(s.find(from), from.size(), to);
        return s;
    };
    CHECK(!parse_lease(replace("address=192.0.2.10", "address=192.0.2"), 0));
    CHECK(!parse_lease(replace("prefixlen=24", "prefixlen=33"), 0));
    CHECK(!parse_lease(replace("t1=60", "t1=110"), 0));
    CHECK(!parse_lease(replace("lease=120", "lease=0"), 0));
    CHECK(!parse_lease(replace("routes=", "routes=10.0.0.1/8,1.2.3.4"), 0));
    CHECK(!parse_lease(replace("server_id=192.0.2.1\n", ""), 0));
    CHECK(!parse_lease(good + "bogus=1\n", 0));
    CHECK(!parse_lease("", 0));
    CHECK(!parse_lease("acquired_realtime_usec=99999999999999999999999\n", 0));
}
