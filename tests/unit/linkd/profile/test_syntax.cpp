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

TEST_CASE("addresses and prefixes", "[linkd][profile]")
{
    auto ip = parse_ip("2001:DB8:0::10");
    REQUIRE(ip);
    CHECK(ip->family == AF_INET6);
    CHECK(ip->address == "2001:db8::10");
    CHECK_FALSE(parse_ip("192.0.2.1", AF_INET6));
    CHECK_FALSE(parse_ip("1.2.3"));
    CHECK_FALSE(parse_ip("01.2.3.4"));
    CHECK_FALSE(parse_ip("fe80::1%eth0"));
    CHECK_FALSE(parse_ip(" 192.0.2.1"));

    auto p = parse_prefix("192.0.2.10/24", 0, false, false);
    REQUIRE(p);
    CHECK(to_string(*p) == "192.0.2.10/24");
    CHECK_FALSE(parse_prefix("192.0.2.10/24", 0, true, false));   // host bits for a network
    CHECK(parse_prefix("192.0.2.0/24", 0, true, false));
    CHECK(parse_prefix("2001:db8::/32", 0, true, false));
    CHECK_FALSE(parse_prefix("2001:db8::1/32", 0, true, false));
    CHECK(parse_prefix("2001:db8::1/128", 0, true, false));
    CHECK_FALSE(parse_prefix("11.0.0.0/7", 0, true, false));
    CHECK(parse_prefix("10.0.0.0/7", 0, true, false));
    CHECK(parse_prefix("10.0.0.0/8", 0, true, false));
    CHECK(parse_prefix("0.0.0.0/0", 0, true, true));
    CHECK_FALSE(parse_prefix("0.0.0.0/0", 0, true, false));
    for (auto bad : {"192.0.2.1", "192.0.2.1/33", "192.0.2.1/-1", "192.0.2.1/+8", "192.0.2.1/08",
                     "192.0.2.1/", "/24", "192.0.2.1/24/1", "2001:db8::/129", "x/8"})
        CHECK_FALSE(parse_prefix(bad, 0, false, true));
    CHECK_FALSE(parse_prefix("2001:db8::1/64", AF_INET, false, false));
}

TEST_CASE("MACs, domains, zones", "[linkd][profile]")
{
    auto m = parse_mac("02:00:00:AB:cd:01");
    REQUIRE(m);
    CHECK(format_mac(*m) == "02:00:00:ab:cd:01");
    CHECK(assignable_mac(*m));
    CHECK_FALSE(assignable_mac(*parse_mac("01:00:5e:00:00:01")));
    CHECK_FALSE(assignable_mac(*parse_mac("00:00:00:00:00:00")));
    for (auto bad : {"02:00:00:00:00", "02-00-00-00-00-01", "02:00:00:00:00:0g", "02:00:00:00:00:001",
                     "0200.0000.0001"})
        CHECK_FALSE(parse_mac(bad));
    CHECK(valid_domain("example.net"));
    CHECK(valid_domain("example.net."));
    CHECK(valid_domain("_srv.a-b.example"));
    CHECK_FALSE(valid_domain("."));
    CHECK_FALSE(valid_domain("a..b"));
    CHECK_FALSE(valid_domain("-a.b"));
    CHECK_FALSE(valid_domain("a b"));
    CHECK_FALSE(valid_domain(std::string(64, 'a') + ".net"));
    CHECK(valid_zone("wan"));
    CHECK_FALSE(valid_zone("w an"));
    CHECK_FALSE(valid_zone(""));
}
