// SPDX-License-Identifier: GPL-2.0-or-later
// Addresses, interface patterns, names and small values.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include "config/config.hpp"
#include "config/internal.hpp"

using namespace alopex::fwd;
using namespace alopex::fwd::config;

TEST_CASE("parse_cidr accepts networks and hosts of both families", "[cidr]")
{
    auto a = parse_cidr("192.0.2.0/24");
    REQUIRE(a);
    CHECK(a->family() == AF_INET);
    CHECK(a->length() == 24);
    CHECK(a->address().v4_number() == 0xc0000200u);
    CHECK(to_string(*a) == "192.0.2.0/24");

    auto h = parse_cidr("2001:db8::1");
    REQUIRE(h);
    CHECK(h->family() == AF_INET6);
    CHECK(h->length() == 128);
    CHECK(to_string(*h) == "2001:db8::1");

    auto n6 = parse_cidr("2001:DB8:0:0::/32");
    REQUIRE(n6);
    CHECK(to_string(*n6) == "2001:db8::/32");
    CHECK(to_string(*parse_cidr("0.0.0.0/0")) == "0.0.0.0/0");
    CHECK(to_string(*parse_cidr("::/0")) == "::/0");
    CHECK(to_string(*parse_cidr("10.0.0.1/32")) == "10.0.0.1");
}

TEST_CASE("parse_cidr refuses host bits, bad lengths and garbage", "[cidr]")
{
    auto r = parse_cidr("192.0.2.1/24");
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "'192.0.2.1/24' has host bits set (the network is 192.0.2.0/24)");
    CHECK(r.error().message.find("192.0.2.0/24") != std::string::npos);
    CHECK_FALSE(parse_cidr("2001:db8::1/32"));
    for (auto bad : {"", "/", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/024", "1.2.3.4/+8",
                     "::/129", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.0.0.0", "fe80::1%eth0",
                     "1.2.3.4/8/8", "example.com", "1.2.3.4 ", " 1.2.3.4", "@set",
                     "1.2.3.4/99999999999999999999"})
        CHECK_FALSE(parse_cidr(bad));
    std::string nul("10.0.0.0\0/8", 11);
    CHECK_FALSE(parse_cidr(nul));
    auto big = parse_cidr(std::string(10000, '1'));
    REQUIRE_FALSE(big);
    CHECK(big.error().message.size() < 200);
}

TEST_CASE("interface patterns", "[names]")
{
    for (auto ok : {"eth0", "wwan*", "*", "br-[0-9]*", "veth?", "a23456789012345", "en\\*", "[]]x"})
        CHECK(valid_interface_pattern(ok));
    for (auto bad : {"", ".", "..", "a234567890123456", "eth 0", "eth/0", "eth:0", "br-[0-9",
                     "x\\", "[]", "é", "a\tb"})
        CHECK_FALSE(valid_interface_pattern(bad));
}

TEST_CASE("enum names", "[names]")
{
    CHECK(to_string(Verdict::reject) == "reject");
    CHECK(to_string(Hook::forward) == "forward");
    CHECK(to_string(Proto::icmpv6) == "icmpv6");
}

TEST_CASE("ports, rates, names, comments", "[names]")
{
    using namespace detail;
    CHECK(parse_port_text("22") == PortRange{22, 22});
    CHECK(parse_port_text("8000-8100") == PortRange{8000, 8100});
    CHECK(parse_port_text("70000").error() == "70000 is not a port (1..65535)");
    CHECK_FALSE(parse_port_text("0"));
    CHECK_FALSE(parse_port_text("-1"));
    CHECK_FALSE(parse_port_text("100-10"));
    CHECK_FALSE(parse_port_text("1-"));
    CHECK_FALSE(parse_port_text("022"));
    CHECK_FALSE(parse_port_text("99999999999999999999999999"));
    CHECK(port_from_int(-5).error() == "-5 is not a port (1..65535)");

    auto r = parse_rate("10/second");
    REQUIRE(r);
    CHECK(r->rate == 10);
    CHECK(r->unit_s == 1);
    CHECK(parse_rate("5/minute")->unit_s == 60);
    CHECK(parse_rate("1/hour")->unit_s == 3600);
    CHECK(parse_rate("3/day")->unit_s == 86400);
    CHECK(format_rate(*parse_rate("3/day")) == "3/day");
    for (auto bad : {"/hour", "0/second", "10", "10/sec", "-1/second", "10/second/", "1e3/second",
                     "99999999999/second"})
        CHECK_FALSE(parse_rate(bad));

    CHECK(check_name("wan"));
    CHECK(check_name("a_b-C9"));
    CHECK(check_name(std::string(20, 'x')));
    CHECK_FALSE(check_name(std::string(21, 'x')));
    CHECK_FALSE(check_name(""));
    CHECK_FALSE(check_name("a.b"));
    CHECK_FALSE(check_name("zoné"));

    CHECK(check_comment("management console"));
    CHECK(check_comment("Grüße, 日本語 ✓"));
    CHECK(check_comment(std::string(127, 'c')));
    CHECK_FALSE(check_comment(std::string(128, 'c')));
    CHECK_FALSE(check_comment("a\nb"));
    CHECK_FALSE(check_comment(std::string("a\0b", 3)));
    CHECK_FALSE(check_comment("\x1b[31mred"));
    CHECK_FALSE(check_comment("\xff\xfe"));
    CHECK_FALSE(check_comment("\xc0\xaf"));            // overlong
    CHECK_FALSE(check_comment("\xed\xa0\x80"));        // surrogate
    CHECK_FALSE(check_comment("\xc2\x85"));            // C1 control (NEL)
    CHECK_FALSE(check_comment("abc\xe2\x80\xae" "def"));  // bidi override
    CHECK(check_log_prefix("ssh: "));
    CHECK_FALSE(check_log_prefix("grüß"));
}

