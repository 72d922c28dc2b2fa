// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl fw ...`: argument parsing to the exact AddRule arguments, durations, and the
// output formats of canned property values, without a bus.
#include <limits>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "fw_cmd.hpp"
#include "render.hpp"

using namespace alopexctl;
using Op = FwRequest::Op;
namespace fw1 = alopex::ipc::firewall1;
using namespace alopex::test;

namespace {

alopex::Result<FwRequest> parse(std::vector<std::string_view> w) { return parse_fw_args(w); }

std::string spec_of(std::vector<std::string_view> w)
{
    auto r = parse(w);
    if (!r)
        FAIL("refused: " << r.error().message);
    CHECK(r->op == Op::add);
    return r->spec;
}

std::string error_of(std::vector<std::string_view> w)
{
    auto r = parse(w);
    REQUIRE_FALSE(r);
    return r.error().message;
}

constexpr uint64_t now = 1'700'000'000'000'000;   // CLOCK_REALTIME µs

fw1::State sample()
{
    fw1::State s;
    s.zones = {{"wan", {"eth0", "wwan*"}, "drop", "drop", "accept", true},
               {"lan", {"br-lan"}, "accept", "accept", "accept", false},
               {"dmz", {}, "reject", "drop", "accept", false}};
    s.rules = {{"wan", "zone=wan proto=tcp dport=22,9090 saddr=@management action=accept", "management console"},
               {"wan", "zone=wan proto=icmp icmp_type=echo-request action=accept", ""}};
    s.interfaces = {{"eth0", "wan"}, {"wwan0", "wan"}, {"br-lan", "lan"}};
    s.zone_addresses = {{"wan", {"192.0.2.10", "2001:db8::10"}}, {"lan", {"10.1.0.1"}}};
    s.panic = false;
    s.default_zone = "wan";
    s.generation = 42;
    s.latency = {{100, 10}, {250, 80}, {1000, 9}, {std::numeric_limits<uint64_t>::max(), 1}};
    return s;
}

std::vector<fw1::RuntimeRuleInfo> sample_runtime()
{
    return {{7, "wan", "zone=wan proto=tcp dport=80 action=accept", "goal-456", now + 3552'000'000, "element"},
            {9, "lan", "zone=lan proto=tcp dport=8080 to=10.1.0.5:80", "", 0, "rule"}};
}

} // namespace

TEST_CASE("alopexctl fw: its options anywhere, also before the words")
{
    auto r = parse({"--comment", "x", "allow", "tcp", "80", "--from", "192.0.2.0/24", "--expires=1h"});
    REQUIRE(r);
    CHECK(r->spec == "proto=tcp dport=80 saddr=192.0.2.0/24 action=accept");
    CHECK(r->comment == "x");
    CHECK(r->expires_s == 3600);
}

TEST_CASE("alopexctl fw: read-only and simple subcommands")
{
    CHECK(parse({})->op == Op::status);
    CHECK(parse({"status"})->op == Op::status);
    CHECK(parse({"zones"})->op == Op::zones);
    CHECK(parse({"rules"})->op == Op::rules);
    CHECK(parse({"counters"})->op == Op::counters);
    CHECK(parse({"reload"})->op == Op::reload);
    auto rm = parse({"remove", "18446744073709551615"});
    REQUIRE(rm);
    CHECK(rm->op == Op::remove);
    CHECK(rm->id == 18446744073709551615u);
    CHECK(parse({"panic", "on"})->on);
    CHECK_FALSE(parse({"panic", "off"})->on);
    auto sz = parse({"set-zone", "eth1", "dmz"});
    REQUIRE(sz);
    CHECK(sz->op == Op::set_zone);
    CHECK(sz->interface_name == "eth1");
    CHECK(sz->zone == "dmz");
    CHECK(parse({"set-zone", "eth1", "-"})->zone.empty());
    CHECK(parse({"set-zone", "eth1", ""})->zone.empty());
}

