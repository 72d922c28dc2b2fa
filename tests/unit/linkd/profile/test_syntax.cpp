// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "syntax.hpp"

using namespace alopex::linkd::profile;

TEST_CASE("interface names follow the kernel's rules", "[linkd][profile]")
{
    CHECK(valid_ifname("eth0"));
    CHECK(valid_ifname("123456789012345"));
    CHECK_FALSE(valid_ifname("1234567890123456"));
    CHECK_FALSE(valid_ifname(""));
    CHECK_FALSE(valid_ifname("."));
    CHECK_FALSE(valid_ifname(".."));
    CHECK_FALSE(valid_ifname("a/b"));
    CHECK_FALSE(valid_ifname("a:b"));
    CHECK_FALSE(valid_ifname("a b"));
    CHECK_FALSE(valid_ifname("a\nb"));
    CHECK_FALSE(valid_ifname("\xc3\xa9th0"));
    CHECK_FALSE(valid_ifname(std::string_view("a\0b", 3)));
}

TEST_CASE("name globs are checked", "[linkd][profile]")
{
    CHECK(check_name_glob("eth*"));
    CHECK(check_name_glob("en?[0-9]"));
    CHECK(check_name_glob("veth[!x]*"));
    CHECK(check_name_glob("a[]]"));
    CHECK(check_name_glob("a\\*"));
    CHECK_FALSE(check_name_glob(""));
    CHECK_FALSE(check_name_glob("eth[0"));
    CHECK_FALSE(check_name_glob("eth[]"));
    CHECK_FALSE(check_name_glob("eth[!]"));
    CHECK_FALSE(check_name_glob("eth\\"));
    CHECK_FALSE(check_name_glob("eth/*"));
    CHECK_FALSE(check_name_glob("1234567890123456")); // no glob: must be a valid name
    CHECK_FALSE(check_name_glob(std::string(65, '*')));
}

// Addresses, prefixes, MACs and domains: tests/unit/net (the profile parser uses alopex/net.hpp).
TEST_CASE("zones", "[linkd][profile]")
{
    CHECK(valid_zone("wan"));
    CHECK_FALSE(valid_zone("w an"));
    CHECK_FALSE(valid_zone(""));
}