TEST_CASE("icmp names resolve per protocol", "[names]")
{
    using namespace detail;
    CHECK(icmp_type_by_name(Proto::icmp, "echo-request") == 8);
    CHECK(icmp_type_by_name(Proto::icmpv6, "echo-request") == 128);
    CHECK(icmp_type_by_name(Proto::icmpv6, "neighbor-solicitation") == 135);
    CHECK(icmp_type_by_name(Proto::icmpv6, "packet-too-big") == 2);
    CHECK_FALSE(icmp_type_by_name(Proto::icmp, "packet-too-big"));
    CHECK(icmp_type_name(Proto::icmpv6, 135) == "nd-neighbor-solicit");
    CHECK(icmp_type_name(Proto::icmp, 8) == "echo-request");
}

TEST_CASE("normalizing CIDR lists and port lists", "[cidr]")
{
    using namespace detail;
    std::vector<alopex::net::Prefix> v;
    for (auto s : {"10.1.0.0/16", "10.0.0.0/8", "192.0.2.0/24", "192.0.2.0/24", "2001:db8::/32",
                   "2001:db8:1::/48", "10.255.0.1"})
        v.push_back(*parse_cidr(s));
    auto n = normalize_cidrs(v);
    REQUIRE(n.size() == 3);
    CHECK(to_string(n[0]) == "10.0.0.0/8");
    CHECK(to_string(n[1]) == "192.0.2.0/24");
    CHECK(to_string(n[2]) == "2001:db8::/32");

    auto p = normalize_ports({{443, 443}, {20, 30}, {22, 22}, {31, 40}, {80, 80}, {1000, 2000}, {1500, 1600}});
    REQUIRE(p.size() == 4);
    CHECK(p[0] == PortRange{20, 40});
    CHECK(p[1] == PortRange{80, 80});
    CHECK(p[2] == PortRange{443, 443});
    CHECK(p[3] == PortRange{1000, 2000});
    CHECK(normalize_ports({{65535, 65535}, {1, 65535}}) == std::vector<PortRange>{{1, 65535}});
}

TEST_CASE("host:port targets", "[cidr]")
{
    using namespace detail;
    auto a = parse_host_port("10.1.0.5:80");
    REQUIRE(a);
    CHECK(a->host.to_string() == "10.1.0.5");
    CHECK(a->port == 80);
    auto b = parse_host_port("[2001:db8::5]:80");
    REQUIRE(b);
    CHECK(b->host.family() == AF_INET6);
    CHECK(b->port == 80);
    auto c = parse_host_port("2001:db8::5");
    REQUIRE(c);
    CHECK_FALSE(c->port);
    CHECK(format_host_port(b->host, b->port) == "[2001:db8::5]:80");
    CHECK(format_host_port(a->host, a->port) == "10.1.0.5:80");
    for (auto bad : {"10.1.0.5:0", "10.1.0.5:65536", "10.1.0.5:", "10.1.0.0/24", "0.0.0.0", "::",
                     "224.0.0.1", "255.255.255.255", "[10.1.0.5]:80", "[2001:db8::5", "[2001:db8::5]80",
                     "2001:db8::5:80:x", "host:80", ""})
        CHECK_FALSE(parse_host_port(bad));
}

TEST_CASE("public name helpers", "[names]")
{
    CHECK(valid_name("public"));
    CHECK_FALSE(valid_name("pub lic"));
    CHECK(to_string(Family::ipv6) == "ipv6");
    CHECK(to_string(RejectWith::tcp_reset) == "tcp-reset");
}