TEST_CASE("alopexctl fw allow/deny/forward: the exact spec, expiry and comment sent")
{
    CHECK(spec_of({"allow", "tcp", "80"}) == "proto=tcp dport=80 action=accept");
    CHECK(spec_of({"allow", "tcp", "80", "--from", "192.0.2.0/24"}) ==
          "proto=tcp dport=80 saddr=192.0.2.0/24 action=accept");
    CHECK(spec_of({"allow", "udp", "53,5353,60000-61000", "--zone", "lan"}) ==
          "zone=lan proto=udp dport=53,5353,60000-61000 action=accept");
    CHECK(spec_of({"allow", "tcp", "22", "--from=@management", "--zone=wan"}) ==
          "zone=wan proto=tcp dport=22 saddr=@management action=accept");
    CHECK(spec_of({"allow", "tcp", "443", "--from", "192.0.2.0/24,2001:db8::/32,198.51.100.7"}) ==
          "proto=tcp dport=443 saddr=192.0.2.0/24,2001:db8::/32,198.51.100.7 action=accept");
    CHECK(spec_of({"allow", "tcp", "443", "--from", "any"}) == "proto=tcp dport=443 action=accept");
    CHECK(spec_of({"allow", "tcp", "8080-8080"}) == "proto=tcp dport=8080 action=accept");
    CHECK(spec_of({"allow", "icmp", "echo-request"}) == "proto=icmp icmp_type=echo-request action=accept");
    CHECK(spec_of({"allow", "icmpv6", "echo-request,128"}) == "proto=icmpv6 icmp_type=echo-request,128 action=accept");
    CHECK(spec_of({"allow", "icmp"}) == "proto=icmp action=accept");
    CHECK(spec_of({"allow", "any", "--from", "10.0.0.0/8"}) == "proto=any saddr=10.0.0.0/8 action=accept");
    CHECK(spec_of({"deny", "tcp", "23"}) == "proto=tcp dport=23 action=drop");
    CHECK(spec_of({"deny", "tcp", "23", "--reject"}) == "proto=tcp dport=23 action=reject");
    CHECK(spec_of({"forward", "tcp", "8080", "--to", "10.1.0.5:80", "--zone", "wan"}) ==
          "zone=wan proto=tcp dport=8080 to=10.1.0.5:80");
    CHECK(spec_of({"forward", "udp", "5000", "--to", "10.1.0.5", "--from", "@partners"}) ==
          "proto=udp dport=5000 saddr=@partners to=10.1.0.5");
    CHECK(spec_of({"forward", "tcp", "8443", "--to", "[2001:db8::5]:443"}) ==
          "proto=tcp dport=8443 to=[2001:db8::5]:443");
    CHECK(spec_of({"forward", "tcp", "8443", "--to", "2001:db8::5"}) == "proto=tcp dport=8443 to=2001:db8::5");
    CHECK(spec_of({"forward", "tcp", "8443", "--to", "[2001:db8::5]"}) == "proto=tcp dport=8443 to=2001:db8::5");

    auto full = parse({"allow", "tcp", "80", "--expires", "1h", "--comment", "goal-456: web for an hour"});
    REQUIRE(full);
    CHECK(full->spec == "proto=tcp dport=80 action=accept");
    CHECK(full->expires_s == 3600);
    CHECK(full->comment == "goal-456: web for an hour");
    auto never = parse({"allow", "tcp", "80"});
    CHECK(never->expires_s == 0);
    CHECK(never->comment.empty());
    CHECK(parse({"forward", "tcp", "80", "--to", "10.0.0.1", "--expires=90"})->expires_s == 90);
    // A comment that looks like an option, after "--" or inline.
    CHECK(parse({"allow", "tcp", "80", "--comment=--zone"})->comment == "--zone");
}

