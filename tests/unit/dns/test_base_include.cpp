// SPDX-License-Identifier: GPL-2.0-or-later
// The unbound include dnsd-controller owns (daemons/dnsd-controller/base_include.hpp):
// what it says for the defaults, for DNS-over-TLS upstreams and with dnstap, and that
// the broker's unbound validator (what WriteManagedFile will let through) accepts it.
#include <string>

#include <catch2/catch.hpp>

#include "base_include.hpp"
#include "block_validator.hpp"

using namespace alopex;
using namespace alopex::dns;

namespace {

bool has(const std::string &text, std::string_view line) { return text.find(line) != std::string::npos; }

} // namespace

TEST_CASE("the base include: defaults, plain and TLS upstreams, dnstap; the broker takes it", "[dns]")
{
    auto d = base_include(*parse_settings("", "dns.toml"));
    CHECK(has(d, "server:\n    interface: 127.0.0.1\n    interface: ::1\n"));
    CHECK(has(d, "    access-control: 127.0.0.1/32 allow\n    access-control: ::1/128 allow\n"));
    CHECK(has(d, "    serve-expired: yes\n"));
    CHECK(has(d, "    extended-statistics: yes\n"));
    CHECK_FALSE(has(d, "forward-zone"));   // no upstream: unbound resolves itself
    CHECK_FALSE(has(d, "tls-upstream"));
    CHECK(broker::validate_block(broker::Validator::unbound, d));

    auto s = parse_settings("[unbound]\nlisten = [\"192.0.2.53\"]\ncache_max_ttl = 3600\nserve_expired = false\n"
                            "[[upstream]]\naddress = \"9.9.9.9\"\ntls_name = \"dns.quad9.net\"\n"
                            "[[upstream]]\naddress = \"2001:db8::53\"\n",
                            "dns.toml");
    REQUIRE(s);
    auto t = base_include(*s, "/run/alopex/dns/dnstap.sock");
    CHECK(has(t, "    interface: 192.0.2.53\n    access-control: 192.0.2.53/32 allow\n"));
    CHECK(has(t, "    cache-max-ttl: 3600\n"));
    CHECK(has(t, "    serve-expired: no\n"));
    CHECK(has(t, "    tls-upstream: yes\n    tls-cert-bundle: \"/etc/ssl/certs/ca-certificates.crt\"\n"));
    CHECK(has(t, "forward-zone:\n    name: \".\"\n    forward-addr: 9.9.9.9@853#dns.quad9.net\n"
                 "    forward-addr: 2001:db8::53@53\n    forward-tls-upstream: yes\n"));
    CHECK(has(t, "dnstap:\n    dnstap-enable: yes\n    dnstap-socket-path: \"/run/alopex/dns/dnstap.sock\"\n"));
    auto v = broker::validate_block(broker::Validator::unbound, t);
    INFO((v ? std::string() : v.error().message));
    CHECK(v);
}
