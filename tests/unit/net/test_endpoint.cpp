// SPDX-License-Identifier: GPL-2.0-or-later
// net::Endpoint: "a.b.c.d:port" and "[v6]:port" in, the same text and a sockaddr out.
#include <catch2/catch.hpp>

#include <netinet/in.h>

#include <cstring>

#include "alopex/net.hpp"

using namespace alopex::net;

TEST_CASE("Endpoint: IPv4 and bracketed IPv6 with a port; text and sockaddr round-trip")
{
    auto v4 = parse_endpoint("192.0.2.1:443");
    REQUIRE(v4);
    CHECK(v4->to_string() == "192.0.2.1:443");
    sockaddr_storage ss;
    REQUIRE(to_sockaddr(*v4, ss) == sizeof(sockaddr_in));
    auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
    CHECK(sin->sin_family == AF_INET);
    CHECK(ntohs(sin->sin_port) == 443);
    CHECK(ntohl(sin->sin_addr.s_addr) == 0xC0000201);

    auto v6 = parse_endpoint("[::1]:22");
    REQUIRE(v6);
    CHECK(v6->to_string() == "[::1]:22");
    REQUIRE(to_sockaddr(*v6, ss) == sizeof(sockaddr_in6));
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    CHECK(sin6->sin6_family == AF_INET6);
    CHECK(ntohs(sin6->sin6_port) == 22);
    CHECK(std::memcmp(&sin6->sin6_addr, &in6addr_loopback, 16) == 0);
    CHECK(*parse_endpoint(v6->to_string()) == *v6);
}

TEST_CASE("Endpoint: refusals name the fault")
{
    auto why = [](std::string_view s) {
        auto r = parse_endpoint(s);
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK_THAT(why("localhost:22"), Catch::Contains("host names are not accepted"));
    CHECK_THAT(why("10.0.0.1"), Catch::Contains("port is required"));
    CHECK_THAT(why("10.0.0.1:0"), Catch::Contains("1..65535"));
    CHECK_THAT(why("::1:22"), Catch::Contains("brackets"));
    CHECK_THAT(why("[fe80::1%eth0]:22"), Catch::Contains("zone"));
    CHECK_THAT(why(std::string_view("1.2.3.4:2\0", 10)), Catch::Contains("NUL"));
}