TEST_CASE("alopexctl fw: bad arguments are refused locally, naming the word")
{
    CHECK(error_of({"frobnicate"}) == "fw: unknown subcommand 'frobnicate' (status, zones, rules, allow, deny, forward, "
                                      "remove, panic, reload, counters or set-zone)");
    CHECK(error_of({"status", "now"}) == "fw status: unexpected argument 'now'");
    CHECK(error_of({"allow"}) == "fw allow: missing protocol (tcp, udp, icmp, icmpv6 or any)");
    CHECK(error_of({"allow", "sctp", "80"}) == "fw allow: unknown protocol 'sctp' (tcp, udp, icmp, icmpv6 or any)");
    CHECK(error_of({"allow", "tcp"}) == "fw allow tcp: missing port");
    CHECK(error_of({"allow", "tcp", "0"}) == "fw allow tcp: not a port (1-65535): '0'");
    CHECK(error_of({"allow", "tcp", "65536"}) == "fw allow tcp: not a port (1-65535): '65536'");
    CHECK(error_of({"allow", "tcp", "http"}) == "fw allow tcp: not a port (1-65535): 'http'");
    CHECK(error_of({"allow", "tcp", "80,"}) == "fw allow tcp: empty port in '80,'");
    CHECK(error_of({"allow", "tcp", ""}) == "fw allow tcp: empty port in ''");
    CHECK(error_of({"allow", "tcp", "80-"}) == "fw allow tcp: not a port range (FIRST-LAST, 1-65535): '80-'");
    CHECK(error_of({"allow", "tcp", "1-2-3"}) == "fw allow tcp: not a port range (FIRST-LAST, 1-65535): '1-2-3'");
    CHECK(error_of({"allow", "tcp", "-5"}) == "fw allow tcp: not a port range (FIRST-LAST, 1-65535): '-5'");
    CHECK(error_of({"allow", "tcp", "+5"}) == "fw allow tcp: not a port (1-65535): '+5'");
    CHECK(error_of({"allow", "tcp", "90-80"}) == "fw allow tcp: port range '90-80': the first port is above the last");
    CHECK(error_of({"allow", "tcp", "80", "443"}) == "fw allow: unexpected argument '443'");
    CHECK(error_of({"allow", "icmp", "echo request"}) == "fw allow icmp: not an ICMP type: 'echo request'");
    CHECK(error_of({"allow", "tcp", "80", "--from"}) == "fw: --from: missing value");
    CHECK(error_of({"allow", "tcp", "80", "--from", "192.0.2.1/24"}) ==
          "--from: '192.0.2.1/24' has host bits set (the network is 192.0.2.0/24)");
    CHECK(error_of({"allow", "tcp", "80", "--from", "192.0.2.0/33"}) == "--from: '192.0.2.0/33' has a bad prefix length (0..32)");
    CHECK(error_of({"allow", "tcp", "80", "--from", "example.com"}) == "--from: 'example.com' is not an IPv4 or IPv6 address or network");
    CHECK(error_of({"allow", "tcp", "80", "--from", "@a,@b"}) ==
          "--from: a set ('@a') cannot be combined with other sources");
    CHECK(error_of({"allow", "tcp", "80", "--from", "@bad name"}) == "--from: not a set name: '@bad name'");
    CHECK(error_of({"allow", "tcp", "80", "--from", "10.0.0.0/8,"}) == "--from: empty source in '10.0.0.0/8,'");
    CHECK(error_of({"allow", "tcp", "80", "--zone", "no/such"}) == "--zone: not a zone name: 'no/such'");
    CHECK(error_of({"allow", "tcp", "80", "--zone", "a", "--zone", "b"}) == "fw: --zone given twice");
    CHECK(error_of({"allow", "tcp", "80", "--to", "10.0.0.1"}) == "fw allow: --to applies to 'fw forward' only");
    CHECK(error_of({"allow", "tcp", "80", "--reject"}) == "fw allow: --reject applies to 'fw deny' only");
    CHECK(error_of({"allow", "tcp", "80", "--bogus"}) == "fw allow: unknown option '--bogus'");
    CHECK(error_of({"deny", "tcp", "80", "--reject=yes"}) == "fw: --reject takes no value");
    CHECK(error_of({"status", "--zone", "wan"}) ==
          "fw status: --zone applies to 'fw allow', 'fw deny' or 'fw forward' only");
    CHECK(error_of({"allow", "tcp", "80", "--expires", "soon"}) ==
          "--expires: not a duration (like 90, 90s, 30m, 1h, 2d or 1h30m): 'soon'");
    CHECK(error_of({"forward", "tcp", "8080"}) == "fw forward: missing --to ADDRESS[:PORT]");
    CHECK(error_of({"forward", "icmp", "--to", "10.0.0.1"}) == "fw forward: unknown protocol 'icmp' (tcp or udp)");
    CHECK(error_of({"forward", "tcp", "80,443", "--to", "10.0.0.1"}) ==
          "fw forward tcp: a port forward takes one port or one range, not a list: '80,443'");
    CHECK(error_of({"forward", "tcp", "80", "--to", "10.0.0.300"}) == "--to: '10.0.0.300' is not an IPv4 address");
    CHECK(error_of({"forward", "tcp", "80", "--to", "10.0.0.1:0"}) == "--to: not a port (1-65535): '0'");
    CHECK(error_of({"forward", "tcp", "80", "--to", "10.0.0.1:"}) == "--to: missing port after ':' in '10.0.0.1:'");
    CHECK(error_of({"forward", "tcp", "80", "--to", "[2001:db8::5"}) == "--to: missing ']' in '[2001:db8::5'");
    CHECK(error_of({"forward", "tcp", "80", "--to", "2001:db8::zz"}) == "--to: '2001:db8::zz' is not an IPv6 address");
    CHECK(error_of({"remove"}) == "fw remove ID: missing argument");
    CHECK(error_of({"remove", "0"}) == "fw remove: not a rule id: '0'");
    CHECK(error_of({"remove", "-1"}) == "fw remove: not a rule id: '-1'");
    CHECK(error_of({"remove", "18446744073709551616"}) == "fw remove: not a rule id: '18446744073709551616'");
    CHECK(error_of({"panic"}) == "fw panic on|off: missing argument");
    CHECK(error_of({"panic", "yes"}) == "fw panic: expected 'on' or 'off', not 'yes'");
    CHECK(error_of({"set-zone", "eth0"}) == "fw set-zone INTERFACE ZONE: missing argument");
    CHECK(error_of({"set-zone", "a-very-long-interface-name", "wan"}) ==
          "fw set-zone: not an interface name: 'a-very-long-interface-name'");
    CHECK(error_of({"set-zone", "eth0", "w@n"}) == "fw set-zone: not a zone name: 'w@n'");
    // Control characters never reach the terminal raw.
    CHECK(error_of({"allow", "tcp", "8\x1b[0m"}) == "fw allow tcp: not a port (1-65535): '8\\x1b[0m'");
}

