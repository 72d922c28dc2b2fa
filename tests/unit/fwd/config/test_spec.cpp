// SPDX-License-Identifier: GPL-2.0-or-later
// One-line rule specs: parse_spec, format_spec and their round trip.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include "config/config.hpp"

using namespace alopex::fwd;
using namespace alopex::fwd::config;

namespace {

const Model &model()
{
    static const Model m = [] {
        auto r = parse(R"(
default_zone = "wan"
[sets]
management = ["192.0.2.0/24", "2001:db8:1::/48"]
v4 = ["198.51.100.0/24"]
v6 = ["2001:db8:2::/48"]
[zones.wan]
interfaces = ["eth0"]
[zones.lan]
interfaces = ["br-*"]
)",
                       "m.toml");
        REQUIRE(r);
        return *r;
    }();
    return m;
}

std::string err(std::string_view spec)
{
    auto r = parse_spec(spec, model());
    return r ? std::string("(accepted)") : r.error().message;
}

} // namespace

TEST_CASE("a spec becomes a rule in the default or the named zone", "[spec]")
{
    auto r = parse_spec("proto=tcp dport=80,443 saddr=192.0.2.0/24 action=accept log=yes", model());
    REQUIRE(r);
    CHECK(r->zone == "wan");
    CHECK(r->id == 0);
    CHECK(r->expires_at_us == 0);
    CHECK_FALSE(r->forward);
    REQUIRE(r->rule);
    CHECK(r->rule->proto == Proto::tcp);
    CHECK(r->rule->family == Family::ipv4);
    CHECK(r->rule->dport == std::vector<PortRange>{{80, 80}, {443, 443}});
    CHECK(r->rule->saddr.kind == AddrMatch::Kind::cidrs);
    CHECK(r->rule->verdict == Verdict::accept);
    CHECK(r->rule->log);

    auto l = parse_spec("zone=lan\tproto=udp  dport=8000-8100 saddr=@self action=drop", model());
    REQUIRE(l);
    CHECK(l->zone == "lan");
    CHECK(l->rule->saddr.kind == AddrMatch::Kind::zone);
    CHECK(l->rule->saddr.name == "lan");

    auto f = parse_spec("zone=lan proto=tcp dport=8080 to=10.1.0.5:80 saddr=@management", model());
    REQUIRE(f);
    REQUIRE(f->forward);
    CHECK_FALSE(f->rule);
    CHECK(f->forward->to.to_string() == "10.1.0.5");
    CHECK(f->forward->to_port == 80);
    CHECK(f->forward->saddr.name == "management");
}

