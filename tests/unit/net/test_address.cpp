// SPDX-License-Identifier: GPL-2.0-or-later
// net::Address: inet_pton's forms and nothing else, canonical text, predicates, order.
#include <arpa/inet.h>

#include <set>
#include <unordered_set>

#include <catch2/catch.hpp>

#include "alopex/net.hpp"

using alopex::net::Address;

namespace {

Address ip(std::string_view s) { return Address::parse(s).value(); }

std::string why(std::string_view text, int family = 0, std::string_view what = "address")
{
    auto r = Address::parse(text, family, what);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == EINVAL);
    CHECK(r.error().bus_name == alopex::bus_error::InvalidArgument);
    return r.error().message;
}

} // namespace

TEST_CASE("Address parses both families to canonical text")
{
    CHECK(ip("192.0.2.1").to_string() == "192.0.2.1");
    CHECK(ip("192.0.2.1").family() == AF_INET);
    CHECK(ip("192.0.2.1").size() == 4);
    CHECK(ip("2001:DB8:0:0::1").to_string() == "2001:db8::1");
    CHECK(ip("2001:db8::1").family() == AF_INET6);
    CHECK(ip("2001:db8::1").size() == 16);
    CHECK(ip("0:0:0:0:0:0:0:0").to_string() == "::");
    CHECK(ip("0000::1").to_string() == "::1");
    CHECK(ip("::ffff:1.2.3.4").to_string() == "::ffff:1.2.3.4");
    CHECK(ip("::ffff:1.2.3.4").is_v4_mapped());
    CHECK(ip("::ffff:1.2.3.4").family() == AF_INET6);   // mapped stays IPv6
    CHECK(ip("1:2:3:4:5:6:1.2.3.4").to_string() == "1:2:3:4:5:6:102:304");
    CHECK(ip("255.255.255.255").is_broadcast());
    CHECK(Address::parse("192.0.2.1", AF_INET, "x").has_value());
    CHECK(Address::parse("2001:db8::1", AF_INET6, "x").has_value());
}

TEST_CASE("Address refuses everything inet_pton refuses, with the argument named")
{
    CHECK(why("300.1.1.1") == "address: '300.1.1.1' is not an IPv4 or IPv6 address");
    CHECK(why("300.1.1.1", AF_INET, "ipv4.gateway") == "ipv4.gateway: '300.1.1.1' is not an IPv4 address");
    CHECK(why("1.2.3") == "address: '1.2.3' is not an IPv4 or IPv6 address");          // no short forms
    CHECK(why("1.2.3.4.5") == "address: '1.2.3.4.5' is not an IPv4 or IPv6 address");
    CHECK(why("0x1.2.3.4").find("is not an IPv4 or IPv6 address") != std::string::npos);
    CHECK(why("1::2::3").find("is not") != std::string::npos);
    CHECK(why("1:2:3:4:5:6:7:8:9").find("is not") != std::string::npos);
    CHECK(why("00000::1").find("is not") != std::string::npos);
    CHECK(why("::ffff:01.2.3.4").find("is not") != std::string::npos);
    CHECK(why("eth0") == "address: 'eth0' is not an IPv4 or IPv6 address");
    // Leading zeros: inet_pton refuses them (inet_aton would read octal); a hint says so.
    CHECK(why("010.0.0.1") == "address: '010.0.0.1' is not an IPv4 or IPv6 address (no leading zeros in a dotted quad)");
    CHECK(why("1.2.3.04").ends_with("(no leading zeros in a dotted quad)"));
    // Zone indexes, prefixes, whitespace, NUL, overlong text, empty text.
    CHECK(why("fe80::1%eth0") == "address: 'fe80::1%eth0' is not an IPv4 or IPv6 address (a zone index is not allowed)");
    CHECK(why("192.0.2.0/24").ends_with("(a prefix length is not allowed here)"));
    CHECK(why(" 192.0.2.1").ends_with("(leading or trailing whitespace)"));
    CHECK(why("192.0.2.1\n") == "address: '192.0.2.1\\x0a' is not an IPv4 or IPv6 address (leading or trailing whitespace)");
    CHECK(why(std::string("1.2.3.4\0junk", 12)) ==
          "address: '1.2.3.4\\x00junk' is not an IPv4 or IPv6 address (it contains a NUL byte)");
    CHECK(why(std::string("1.2.3.4\0", 8)).ends_with("(it contains a NUL byte)"));
    CHECK(why(std::string(46, '1')).ends_with("(longer than 45 bytes)"));
    std::string huge(100000, ':');
    CHECK(why(huge).size() < 200);   // bounded quoting
    CHECK(why("") == "address: '' is not an IPv4 or IPv6 address (it is empty)");
    // The wrong family says which one it is.
    CHECK(why("2001:db8::1", AF_INET) == "address: '2001:db8::1' is not an IPv4 address (it is an IPv6 address)");
    CHECK(why("192.0.2.1", AF_INET6) == "address: '192.0.2.1' is not an IPv6 address (it is an IPv4 address)");
    // Control and non-ASCII bytes are escaped, quotes too.
    CHECK(why("\xff'\\") == "address: '\\xff\\x27\\x5c' is not an IPv4 or IPv6 address");
    // No `what`: the message starts with the text.
    CHECK(why("x", 0, "") == "'x' is not an IPv4 or IPv6 address");
    // A family that is neither.
    CHECK(Address::parse("192.0.2.1", 17, "f").error().message.starts_with("f: address family 17"));
}

