// SPDX-License-Identifier: GPL-2.0-or-later
// linkd.toml: defaults, every key, and hostile input refused with file:line:col.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "settings.hpp"

using namespace alopex::linkd;
using namespace std::chrono_literals;

namespace {

std::string refusal(std::string_view text)
{
    auto r = parse_settings(text, "linkd.toml");
    REQUIRE_FALSE(r);
    return r.error().message;
}

} // namespace

TEST_CASE("linkd.toml: an empty file gives every default, probing off")
{
    auto r = parse_settings("", "linkd.toml");
    REQUIRE(r);
    CHECK_FALSE(r->probe);
    CHECK(r->interval == 300s);
    CHECK(r->timeout == 5s);
    CHECK(r->receive_buffer == 8 << 20);
    CHECK(r->source == "linkd.toml");
    auto e = parse_settings("[connectivity]\n[netlink]\n", "x");
    REQUIRE(e);
    CHECK_FALSE(e->probe);
}

TEST_CASE("linkd.toml: every key")
{
    auto r = parse_settings(R"(# comment
[connectivity]
probe = "192.0.2.1:443"
interval = 5
timeout = 60
[netlink]
receive_buffer = 4096
)", "linkd.toml");
    REQUIRE(r);
    REQUIRE(r->probe);
    CHECK(r->probe->address.family() == AF_INET);
    CHECK(r->probe->port == 443);
    CHECK(r->probe->to_string() == "192.0.2.1:443");
    CHECK(r->interval == 5s);
    CHECK(r->timeout == 60s);
    CHECK(r->receive_buffer == 4096);

    auto v6 = parse_settings("[connectivity]\nprobe = \"[2001:DB8::1]:80\"\ninterval = 86400\n"
                             "timeout = 1\n[netlink]\nreceive_buffer = 1073741824\n", "f");
    REQUIRE(v6);
    REQUIRE(v6->probe);
    CHECK(v6->probe->address.family() == AF_INET6);
    CHECK(v6->probe->to_string() == "[2001:db8::1]:80");
    CHECK(v6->receive_buffer == 1 << 30);
    // An empty probe is "off", like a missing one.
    auto off = parse_settings("[connectivity]\nprobe = \"\"\n", "f");
    REQUIRE(off);
    CHECK_FALSE(off->probe);
}

TEST_CASE("linkd.toml: values out of range are refused at their position")
{
    CHECK(refusal("[connectivity]\ninterval = 4\n").starts_with("linkd.toml:2:"));
    CHECK_THAT(refusal("[connectivity]\ninterval = 4\n"), Catch::Contains("5..86400"));
    CHECK_THAT(refusal("[connectivity]\ninterval = 86401\n"), Catch::Contains("interval"));
    CHECK_THAT(refusal("[connectivity]\ntimeout = 0\n"), Catch::Contains("1..60"));
    CHECK_THAT(refusal("[connectivity]\ntimeout = 61\n"), Catch::Contains("timeout"));
    CHECK_THAT(refusal("[connectivity]\ntimeout = -9223372036854775808\n"), Catch::Contains("timeout"));
    CHECK_THAT(refusal("\n\n[netlink]\nreceive_buffer = 4095\n"), Catch::StartsWith("linkd.toml:4:"));
    CHECK_THAT(refusal("[netlink]\nreceive_buffer = 1073741825\n"), Catch::Contains("receive_buffer"));
    CHECK_THAT(refusal("[netlink]\nreceive_buffer = 9223372036854775807\n"), Catch::Contains("receive_buffer"));
}

TEST_CASE("linkd.toml: unknown sections and keys, wrong types, bad syntax")
{
    CHECK_THAT(refusal("[conectivity]\n"), Catch::Contains("unknown key 'conectivity'"));
    CHECK_THAT(refusal("[connectivity]\nprobe = \"192.0.2.1:1\"\nhost = \"x\"\n"),
               Catch::StartsWith("linkd.toml:3:") && Catch::Contains("unknown key 'host'"));
    CHECK_THAT(refusal("[netlink]\nreceive_buffer = \"8M\"\n"), Catch::StartsWith("linkd.toml:2:"));
    CHECK_THAT(refusal("[netlink]\nreceive_buffer = 4096.0\n"), Catch::Contains("receive_buffer"));
    CHECK_THAT(refusal("[connectivity]\nprobe = 443\n"), Catch::Contains("probe"));
    CHECK_THAT(refusal("[connectivity]\ninterval = true\n"), Catch::Contains("interval"));
    CHECK_THAT(refusal("connectivity = 1\n"), Catch::Contains("connectivity"));
    CHECK_THAT(refusal("[[connectivity]]\n"), Catch::Contains("connectivity"));
    CHECK_THAT(refusal("[connectivity\n"), Catch::StartsWith("linkd.toml:1:"));
    CHECK_THAT(refusal("[connectivity]\nprobe = \"192.0.2.1:443\"\nprobe = \"192.0.2.2:443\"\n"),
               Catch::StartsWith("linkd.toml:3:"));
    CHECK_THAT(refusal(std::string_view("[connectivity]\nprobe = \"1\0\"\n", 27)),
               Catch::StartsWith("linkd.toml:"));
}

