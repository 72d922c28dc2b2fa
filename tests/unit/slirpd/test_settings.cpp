// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-slirp.toml(5): defaults, a full file, and every refusal with its file:line:col.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "settings.hpp"

using namespace alopex;
using namespace alopex::slirp;

namespace {

std::string refusal(const char *text)
{
    auto s = parse_settings(text, "slirp.toml");
    REQUIRE_FALSE(s);
    return s.error().message;
}

} // namespace

TEST_CASE("slirp settings: defaults, and a file with everything", "[slirp][settings]")
{
    auto d = default_settings();
    CHECK(d.link.ipcp.local == net::Address::v4(0x0A000001));
    CHECK(d.link.ipcp.peer == net::Address::v4(0x0A000002));
    CHECK(d.link.ipcp.dns1 == d.link.ipcp.local);
    CHECK(d.link.ipcp.dns2.empty());
    CHECK(d.link.echo_interval_usec == 30'000'000);
    auto empty = parse_settings("", "slirp.toml");
    REQUIRE(empty);
    CHECK(empty->link.ipcp.dns1 == d.link.ipcp.local);

    auto s = parse_settings("[addresses]\nlocal = \"192.168.7.1\"\npeer = \"192.168.7.2\"\n"
                            "dns = [\"192.168.7.1\", \"9.9.9.9\"]\n[ppp]\nmru = 576\necho_interval = 0\n"
                            "echo_failures = 10\n",
                            "slirp.toml");
    REQUIRE(s);
    CHECK(s->source == "slirp.toml");
    CHECK(s->link.ipcp.local == net::Address::v4(0xC0A80701));
    CHECK(s->link.ipcp.peer == net::Address::v4(0xC0A80702));
    CHECK(s->link.ipcp.dns2 == net::Address::v4(0x09090909));
    CHECK(s->link.lcp.mru == 576);
    CHECK(s->link.echo_interval_usec == 0);
    CHECK(s->link.echo_failures == 10);
    auto none = parse_settings("[addresses]\ndns = []\n", "slirp.toml");
    REQUIRE(none);
    CHECK(none->link.ipcp.dns1.empty());
}

TEST_CASE("slirp settings: refusals name the file, line and column", "[slirp][settings]")
{
    CHECK_THAT(refusal("[addresses]\nlocal = \"127.0.0.1\"\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[addresses]\nlocal = \"127.0.0.1\"\n"), Catch::Contains("cannot be a virtual address"));
    CHECK_THAT(refusal("[addresses]\npeer = \"10.0.0.1\"\n"), Catch::Contains("must differ"));
    CHECK_THAT(refusal("[addresses]\npeer = \"fe80::1\"\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[addresses]\ndns = [\"10.0.0.1\", \"10.0.0.3\", \"10.0.0.4\"]\n"),
               Catch::Contains("at most 2"));
    CHECK_THAT(refusal("[addresses]\ndns = \"10.0.0.1\"\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[ppp]\nmru = 64\n"), Catch::Contains("'mru' must be 128..1500, not 64"));
    CHECK_THAT(refusal("[ppp]\necho_interval = -1\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[ppp]\necho_failures = 0\n"), Catch::Contains("echo_failures"));
    CHECK_THAT(refusal("[ppp]\nmagic = 1\n"), Catch::Contains("magic"));
    CHECK_THAT(refusal("[line]\ndevice = \"/dev/ttyGS0\"\n"), Catch::Contains("line"));
    CHECK_THAT(refusal("[addresses\n"), Catch::StartsWith("slirp.toml:1:"));
}

TEST_CASE("slirp settings: [dns] upstreams, and the nameservers of resolv.conf", "[slirp][settings]")
{
    auto s = parse_settings("[dns]\nupstreams = [\"127.0.0.1\", \"::1\"]\n", "slirp.toml");
    REQUIRE(s);
    REQUIRE(s->dns_upstreams);
    CHECK(*s->dns_upstreams == std::vector<net::Address>{net::Address::v4(0x7F000001), *net::Address::parse("::1")});
    CHECK_FALSE(parse_settings("", "slirp.toml")->dns_upstreams);   // resolv.conf's, at start
    CHECK_THAT(refusal("[dns]\nupstreams = [\"0.0.0.0\"]\n"), Catch::Contains("cannot answer"));
    CHECK_THAT(refusal("[dns]\nupstreams = [\"resolver.example\"]\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[dns]\nupstreams = [\"1.1.1.1\", \"1.0.0.1\", \"8.8.8.8\", \"9.9.9.9\"]\n"),
               Catch::Contains("at most 3"));

    auto r = parse_resolv_conf("# generated\nsearch example.com\nnameserver 192.0.2.53\n"
                               "nameserver\tfe80::1%eth0\n  nameserver 2001:db8::53  \n"
                               "nameserver 192.0.2.54 extra\nnameserver 0.0.0.0\nnameserver 192.0.2.55\n"
                               "nameserver 192.0.2.56\n");
    CHECK(r == std::vector<net::Address>{net::Address::v4(0xC0000235), *net::Address::parse("2001:db8::53"),
                                         net::Address::v4(0xC0000237)});
    CHECK(parse_resolv_conf("").empty());
    CHECK(parse_resolv_conf("nameserver").empty());
}
