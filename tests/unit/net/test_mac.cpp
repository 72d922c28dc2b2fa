// SPDX-License-Identifier: GPL-2.0-or-later
// net::Mac: the colon form in and out, any hardware address length up to 32 bytes.
#include <catch2/catch.hpp>

#include "alopex/net.hpp"

using alopex::net::Mac;

namespace {
std::string why(std::string_view text)
{
    auto r = Mac::parse(text, "options.mac");
    REQUIRE_FALSE(r);
    CHECK(r.error().bus_name == alopex::bus_error::InvalidArgument);
    return r.error().message;
}
} // namespace

TEST_CASE("Mac parses six colon-separated pairs of either case, prints lowercase")
{
    auto m = Mac::parse("0A:bB:cc:dd:ee:FF");
    REQUIRE(m);
    CHECK(m->size() == 6);
    CHECK(m->to_string() == "0a:bb:cc:dd:ee:ff");
    CHECK(fmt::format("{}", *m) == "0a:bb:cc:dd:ee:ff");
    CHECK(*m == Mac::eui48({0x0a, 0xbb, 0xcc, 0xdd, 0xee, 0xff}));
}

TEST_CASE("Mac refuses other spellings, with a hint where it is one")
{
    CHECK(why("02:00:00:00:00") == "options.mac: '02:00:00:00:00' is not a MAC address (like 02:00:00:00:00:01)");
    CHECK(why("02-00-00-00-00-01") ==
          "options.mac: '02-00-00-00-00-01' is not a MAC address (like 02:00:00:00:00:01) (write it with ':' between "
          "the bytes)");
    CHECK(why("0200.0000.0001").ends_with("(write it with ':' between the bytes)"));
    CHECK(why("02:00:00:00:00:0g").ends_with("(like 02:00:00:00:00:01)"));
    CHECK(why("02:00:00:00:00:+1").ends_with("(like 02:00:00:00:00:01)"));
    CHECK(why("02:00:00:00:00:01:") .ends_with("(like 02:00:00:00:00:01)"));
    CHECK(why("02:00:00:00:00:01 ").ends_with("(like 02:00:00:00:00:01)"));
    CHECK(why("2:0:0:0:0:1").ends_with("(like 02:00:00:00:00:01)"));
    CHECK(why("02:00:00:00:00-01").ends_with("(like 02:00:00:00:00:01)"));
    CHECK(why(std::string("02:00:00:00:00:0\0", 17)) ==
          "options.mac: '02:00:00:00:00:0\\x00' is not a MAC address (like 02:00:00:00:00:01)");
    CHECK(why("").ends_with("(like 02:00:00:00:00:01)"));
    CHECK(why("02:00:00:00:00:001").ends_with("(like 02:00:00:00:00:01)"));
    CHECK(why(std::string(5000, 'a')).size() < 200);
}

TEST_CASE("Mac predicates and assignability")
{
    auto mac = [](std::string_view s) { return Mac::parse(s).value(); };
    CHECK(mac("01:00:5e:00:00:01").is_multicast());
    CHECK(mac("ff:ff:ff:ff:ff:ff").is_multicast());
    CHECK_FALSE(mac("02:00:00:00:00:01").is_multicast());
    CHECK(mac("02:00:00:00:00:01").is_locally_administered());
    CHECK_FALSE(mac("00:16:3e:00:00:01").is_locally_administered());
    CHECK(mac("00:00:00:00:00:00").is_zero());
    CHECK(mac("02:00:00:00:00:01").assignable());
    CHECK_FALSE(mac("00:00:00:00:00:00").assignable());
    CHECK_FALSE(mac("03:00:00:00:00:01").assignable());
    CHECK_FALSE(Mac().assignable());
    CHECK_FALSE(Mac().is_zero());
    CHECK(mac("03:00:00:00:00:01").check_assignable("mac").error().message == "mac: 03:00:00:00:00:01 is a multicast address");
    CHECK(mac("00:00:00:00:00:00").check_assignable("mac").error().message == "mac: 00:00:00:00:00:00 is all zeros");
    CHECK(mac("02:00:00:00:00:01").check_assignable("mac").has_value());
}

TEST_CASE("Mac holds any hardware address up to MAX_ADDR_LEN")
{
    std::vector<uint8_t> ib(20, 0x80);
    auto m = Mac::from_bytes(ib);
    REQUIRE(m);
    CHECK(m->size() == 20);
    CHECK(m->to_string().size() == 20 * 3 - 1);
    CHECK(Mac::from_bytes(std::vector<uint8_t>(32, 1))->size() == 32);
    CHECK_FALSE(Mac::from_bytes(std::vector<uint8_t>(33, 1)));
    auto none = Mac::from_bytes(std::span<const uint8_t>());
    REQUIRE(none);
    CHECK(none->empty());
    CHECK(none->to_string().empty());
    CHECK(*none == Mac());
    // A 6-byte prefix of a longer address is another address.
    CHECK(Mac::from_bytes(std::vector<uint8_t>(6, 0x80)).value() != Mac::from_bytes(std::vector<uint8_t>(7, 0x80)).value());
    static_assert(std::is_trivially_copyable_v<Mac>);
}

TEST_CASE("interface names are validated like the kernel does")
{
    CHECK(alopex::net::valid_ifname("eth0"));
    CHECK(alopex::net::valid_ifname("123456789012345"));
    CHECK_FALSE(alopex::net::valid_ifname("1234567890123456"));
    CHECK_FALSE(alopex::net::valid_ifname(""));
    CHECK_FALSE(alopex::net::valid_ifname("a/b"));
    CHECK_FALSE(alopex::net::valid_ifname("a:b"));
    CHECK_FALSE(alopex::net::valid_ifname("a b"));
    CHECK_FALSE(alopex::net::valid_ifname("."));
    CHECK_FALSE(alopex::net::valid_ifname(".."));
    CHECK_FALSE(alopex::net::valid_ifname("eth0\n"));
    CHECK_FALSE(alopex::net::valid_ifname("eth\x7f"));
    CHECK_FALSE(alopex::net::valid_ifname("\xc3\xa9th0"));
}