TEST_CASE("alopexctl fw: durations")
{
    CHECK(*parse_duration("90") == 90);
    CHECK(*parse_duration("90s") == 90);
    CHECK(*parse_duration("30m") == 1800);
    CHECK(*parse_duration("1h") == 3600);
    CHECK(*parse_duration("2d") == 172800);
    CHECK(*parse_duration("1h30m") == 5400);
    CHECK(*parse_duration("1d2h3m4s") == 93784);
    CHECK(*parse_duration("0h5m") == 300);
    CHECK(*parse_duration("never") == 0);
    CHECK(*parse_duration("4294967295") == 4294967295u);
    auto err = [](std::string_view s) {
        auto r = parse_duration(s);
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK(err("") == "empty duration");
    CHECK(err("1h1h") == "unit 'h' repeated or out of order in '1h1h'");
    CHECK(err("30m1h") == "unit 'h' repeated or out of order in '30m1h'");
    CHECK(err("-5") == "not a duration (like 90, 90s, 30m, 1h, 2d or 1h30m): '-5'");
    CHECK(err("+5") == "not a duration (like 90, 90s, 30m, 1h, 2d or 1h30m): '+5'");
    CHECK(err(" 5") == "not a duration (like 90, 90s, 30m, 1h, 2d or 1h30m): ' 5'");
    CHECK(err("h") == "not a duration (like 90, 90s, 30m, 1h, 2d or 1h30m): 'h'");
    CHECK(err("1.5h") == "unknown unit '.' in '1.5h' (d, h, m or s)");
    CHECK(err("5 m") == "unknown unit ' ' in '5 m' (d, h, m or s)");
    CHECK(err("1w") == "unknown unit 'w' in '1w' (d, h, m or s)");
    CHECK(err("1H") == "unknown unit 'H' in '1H' (d, h, m or s)");
    CHECK(err("1h30") == "missing unit after the last number in '1h30'");
    CHECK(err("0") == "'0' is no time at all (leave --expires out for a rule that never expires)");
    CHECK(err("0s0m") == "unit 'm' repeated or out of order in '0s0m'");
    CHECK(err("4294967296") == "too large: '4294967296' (at most 4294967295 seconds)");
    CHECK(err("99999999999d") == "too large: '99999999999d' (at most 4294967295 seconds)");
    CHECK(err("99999999999999999999999s") == "too large: '99999999999999999999999s'");
    CHECK(err("213503982334602d") == "too large: '213503982334602d'");
    CHECK(err("1h\n") == "not a duration (like 90, 90s, 30m, 1h, 2d or 1h30m): '1h\\n'");

    CHECK(format_duration(0) == "0s");
    CHECK(format_duration(59) == "59s");
    CHECK(format_duration(3552) == "59m12s");
    CHECK(format_duration(3600) == "1h");
    CHECK(format_duration(93784) == "1d2h3m4s");
    CHECK(format_duration(172800 + 60) == "2d1m");
    CHECK(format_expiry(0, now) == "never");
    CHECK(format_expiry(now + 3552'000'000, now) == "59m12s");
    CHECK(format_expiry(now + 3551'000'001, now) == "59m12s");   // rounded up
    CHECK(format_expiry(now + 1, now) == "1s");
    CHECK(format_expiry(now, now) == "expired");
    CHECK(format_expiry(now - 5'000'000, now) == "expired");
}

TEST_CASE("alopexctl fw: latency quantiles from histogram buckets")
{
    using B = fw1::LatencyBucket;
    constexpr uint64_t inf = std::numeric_limits<uint64_t>::max();
    CHECK_FALSE(latency_quantile({}, 0.5));
    CHECK_FALSE(latency_quantile({{100, 0}, {inf, 0}}, 0.5));
    // 100 events: 10 in [0,100], 80 in (100,250], 9 in (250,1000], 1 above.
    std::vector<B> h{{100, 10}, {250, 80}, {1000, 9}, {inf, 1}};
    CHECK(latency_events(h) == 100);
    auto p50 = latency_quantile(h, 0.5);
    REQUIRE(p50);
    CHECK(p50->us == Approx(100 + 150.0 * 40 / 80));   // 175
    CHECK_FALSE(p50->at_least);
    auto p99 = latency_quantile(h, 0.99);
    REQUIRE(p99);
    CHECK(p99->us == Approx(1000));
    CHECK_FALSE(p99->at_least);
    auto p100 = latency_quantile(h, 1.0);
    CHECK(p100->us == Approx(1000));
    CHECK(p100->at_least);
    // Order of the buckets on the wire does not matter.
    std::vector<B> shuffled{{inf, 1}, {1000, 9}, {100, 10}, {250, 80}};
    CHECK(latency_quantile(shuffled, 0.5)->us == Approx(175));
    // All events in the unbounded bucket.
    auto only_slow = latency_quantile({{100, 0}, {inf, 3}}, 0.5);
    CHECK(only_slow->us == Approx(100));
    CHECK(only_slow->at_least);
    // Counts that would overflow a sum saturate instead of wrapping.
    CHECK(latency_events({{1, inf}, {2, 5}}) == inf);

    CHECK(format_latency({175, false}) == "175µs");
    CHECK(format_latency({1234, false}) == "1.23ms");
    CHECK(format_latency({2500000, false}) == "2.50s");
    CHECK(format_latency({1000, true}) == ">=1.00ms");
}

TEST_CASE("alopexctl fw status: text and JSON")
{
    auto s = sample();
    CHECK(people(fw_status_document(s, 2)) == "panic          off\n"
                                    "default zone   wan\n"
                                    "generation     42\n"
                                    "last error     -\n"
                                    "zones          3\n"
                                    "rules          2\n"
                                    "runtime rules  2\n"
                                    "interfaces     br-lan (lan), eth0 (wan), wwan0 (wan)\n"
                                    "latency        p50 175µs, p99 1.00ms over 100 events\n");
    s.panic = true;
    s.last_error = "wan/3: kernel said\nno";
    s.latency.clear();
    s.interfaces.clear();
    CHECK(people(fw_status_document(s, 0)) == "panic          ON (only loopback and established traffic passes)\n"
                                    "default zone   wan\n"
                                    "generation     42\n"
                                    "last error     wan/3: kernel said\\nno\n"
                                    "zones          3\n"
                                    "rules          2\n"
                                    "runtime rules  0\n"
                                    "interfaces     -\n"
                                    "latency        no events yet\n");
    auto j = nlohmann::json::parse(json_of(fw_status_document(sample(), 2)));
    CHECK(j["panic"] == false);
    CHECK(j["default_zone"] == "wan");
    CHECK(j["generation"] == 42);
    CHECK(j["last_error"] == "");
    CHECK(j["zones"] == 3);
    CHECK(j["rules"] == 2);
    CHECK(j["runtime_rules"] == 2);
    CHECK(j["interfaces"] == nlohmann::json{{"br-lan", "lan"}, {"eth0", "wan"}, {"wwan0", "wan"}});
    CHECK(j["latency"]["events"] == 100);
    CHECK(j["latency"]["p50_us"] == 175);
    CHECK(j["latency"]["p99_us"] == 1000);
    REQUIRE(j["latency"]["buckets"].size() == 4);
    // The open last bucket: null, not 2^64-1 (beyond what JSON readers hold exactly).
    CHECK(j["latency"]["buckets"][3] == nlohmann::json{{"le_us", nullptr}, {"count", 1}});
    fw1::State empty;
    auto e = nlohmann::json::parse(json_of(fw_status_document(empty, 0)));
    CHECK(e["latency"]["p50_us"].is_null());
}

TEST_CASE("alopexctl fw zones: table and JSON")
{
    auto s = sample();
    CHECK(people(fw_zones_document(s)) ==
          "ZONE   INTERFACES  PATTERNS    INPUT   FORWARD  OUTPUT  MASQ  ADDRESSES\n"
          "wan *  eth0,wwan0  eth0,wwan*  drop    drop     accept  yes   192.0.2.10,2001:db8::10\n"
          "lan    br-lan      br-lan      accept  accept   accept  no    10.1.0.1\n"
          "dmz    -           -           reject  drop     accept  no    -\n"
          "* default zone: interfaces nothing else puts in a zone\n");
    auto j = nlohmann::json::parse(json_of(fw_zones_document(s)));
    CHECK(j["default_zone"] == "wan");
    REQUIRE(j["zones"].size() == 3);
    CHECK(j["zones"][0] == nlohmann::json{{"name", "wan"},
                                          {"interfaces", {"eth0", "wwan0"}},
                                          {"patterns", {"eth0", "wwan*"}},
                                          {"input", "drop"},
                                          {"forward", "drop"},
                                          {"output", "accept"},
                                          {"masquerade", true},
                                          {"addresses", {"192.0.2.10", "2001:db8::10"}},
                                          {"default", true}});
    CHECK(j["zones"][2]["interfaces"] == nlohmann::json::array());
    CHECK(j["zones"][2]["addresses"] == nlohmann::json::array());
}

TEST_CASE("alopexctl fw rules: table and JSON")
{
    auto s = sample();
    CHECK(people(fw_rules_document(s, sample_runtime(), now)) ==
          "Configured rules:\n"
          "ZONE  SPEC                                                              COMMENT\n"
          "wan   zone=wan proto=tcp dport=22,9090 saddr=@management action=accept  management console\n"
          "wan   zone=wan proto=icmp icmp_type=echo-request action=accept          -\n"
          "\n"
          "Runtime rules:\n"
          "ID  ZONE  SPEC                                          EXPIRES  WHERE    COMMENT\n"
          "7   wan   zone=wan proto=tcp dport=80 action=accept     59m12s   element  goal-456\n"
          "9   lan   zone=lan proto=tcp dport=8080 to=10.1.0.5:80  never    rule     -\n");
    fw1::State none;
    CHECK(people(fw_rules_document(none, {}, now)) == "Configured rules:\n(none)\n\nRuntime rules:\n(none)\n");
    auto j = nlohmann::json::parse(json_of(fw_rules_document(s, sample_runtime(), now)));
    REQUIRE(j["rules"].size() == 2);
    CHECK(j["rules"][0] == nlohmann::json{{"zone", "wan"},
                                          {"spec", "zone=wan proto=tcp dport=22,9090 saddr=@management action=accept"},
                                          {"comment", "management console"}});
    REQUIRE(j["runtime_rules"].size() == 2);
    CHECK(j["runtime_rules"][0] == nlohmann::json{{"id", 7},
                                                  {"zone", "wan"},
                                                  {"spec", "zone=wan proto=tcp dport=80 action=accept"},
                                                  {"comment", "goal-456"},
                                                  {"expires_us", now + 3552'000'000},
                                                  {"expires_in_s", 3552},
                                                  {"where", "element"}});
    CHECK(j["runtime_rules"][1]["expires_in_s"].is_null());
    CHECK(j["runtime_rules"][1]["expires_us"] == 0);
}

TEST_CASE("alopexctl fw counters: table and JSON")
{
    std::vector<fw1::CounterInfo> c{{"zone", "wan", 1200, 345678, 17}, {"rule", "wan/3", 5, 300, 0},
                                    {"runtime", "7", 0, 0, 0}};
    CHECK(people(fw_counters_document(c)) == "KIND     NAME   PACKETS  BYTES   DROPS\n"
                                   "zone     wan    1200     345678  17\n"
                                   "rule     wan/3  5        300     0\n"
                                   "runtime  7      0        0       0\n");
    CHECK(people(fw_counters_document({})) == "KIND  NAME  PACKETS  BYTES  DROPS\n");
    auto j = nlohmann::json::parse(json_of(fw_counters_document(c)));
    REQUIRE(j["counters"].size() == 3);
    CHECK(j["counters"][0] ==
          nlohmann::json{{"kind", "zone"}, {"name", "wan"}, {"packets", 1200}, {"bytes", 345678}, {"drops", 17}});
    // A peer's invalid UTF-8 does not break the JSON.
    std::vector<fw1::CounterInfo> bad{{"zone", "\xff", 0, 0, 0}};
    CHECK(nlohmann::json::parse(json_of(fw_counters_document(bad)))["counters"][0]["name"] == "\xEF\xBF\xBD");
}

TEST_CASE("alopexctl fw documents, golden (table, terse with escaping, records, JSON)")
{
    check_golden("fw-status.txt", all_renderings(fw_status_document(sample(), 2)));
    check_golden("fw-zones.txt", all_renderings(fw_zones_document(sample())));
    check_golden("fw-rules.txt", all_renderings(fw_rules_document(sample(), sample_runtime(), now)));
    check_golden("fw-counters.txt",
                 all_renderings(fw_counters_document({{"zone", "wan", 1200, 345678, 17}, {"rule", "wan/3", 5, 300, 0}})));
    check_golden("fw-id.txt", all_renderings(fw_id_document(17)));
}