TEST_CASE("spec errors name the key", "[spec]")
{
    CHECK(err("proto=tcp dport=70000 action=accept") == "dport: 70000 is not a port (1..65535)");
    CHECK(err("proto=tcp dport=-1 action=accept") == "dport: -1 is not a port (1..65535)");
    CHECK(err("proto=tcp dport=0 action=accept") == "dport: 0 is not a port (1..65535)");
    CHECK(err("proto=tcp dport=22,,80 action=accept") == "dport: empty list element");
    CHECK(err("proto=tcp dport=22, action=accept") == "dport: empty list element");
    CHECK(err("zone=x action=accept") == "zone: no zone 'x'");
    CHECK(err("saddr=@y action=accept") == "saddr: no set 'y'");
    CHECK(err("saddr=@zone:y action=accept") == "saddr: no zone 'y'");
    CHECK(err("saddr=192.0.2.1/24 action=accept") ==
          "saddr: '192.0.2.1/24' has host bits set (the network is 192.0.2.0/24)");
    CHECK(err("saddr=not-an-address action=accept") ==
          "saddr: 'not-an-address' is not an IPv4 or IPv6 address or network");
    CHECK(err("action=accept comment=hello") ==
          "comment: not part of a spec (the comment is a separate argument)");
    CHECK(err("action=accept action=drop") == "action: given twice");
    CHECK(err("action=accept bogus=1") == "bogus: unknown key in a rule");
    CHECK(err("proto=tcp dport=80 to=10.0.0.1 action=accept") == "action: unknown key in a port forward");
    CHECK(err("proto=tcp") == "action: missing (accept, drop, reject or log)");
    CHECK(err("") == "spec: empty");
    CHECK(err("   \t ") == "spec: empty");
    CHECK(err("action") == "spec: 'action' is not a key=value word");
    CHECK(err("=accept") == "spec: '=accept' is not a key=value word");
    CHECK(err("action=") == "action: empty value");
    CHECK(err("ACTION=accept").starts_with("spec:"));
    CHECK(err(std::string_view("action=accept\0 proto=tcp", 24)).starts_with("spec: must not hold control"));
    CHECK(err("action=accept\nproto=tcp").starts_with("spec: must not hold control"));
    CHECK(err(std::string(4097, ' ')) == "spec: longer than 4096 bytes");
    CHECK(err("action=accept log_prefix=\"unterminated") == "log_prefix: unterminated quote");
    CHECK(err("action=accept log_prefix=a\"b") == "log_prefix: a quote or backslash inside an unquoted value");
    CHECK(err("action=accept log_prefix=\"a\\nb\"").starts_with("log_prefix: only"));
    CHECK(err("action=accept log_prefix=\"ab\"c") == "log_prefix: text after the closing quote");
    CHECK(err("action=accept log=maybe") == "log: 'maybe' is not yes or no");
    CHECK(err("action=accept limit=10/second burst=x") == "burst: 'x' is not a number");
    CHECK(err("action=accept limit=10/second burst=0").starts_with("burst:"));
    CHECK(err("action=accept counter=2") == "counter: '2' is not yes or no");
    CHECK(err("family=ipv6 saddr=192.0.2.0/24 action=accept").starts_with("saddr: 192.0.2.0/24 is IPv4"));
    CHECK(err("family=ipv6 proto=icmp action=accept").starts_with("family: ipv6 does not fit proto icmp"));
    CHECK(err("saddr=@v4 daddr=@v6 action=accept").starts_with("daddr: IPv6 only"));
    CHECK(err("saddr=@management,10.0.0.0/8 action=accept").find("must be the only value") != std::string::npos);
    CHECK(err("proto=tcp dport=80-90 to=10.0.0.1:80") ==
          "to: a single target port needs a single dport (a range maps to the same ports)");
    CHECK(err("proto=tcp dport=80,81 to=10.0.0.1") == "dport: a port forward takes one port or one range");
    CHECK(err("proto=tcp to=10.0.0.1") == "dport: missing (a port or a first-last range)");
    CHECK(err("proto=icmp dport=1 to=10.0.0.1") == "proto: a port forward is tcp or udp");
    CHECK(err("dport=1 to=10.0.0.1") == "proto: missing (tcp or udp)");
    CHECK(err("proto=tcp dport=1 to=10.0.0.0/24").starts_with("to: 10.0.0.0/24: a host address"));
    CHECK(err("proto=tcp dport=1 to=[2001:db8::1]:80 saddr=192.0.2.0/24").starts_with("saddr: 192.0.2.0/24 is IPv4"));
    CHECK(err("proto=tcp dport=99999999999999999999999 action=accept").starts_with("dport:"));
    CHECK(err("proto=icmp icmp_type=300 action=accept").starts_with("icmp_type:"));
    CHECK(err("proto=icmp icmp_type=neighbor-solicitation action=accept").starts_with("icmp_type:"));
    CHECK(err("action=accept zone=\xc3\xa9") == "zone: no zone '\\xc3\\xa9'");
    CHECK(err("action=accept saddr=\xff\xfe") == "saddr: '\\xff\\xfe' is not an IPv4 or IPv6 address or network");
}

TEST_CASE("parse_spec without a default zone needs zone=", "[spec]")
{
    auto m = parse("[zones.a]\n", "m.toml");
    REQUIRE(m);
    auto r = parse_spec("action=accept", *m);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "zone: missing (the configuration has no default_zone)");
    CHECK(parse_spec("zone=a action=accept", *m));
}