TEST_CASE("probe endpoints: IP literals only, with a port")
{
    auto ok = [](std::string_view s) { return parse_endpoint(s).has_value(); };
    auto why = [](std::string_view s) {
        auto r = parse_endpoint(s);
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK(ok("192.0.2.1:443"));
    CHECK(ok("10.0.0.1:1"));
    CHECK(ok("10.0.0.1:65535"));
    CHECK(ok("[2001:db8::1]:443"));
    CHECK(ok("[::ffff:192.0.2.1]:443"));
    CHECK(parse_endpoint("10.0.0.1:00080")->port == 80);

    CHECK_THAT(why("example.com:443"), Catch::Contains("host names are not accepted"));
    CHECK_THAT(why("192.0.2.1"), Catch::Contains("port is required"));
    CHECK_THAT(why("192.0.2.1:"), Catch::Contains("port"));
    CHECK_THAT(why("192.0.2.1:0"), Catch::Contains("1..65535"));
    CHECK_THAT(why("192.0.2.1:65536"), Catch::Contains("1..65535"));
    CHECK_THAT(why("192.0.2.1:999999"), Catch::Contains("port"));
    CHECK_THAT(why("192.0.2.1:+80"), Catch::Contains("port"));
    CHECK_THAT(why("192.0.2.1:-1"), Catch::Contains("port"));
    CHECK_THAT(why("192.0.2.1:8 0"), Catch::Contains("port"));
    CHECK_THAT(why("192.0.2.1 :80"), Catch::Contains("not an IPv4 address"));
    CHECK_THAT(why("0300.0.0.1:80"), Catch::Contains("not an IPv4 address"));   // no octal
    CHECK_THAT(why("10.1:80"), Catch::Contains("not an IPv4 address"));         // no short forms
    CHECK_THAT(why("256.0.0.1:80"), Catch::Contains("not an IPv4 address"));
    CHECK_THAT(why("2001:db8::1:443"), Catch::Contains("brackets"));
    CHECK_THAT(why("[2001:db8::1]443"), Catch::Contains("port must follow"));
    CHECK_THAT(why("[2001:db8::1:443"), Catch::Contains("without ']'"));
    CHECK_THAT(why("[fe80::1%eth0]:443"), Catch::Contains("zone"));
    CHECK_THAT(why("[192.0.2.1]:443"), Catch::Contains("not an IPv6 address"));
    CHECK_THAT(why("[]:443"), Catch::Contains("not an IPv6 address"));
    CHECK_THAT(why(""), Catch::Contains("port is required"));
    CHECK_THAT(why(std::string(65, '1')), Catch::Contains("too long"));
    CHECK_THAT(why(std::string_view("1.2.3.4\0:80", 11)), Catch::Contains("NUL"));

    CHECK_THAT(why("0.0.0.0:80"), Catch::Contains("unspecified"));
    CHECK_THAT(why("127.0.0.1:80"), Catch::Contains("loopback"));
    CHECK_THAT(why("127.255.0.1:80"), Catch::Contains("loopback"));
    CHECK_THAT(why("224.0.0.1:80"), Catch::Contains("multicast"));
    CHECK_THAT(why("240.0.0.1:80"), Catch::Contains("reserved"));
    CHECK_THAT(why("255.255.255.255:80"), Catch::Contains("broadcast"));
    CHECK_THAT(why("[::]:80"), Catch::Contains("unspecified"));
    CHECK_THAT(why("[::1]:80"), Catch::Contains("loopback"));
    CHECK_THAT(why("[ff02::1]:80"), Catch::Contains("multicast"));
    CHECK_THAT(why("[::ffff:127.0.0.1]:80"), Catch::Contains("loopback"));
}

TEST_CASE("load_settings: a missing file gives the defaults; errors name the file")
{
    char tmpl[] = "/tmp/linkd-settings-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    std::filesystem::path dir(tmpl);
    auto missing = load_settings(dir / "linkd.toml");
    REQUIRE(missing);
    CHECK(*missing == Settings{});

    {
        std::ofstream f(dir / "linkd.toml");
        f << "[connectivity]\nprobe = \"192.0.2.7:22\"\n\n[netlink]\nreceive_buffer = 100\n";
    }
    auto bad = load_settings(dir / "linkd.toml");
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::StartsWith((dir / "linkd.toml").string() + ":5:"));

    {
        std::ofstream f(dir / "linkd.toml");
        f << "[connectivity]\nprobe = \"192.0.2.7:22\"\n";
    }
    auto good = load_settings(dir / "linkd.toml");
    REQUIRE(good);
    CHECK(good->probe->to_string() == "192.0.2.7:22");
    CHECK(good->source == (dir / "linkd.toml").string());

    // A directory where the file should be is an error, not "defaults".
    std::filesystem::remove(dir / "linkd.toml");
    std::filesystem::create_directory(dir / "linkd.toml");
    CHECK_FALSE(load_settings(dir / "linkd.toml"));
    std::filesystem::remove_all(dir);
}