TEST_CASE("Address from bytes, to bytes")
{
    const uint8_t v4[] = {192, 0, 2, 1};
    auto a = Address::from_bytes(AF_INET, v4);
    REQUIRE(a);
    CHECK(a->to_string() == "192.0.2.1");
    CHECK(std::equal(a->bytes().begin(), a->bytes().end(), std::begin(v4), std::end(v4)));
    CHECK(a->v4_number() == 0xc0000201u);
    CHECK(Address::v4(0xc0000201u) == *a);
    CHECK_FALSE(Address::from_bytes(AF_INET, std::span<const uint8_t>(v4, 3)));
    CHECK_FALSE(Address::from_bytes(AF_INET6, v4));
    CHECK_FALSE(Address::from_bytes(0, v4));
    CHECK_FALSE(Address::from_bytes(AF_PACKET, v4));
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
    v6[15] = 1;
    CHECK(Address::from_bytes(AF_INET6, v6)->to_string() == "2001:db8::1");
    CHECK(ip("2001:db8::1").v4_number() == 0);
}

TEST_CASE("The empty address and any()")
{
    Address e;
    CHECK(e.empty());
    CHECK(e.family() == 0);
    CHECK(e.size() == 0);
    CHECK(e.bytes().empty());
    CHECK(e.to_string().empty());
    CHECK_FALSE(e.is_unspecified());
    CHECK(Address::any(AF_INET).to_string() == "0.0.0.0");
    CHECK(Address::any(AF_INET6).to_string() == "::");
    CHECK(Address::any(AF_INET).is_unspecified());
    CHECK(Address::any(AF_INET6) == ip("::"));
    CHECK(Address::any(99).empty());
    CHECK(e != Address::any(AF_INET));
}

TEST_CASE("Address predicates")
{
    CHECK(ip("127.0.0.1").is_loopback());
    CHECK(ip("127.255.0.9").is_loopback());
    CHECK(ip("::1").is_loopback());
    CHECK_FALSE(ip("::2").is_loopback());
    CHECK_FALSE(ip("::").is_loopback());
    CHECK(ip("169.254.3.4").is_link_local());
    CHECK(ip("fe80::1").is_link_local());
    CHECK(ip("febf::1").is_link_local());
    CHECK_FALSE(ip("fec0::1").is_link_local());
    CHECK(ip("224.0.0.1").is_multicast());
    CHECK(ip("239.255.255.255").is_multicast());
    CHECK_FALSE(ip("240.0.0.1").is_multicast());
    CHECK(ip("ff02::1").is_multicast());
    CHECK_FALSE(ip("fe80::1").is_multicast());
    CHECK_FALSE(ip("::ffff:0.0.0.0").is_unspecified());
    CHECK_FALSE(ip("::fffe:1.2.3.4").is_v4_mapped());
    CHECK_FALSE(ip("1.2.3.4").is_v4_mapped());
    CHECK_FALSE(ip("255.255.255.254").is_broadcast());
}

TEST_CASE("Address orders by family, then bytes; equal values hash equal")
{
    std::set<Address> s{ip("2001:db8::1"), ip("10.0.0.1"), Address{}, ip("9.0.0.1"), ip("::a00:1")};
    std::vector<std::string> order;
    for (const auto &a : s)
        order.push_back(a.to_string());
    CHECK(order == std::vector<std::string>{"", "9.0.0.1", "10.0.0.1", "::10.0.0.1", "2001:db8::1"});
    // IPv4 10.0.0.1 and IPv6 ::a00:1 share their leading bytes only in a naive layout.
    CHECK(ip("10.0.0.1") != ip("::a00:1"));
    std::unordered_set<Address> h{ip("192.0.2.1"), ip("192.0.2.1"), ip("::c000:201")};
    CHECK(h.size() == 2);
    CHECK(std::hash<Address>{}(ip("192.0.2.1")) == std::hash<Address>{}(Address::v4(0xc0000201u)));
    CHECK(fmt::format("{} {:>12}", ip("192.0.2.1"), ip("::1")) == "192.0.2.1          ::1");
    static_assert(std::is_trivially_copyable_v<Address>);
    static_assert(sizeof(Address) == 17);
}

TEST_CASE("Address text round-trips through inet_ntop for every byte pattern shape")
{
    // Runs of zeros in every position: the canonical text parses back to the same bytes.
    for (unsigned mask = 0; mask < 256; ++mask) {
        uint8_t b[16] = {};
        for (unsigned g = 0; g < 8; ++g)
            if (mask & (1u << g))
                b[g * 2 + 1] = static_cast<uint8_t>(g + 1);
        auto a = Address::from_bytes(AF_INET6, b).value();
        auto again = Address::parse(a.to_string());
        REQUIRE(again);
        CHECK(*again == a);
        CHECK(again->to_string() == a.to_string());
    }
}
