// SPDX-License-Identifier: GPL-2.0-or-later
// The unbound validator (daemons/brokerd/unbound_validator.hpp): the include
// dnsd-controller writes passes; every way to make unbound (as root, before it drops
// privileges) run code, read a file or move is refused, naming the line.
#include <string>

#include <catch2/catch.hpp>

#include "block_validator.hpp"
#include "validator_test.hpp"

using namespace alopex;
using namespace alopex::broker;

namespace {

std::string refusal(std::string_view text) { return test::refusal(Validator::unbound, text); }

} // namespace

TEST_CASE("the unbound validator is named in broker.toml")
{
    CHECK(validator_from_string("unbound") == Validator::unbound);
    CHECK(to_string(Validator::unbound) == "unbound");
}

TEST_CASE("what dnsd-controller writes passes")
{
    auto r = validate_block(Validator::unbound, R"(# written by alopex-dnsd-controller
server:
    interface: 127.0.0.1
    interface: ::1
    access-control: 127.0.0.0/8 allow
    access-control: ::1/128 allow
    cache-min-ttl: 0
    cache-max-ttl: 86400
    serve-expired: yes
    extended-statistics: yes
    tls-upstream: yes
    tls-cert-bundle: "/etc/ssl/certs/ca-certificates.crt"
    local-zone: "ads.example." always_nxdomain
    local-zone: ok.ads.example transparent

forward-zone:
    name: "."
    forward-addr: 9.9.9.9@853#dns.quad9.net
    forward-addr: 2001:db8::53
    forward-tls-upstream: yes

dnstap:
    dnstap-enable: yes
    dnstap-socket-path: "/run/alopex/dns/dnstap.sock"
    dnstap-log-client-query-messages: yes   # comment
)");
    CHECK(r);
}

TEST_CASE("code, files and moves are refused")
{
    CHECK(refusal("server:\n  module-config: \"python iterator\"\n").find("line 2: 'module-config'") !=
          std::string::npos);
    CHECK(refusal("python:\n  python-script: /tmp/x.py\n").find("line 1: the clause 'python'") != std::string::npos);
    CHECK(refusal("include: /etc/shadow\n").find("line 1:") != std::string::npos);
    CHECK(refusal("server:\n  include: /etc/shadow\n").find("'include'") != std::string::npos);
    for (const char *line : {"  chroot: \"\"", "  directory: /", "  username: root", "  pidfile: /etc/passwd",
                             "  logfile: /etc/passwd", "  auto-trust-anchor-file: /etc/shadow",
                             "  tls-service-key: /etc/shadow", "  so-sndbuf: 8m", "  port: 54"})
        refusal(std::string("server:\n") + line + "\n");
    refusal("remote-control:\n  control-interface: 0.0.0.0\n");
    refusal("  interface: 127.0.0.1\n");   // before any clause
}

TEST_CASE("values are checked")
{
    refusal("server:\n  interface: localhost\n");
    refusal("server:\n  access-control: 0.0.0.0/0 allow_setrd\n");
    refusal("server:\n  access-control: 10.0.0.1/8 allow\n");   // host bits
    refusal("server:\n  cache-max-ttl: -1\n");
    refusal("server:\n  serve-expired: maybe\n");
    refusal("server:\n  tls-cert-bundle: /etc/shadow\n");
    refusal("server:\n  local-zone: \".\" always_nxdomain\n");   // the root
    refusal("server:\n  local-zone: \"a.example.\" redirect\n");
    refusal("server:\n  local-zone: \"a..example.\" always_nxdomain\n");
    refusal("forward-zone:\n  forward-addr: dns.example\n");
    refusal("forward-zone:\n  forward-addr: 192.0.2.1@0\n");
    refusal("forward-zone:\n  forward-addr: 192.0.2.1#bad..name\n");
    refusal("dnstap:\n  dnstap-socket-path: /tmp/dnstap.sock\n");
    refusal("dnstap:\n  dnstap-socket-path: /run/alopex/../unbound.ctl\n");
    refusal("server:\n  local-zone: \"a.example.\" always_nxdomain\\\n");
    refusal(std::string("server:\n  serve-expired: yes\x01\n"));
    refusal("server:\n  just words\n");
}
