// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-dns.toml (daemons/dnsd-controller/settings.hpp): the defaults, a full file, and
// refusals at file:line:col that name the key.
#include <string>

#include <catch2/catch.hpp>

#include "settings.hpp"

using namespace alopex::dns;

namespace {

std::string refused(std::string_view text)
{
    auto r = parse_settings(text, "dns.toml");
    REQUIRE_FALSE(r);
    return r.error().message;
}

} // namespace

TEST_CASE("dns.toml: the defaults and a full file", "[dns][settings]")
{
    auto d = parse_settings("", "dns.toml");
    REQUIRE(d);
    CHECK(d->control_socket == "/run/unbound.ctl");
    CHECK(d->upstreams.empty());
    CHECK(d->serve_expired);
    CHECK(d->chunk_ms == 20);

    auto s = parse_settings(R"(
[unbound]
control_socket = "/run/alopex/unbound.ctl"
listen = ["127.0.0.1", "::1", "192.0.2.53"]
cache_min_ttl = 60
cache_max_ttl = 3600
serve_expired = false

[[upstream]]
address = "9.9.9.9"
tls_name = "dns.quad9.net"

[[upstream]]
address = "2001:db8::53"

[[upstream]]
address = "192.0.2.1"
port = 5353

[health]
interval_s = 10
timeout_ms = 500
failures = 2

[blocklist]
files = ["/etc/alopex/dns/ads.txt"]
allow = ["Good.Example.", "*.cdn.example"]
chunk_ms = 30
)",
                            "dns.toml");
    REQUIRE(s);
    CHECK(s->control_socket == "/run/alopex/unbound.ctl");
    CHECK(s->listen.size() == 3);
    CHECK(s->cache_min_ttl == 60);
    CHECK_FALSE(s->serve_expired);
    REQUIRE(s->upstreams.size() == 3);
    CHECK(s->upstreams[0].forward_addr() == "9.9.9.9@853#dns.quad9.net");
    CHECK(s->upstreams[1].forward_addr() == "2001:db8::53@53");
    CHECK(s->upstreams[2].forward_addr() == "192.0.2.1@5353");
    CHECK(s->health_interval_s == 10);
    CHECK(s->health_failures == 2);
    CHECK(s->blocklist_files.size() == 1);
    CHECK(s->allow == std::vector<std::string>{"good.example", "cdn.example"});
    CHECK(s->chunk_ms == 30);
}

TEST_CASE("dns.toml: refusals at file:line:col naming the key", "[dns][settings]")
{
    CHECK(refused("[unbound]\ncontrol_socket = \"run/x\"\n").starts_with("dns.toml:2:"));
    CHECK(refused("[unbound]\nlisten = [\"localhost\"]\n").find("listen") != std::string::npos);
    CHECK(refused("[unbound]\ncache_min_ttl = 600\ncache_max_ttl = 60\n").find("cache_max_ttl") != std::string::npos);
    CHECK(refused("[unbound]\ncache_max_ttl = 0\n").find("'cache_max_ttl' must be 1..604800") != std::string::npos);
    CHECK(refused("[[upstream]]\nport = 53\n").find("address") != std::string::npos);
    CHECK(refused("[[upstream]]\naddress = \"dns.example\"\n").starts_with("dns.toml:2:"));
    CHECK(refused("[[upstream]]\naddress = \"192.0.2.1\"\nport = 0\n").find("'port' must be 1..65535") !=
          std::string::npos);
    CHECK(refused("[[upstream]]\naddress = \"192.0.2.1\"\ntls_name = \"bad name\"\n").find("tls_name") !=
          std::string::npos);
    CHECK(refused("[[upstream]]\naddress = \"192.0.2.1\"\n[[upstream]]\naddress = \"192.0.2.1\"\n")
              .find("given twice") != std::string::npos);
    CHECK(refused("[[upstream]]\naddress = \"192.0.2.1\"\nweight = 3\n").find("weight") != std::string::npos);
    CHECK(refused("[health]\ninterval_s = 0\n").find("interval_s") != std::string::npos);
    CHECK(refused("[blocklist]\nfiles = [\"ads.txt\"]\n").find("absolute paths") != std::string::npos);
    CHECK(refused("[blocklist]\nallow = [\"a..b\"]\n").find("'allow'") != std::string::npos);
    CHECK(refused("[blocklist]\nchunk_ms = 1000\n").find("chunk_ms") != std::string::npos);
    CHECK(refused("[unknown]\n").find("unknown") != std::string::npos);
    CHECK(refused("[unbound\n").starts_with("dns.toml:1:"));
}

TEST_CASE("dns.toml: a missing file is the defaults, an unreadable one an error", "[dns][settings]")
{
    auto missing = load_settings("/nonexistent/alopex/dns.toml");
    REQUIRE(missing);
    CHECK(missing->control_socket == "/run/unbound.ctl");
    CHECK_FALSE(load_settings("/"));   // a directory
}
