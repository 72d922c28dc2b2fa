// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>

#include <catch2/catch.hpp>

#include "alopex/net.hpp"

using alopex::net::valid_domain;

TEST_CASE("domain names", "[net]")
{
    CHECK(valid_domain("example.net"));
    CHECK(valid_domain("example.net."));
    CHECK(valid_domain("_srv.a-b.example"));
    CHECK(valid_domain("localdomain"));
    CHECK(valid_domain(std::string(63, 'a') + ".net"));
    CHECK_FALSE(valid_domain(""));
    CHECK_FALSE(valid_domain("."));
    CHECK_FALSE(valid_domain("a..b"));
    CHECK_FALSE(valid_domain(".a"));
    CHECK_FALSE(valid_domain("-a.b"));
    CHECK_FALSE(valid_domain("a-.b"));
    CHECK_FALSE(valid_domain("a b"));
    CHECK_FALSE(valid_domain(std::string("a\0b", 3)));
    CHECK_FALSE(valid_domain("ex\xc3\xa4mple.net"));
    CHECK_FALSE(valid_domain(std::string(64, 'a') + ".net"));
    std::string long_name;
    while (long_name.size() < 250)
        long_name += "abcdefghi.";
    CHECK_FALSE(valid_domain(long_name + "abcd"));   // 254 bytes
    CHECK(valid_domain(long_name.substr(0, 249) + "abc"));   // 252 bytes
}