TEST_CASE("format_spec is canonical and parse_spec reads it back", "[spec]")
{
    struct Case {
        const char *in, *canonical;
    };
    const Case cases[] = {
        {"action=accept", "zone=wan action=accept"},
        {"proto=tcp dport=443,80,22 action=accept", "zone=wan proto=tcp dport=22,80,443 action=accept"},
        {"proto=tcp dport=8000-8100,8050 sport=1024-65535 action=drop",
         "zone=wan proto=tcp dport=8000-8100 sport=1024-65535 action=drop"},
        {"saddr=192.0.2.0/24,198.51.100.0/24 action=accept",
         "zone=wan family=ipv4 saddr=192.0.2.0/24,198.51.100.0/24 action=accept"},
        {"saddr=2001:DB8::/32,192.0.2.7 action=accept", "zone=wan saddr=192.0.2.7,2001:db8::/32 action=accept"},
        {"zone=lan saddr=@self daddr=@zone:wan hook=forward action=reject",
         "zone=lan hook=forward saddr=@self daddr=@zone:wan action=reject"},
        {"saddr=@zone:wan action=accept", "zone=wan saddr=@self action=accept"},
        {"saddr=@management action=accept", "zone=wan saddr=@management action=accept"},
        {"proto=icmp icmp_type=ping,0,3 action=accept",
         "zone=wan family=ipv4 proto=icmp icmp_type=echo-reply,destination-unreachable,echo-request action=accept"},
        {"proto=icmpv6 icmp_type=neighbor-solicitation,200 action=accept",
         "zone=wan family=ipv6 proto=icmpv6 icmp_type=nd-neighbor-solicit,200 action=accept"},
        {"ct_state=established,new action=accept", "zone=wan ct_state=new,established action=accept"},
        {"proto=tcp action=reject reject_with=tcp-reset", "zone=wan proto=tcp action=reject reject_with=tcp-reset"},
        {"action=reject reject_with=port-unreachable", "zone=wan action=reject"},
        {"action=log log_prefix=\"ssh probe: \" log_limit=5/minute",
         "zone=wan action=log log_prefix=\"ssh probe: \" log_limit=5/minute"},
        {"action=drop log_prefix=x", "zone=wan action=drop log=yes log_prefix=x"},
        {"action=drop log=no", "zone=wan action=drop"},
        {"action=accept limit=10/second burst=20 counter=no",
         "zone=wan action=accept limit=10/second burst=20 counter=no"},
        {"action=accept limit=3/day burst=5", "zone=wan action=accept limit=3/day"},
        {"family=ipv6 action=accept", "zone=wan family=ipv6 action=accept"},
        {"hook=output proto=udp dport=53 daddr=@v4 action=accept",
         "zone=wan proto=udp hook=output dport=53 daddr=@v4 action=accept"},
        {"proto=tcp dport=8080 to=10.1.0.5:80", "zone=wan proto=tcp dport=8080 to=10.1.0.5:80"},
        {"zone=lan proto=udp dport=5000-5010 to=[2001:db8::5] saddr=@management",
         "zone=lan proto=udp dport=5000-5010 to=2001:db8::5 saddr=@management"},
        {"proto=tcp dport=443 to=[2001:db8::5]:8443", "zone=wan proto=tcp dport=443 to=[2001:db8::5]:8443"},
        {"log_prefix=\"a \\\"q\\\" \\\\ b\" action=log", "zone=wan action=log log_prefix=\"a \\\"q\\\" \\\\ b\""},
    };
    for (auto &c : cases) {
        INFO(c.in);
        auto r = parse_spec(c.in, model());
        REQUIRE(r);
        auto text = format_spec(*r);
        CHECK(text == c.canonical);
        auto back = parse_spec(text, model());
        REQUIRE(back);
        CHECK(*back == *r);
        CHECK(format_spec(*back) == text);
    }
}

TEST_CASE("format_rule of configured rules reads back (without the comment)", "[spec]")
{
    auto m = parse(R"(
[sets]
s = ["10.0.0.0/8"]
[zones.z]
[[zones.z.rules]]
proto = "tcp"
dport = [22, "8000-8100"]
saddr = "@s"
action = "accept"
comment = "not in the spec"
log_prefix = "has spaces, commas = and \"quotes\""
[[zones.z.forwards]]
proto = "udp"
dport = 53
to = "10.0.0.53"
comment = "dns"
)",
                   "m.toml");
    REQUIRE(m);
    auto &z = m->zones.at("z");
    auto r = parse_spec(format_rule("z", z.rules[0]), *m);
    REQUIRE(r);
    Rule want = z.rules[0];
    want.comment.clear();
    CHECK(*r->rule == want);
    auto f = parse_spec(format_forward("z", z.forwards[0]), *m);
    REQUIRE(f);
    CHECK(f->forward->dport == z.forwards[0].dport);
    CHECK(f->forward->to == z.forwards[0].to);
    CHECK(f->forward->comment.empty());
}

TEST_CASE("a spec of exactly 4096 bytes is read", "[spec]")
{
    std::string spec = "proto=tcp action=accept dport=1";
    for (int p = 2; spec.size() < 4080; ++p)
        spec += fmt::format(",{}", p * 2);
    spec.resize(spec.find_last_of(','));
    spec += std::string(4096 - spec.size(), ' ');
    REQUIRE(spec.size() == 4096);
    auto r = parse_spec(spec, model());
    REQUIRE(r);
    CHECK(r->rule->dport.size() > 500);
    auto back = parse_spec(format_spec(*r), model());
    REQUIRE(back);
    CHECK(*back == *r);
}
