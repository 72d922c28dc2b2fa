// SPDX-License-Identifier: GPL-2.0-or-later
// firewall.toml: the schema, positions in errors, hostile files.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <fstream>

#include "config/config.hpp"

using namespace alopex::fwd;
using namespace alopex::fwd::config;

namespace {

const char *issue_example = R"(
[sets]
management = ["192.0.2.0/24", "2001:db8:1::/48"]
[zones.wan]
interfaces = ["eth0", "wwan*"]
input = "drop"
forward = "drop"
masquerade = true
[[zones.wan.rules]]
proto = "tcp"
dport = [22, 9090]
saddr = "@management"
action = "accept"
comment = "management console"
[[zones.wan.rules]]
proto = "icmp"
icmp_type = ["echo-request"]
action = "accept"
[[zones.wan.forwards]]
proto = "tcp"
dport = 8080
to = "10.1.0.5:80"
)";

std::string error_of(std::string_view text)
{
    auto r = parse(text, "fw.toml");
    if (r)
        return "(accepted)";
    return r.error().message;
}

// A one-zone file with one rule whose body is `rule`.
std::string rule_error(std::string_view rule)
{
    return error_of(fmt::format("[sets]\nm = [\"192.0.2.0/24\"]\nv6 = [\"2001:db8::/32\"]\n"
                                "[zones.z]\n[[zones.z.rules]]\n{}\n",
                                rule));
}

} // namespace

TEST_CASE("the issue's example parses to the model it describes", "[toml]")
{
    auto m = parse(issue_example, "fw.toml");
    REQUIRE(m);
    REQUIRE(m->sets.size() == 1);
    CHECK(m->sets.at("management").cidrs.size() == 2);
    REQUIRE(m->zone_order == std::vector<std::string>{"wan"});
    CHECK(m->default_zone.empty());
    auto &z = m->zones.at("wan");
    CHECK(z.name == "wan");
    CHECK(z.interfaces == std::vector<std::string>{"eth0", "wwan*"});
    CHECK(z.input == Verdict::drop);
    CHECK(z.forward == Verdict::drop);
    CHECK(z.output == Verdict::accept);
    CHECK(z.masquerade);
    CHECK_FALSE(z.log_policy);
    CHECK(z.log_limit == RateLimit{5, 60, 5});
    REQUIRE(z.rules.size() == 2);
    auto &ssh = z.rules[0];
    CHECK(ssh.proto == Proto::tcp);
    CHECK(ssh.family == Family::both);
    CHECK(ssh.hook == Hook::input);
    CHECK(ssh.dport == std::vector<PortRange>{{22, 22}, {9090, 9090}});
    CHECK(ssh.saddr.kind == AddrMatch::Kind::set);
    CHECK(ssh.saddr.name == "management");
    CHECK(ssh.verdict == Verdict::accept);
    CHECK(ssh.counter);
    CHECK(ssh.comment == "management console");
    auto &ping = z.rules[1];
    CHECK(ping.proto == Proto::icmp);
    CHECK(ping.family == Family::ipv4);
    CHECK(ping.icmp_types == std::vector<uint8_t>{8});
    REQUIRE(z.forwards.size() == 1);
    auto &f = z.forwards[0];
    CHECK(f.proto == Proto::tcp);
    CHECK(f.dport == std::vector<PortRange>{{8080, 8080}});
    CHECK(f.to.to_string() == "10.1.0.5");
    CHECK(f.to_port == 80);
    CHECK(f.saddr.kind == AddrMatch::Kind::any);
}

TEST_CASE("every rule key", "[toml]")
{
    auto m = parse(R"(
default_zone = "lan"
[sets]
mgmt = ["192.0.2.0/24", "2001:db8:9::/48"]
[zones.wan]
interfaces = ["eth0"]
[zones.lan]
interfaces = ["br-*", "veth*"]
input = "accept"
forward = "reject"
output = "drop"
log_policy = true
log_prefix = "lan: "
log_limit = "10/second"
[[zones.lan.rules]]
family = "ipv4"
proto = "udp"
hook = "forward"
dport = ["8000-8100", 53, 54]
sport = 1024
saddr = ["10.0.0.0/8", "192.168.0.0/16"]
daddr = "@zone:wan"
ct_state = ["new", "untracked"]
action = "reject"
reject_with = "admin-prohibited"
log_prefix = "dns: "
log_limit = "1/minute"
limit = "100/second"
burst = 20
counter = false
[[zones.lan.rules]]
proto = "tcp"
daddr = "@self"
action = "reject"
reject_with = "tcp-reset"
[[zones.lan.rules]]
proto = "icmpv6"
icmp_type = ["neighbor-solicitation", 136, "packet-too-big"]
action = "log"
[[zones.lan.forwards]]
proto = "udp"
dport = "5000-5010"
to = "2001:db8::5"
saddr = "@mgmt"
comment = "range forward"
)",
                   "fw.toml");
    if (!m)
        FAIL(m.error().message);
    CHECK(m->zone_order == std::vector<std::string>{"wan", "lan"});
    CHECK(m->default_zone == "lan");
    auto &z = m->zones.at("lan");
    CHECK(z.input == Verdict::accept);
    CHECK(z.forward == Verdict::reject);
    CHECK(z.output == Verdict::drop);
    CHECK(z.log_policy);
    CHECK(z.log_prefix == "lan: ");
    CHECK(z.log_limit == RateLimit{10, 1, 5});
    REQUIRE(z.rules.size() == 3);
    auto &r = z.rules[0];
    CHECK(r.family == Family::ipv4);
    CHECK(r.proto == Proto::udp);
    CHECK(r.hook == Hook::forward);
    CHECK(r.dport == std::vector<PortRange>{{53, 54}, {8000, 8100}});
    CHECK(r.sport == std::vector<PortRange>{{1024, 1024}});
    CHECK(r.saddr.kind == AddrMatch::Kind::cidrs);
    CHECK(r.saddr.cidrs.size() == 2);
    CHECK(r.daddr.kind == AddrMatch::Kind::zone);
    CHECK(r.daddr.name == "wan");
    CHECK(r.ct_state == (ct::new_ | ct::untracked));
    CHECK(r.verdict == Verdict::reject);
    CHECK(r.reject_with == RejectWith::admin_prohibited);
    REQUIRE(r.log);
    CHECK(r.log->prefix == "dns: ");
    CHECK(r.log->limit == RateLimit{1, 60, 5});
    CHECK(r.limit == RateLimit{100, 1, 20});
    CHECK_FALSE(r.counter);
    CHECK(z.rules[1].daddr.kind == AddrMatch::Kind::zone);
    CHECK(z.rules[1].daddr.name == "lan");
    CHECK(z.rules[1].reject_with == RejectWith::tcp_reset);
    auto &l = z.rules[2];
    CHECK(l.family == Family::ipv6);
    CHECK(l.icmp_types == std::vector<uint8_t>{2, 135, 136});
    CHECK_FALSE(l.verdict);
    REQUIRE(l.log);
    CHECK(l.log->prefix.empty());
    auto &f = z.forwards[0];
    CHECK(f.proto == Proto::udp);
    CHECK(f.dport == std::vector<PortRange>{{5000, 5010}});
    CHECK(f.to.family() == AF_INET6);
    CHECK_FALSE(f.to_port);
    CHECK(f.saddr.name == "mgmt");
    CHECK(f.comment == "range forward");
}

TEST_CASE("errors carry file:line:col and name the key", "[toml]")
{
    CHECK(rule_error("proto = \"tcp\"\ndport = 70000\naction = \"accept\"") ==
          "fw.toml:7:9: zones.z.rules[0].dport: 70000 is not a port (1..65535)");
    CHECK(rule_error("proto = \"tcp\"\ndport = [22, -1]\naction = \"accept\"") ==
          "fw.toml:7:14: zones.z.rules[0].dport[1]: -1 is not a port (1..65535)");
    CHECK(rule_error("saddr = \"192.0.2.1/24\"\naction = \"accept\"").starts_with(
        "fw.toml:6:9: zones.z.rules[0].saddr: '192.0.2.1/24' has host bits set (the network is 192.0.2.0/24)"));
    CHECK(rule_error("saddr = \"@nope\"\naction = \"accept\"") ==
          "fw.toml:6:9: zones.z.rules[0].saddr: no set 'nope'");
    CHECK(rule_error("saddr = \"@zone:nope\"\naction = \"accept\"") ==
          "fw.toml:6:9: zones.z.rules[0].saddr: no zone 'nope'");
    CHECK(rule_error("proto = \"tcp\"") ==
          "fw.toml:5:1: zones.z.rules[0].action: missing (accept, drop, reject or log)");
    CHECK(rule_error("action = \"accept\"\nbogus = 1").starts_with("fw.toml:7:9: zones.z.rules[0].bogus: unknown key"));
    CHECK(error_of("[zones.a]\nbogus = 1\n") == "fw.toml:2:1: unknown key 'bogus' in [zones.a]");
    CHECK(error_of("bogus = 1\n[zones.a]\n") == "fw.toml:1:1: unknown key 'bogus' in the top level");
    CHECK(error_of("default_zone = \"x\"\n[zones.a]\n") == "fw.toml:1:16: default_zone: no zone 'x'");
    CHECK(error_of("[sets]\nm = [\"10.0.0.0/8\"]\n").starts_with("fw.toml:1:1: missing required key 'zones'"));
    CHECK(error_of("zones = {}\n").find("at least one zone") != std::string::npos);
}

TEST_CASE("family consistency", "[toml]")
{
    CHECK(rule_error("family = \"ipv6\"\nsaddr = \"192.0.2.0/24\"\naction = \"accept\"")
              .find("saddr: 192.0.2.0/24 is IPv4 but the rule is IPv6 only") != std::string::npos);
    CHECK(rule_error("family = \"ipv6\"\nproto = \"icmp\"\naction = \"accept\"")
              .find("family: ipv6 does not fit proto icmp") != std::string::npos);
    CHECK(rule_error("family = \"ipv4\"\nproto = \"icmpv6\"\naction = \"accept\"")
              .find("family: ipv4 does not fit proto icmpv6") != std::string::npos);
    CHECK(rule_error("proto = \"icmp\"\nsaddr = \"2001:db8::/32\"\naction = \"accept\"")
              .find("saddr: 2001:db8::/32 is IPv6") != std::string::npos);
    CHECK(rule_error("saddr = \"192.0.2.0/24\"\ndaddr = \"2001:db8::/32\"\naction = \"accept\"")
              .find("daddr: IPv6 only, but saddr is IPv4 only") != std::string::npos);
    CHECK(rule_error("saddr = [\"192.0.2.0/24\", \"2001:db8::/32\"]\ndaddr = \"2001:db8::/32\"\naction = \"accept\"")
              .find("saddr: 192.0.2.0/24 is IPv4 but daddr is IPv6 only") != std::string::npos);
    CHECK(rule_error("family = \"ipv6\"\nsaddr = \"@m\"\naction = \"accept\"")
              .find("set 'm' holds no IPv6 networks") != std::string::npos);
    CHECK(rule_error("saddr = \"@m\"\ndaddr = \"@v6\"\naction = \"accept\"").find("daddr: IPv6 only") !=
          std::string::npos);

    auto m = parse("[zones.z]\n[[zones.z.rules]]\nsaddr = \"192.0.2.0/24\"\naction = \"accept\"\n"
                   "[[zones.z.rules]]\nsaddr = [\"192.0.2.0/24\", \"2001:db8::/32\"]\naction = \"accept\"\n",
                   "fw.toml");
    REQUIRE(m);
    CHECK(m->zones.at("z").rules[0].family == Family::ipv4);
    CHECK(m->zones.at("z").rules[1].family == Family::both);
}

TEST_CASE("cross-key checks", "[toml]")
{
    CHECK(rule_error("dport = 22\naction = \"accept\"").find("dport: only with proto tcp or udp") != std::string::npos);
    CHECK(rule_error("proto = \"icmp\"\nsport = 22\naction = \"accept\"").find("sport: only with proto tcp or udp") !=
          std::string::npos);
    CHECK(rule_error("proto = \"tcp\"\nicmp_type = 8\naction = \"accept\"").find("icmp_type: only with proto icmp") !=
          std::string::npos);
    CHECK(rule_error("proto = \"icmp\"\nicmp_type = \"packet-too-big\"\naction = \"accept\"")
              .find("is not an ICMP type name") != std::string::npos);
    CHECK(rule_error("proto = \"icmp\"\nicmp_type = 256\naction = \"accept\"").find("256 is not an ICMP type") !=
          std::string::npos);
    CHECK(rule_error("proto = \"udp\"\naction = \"reject\"\nreject_with = \"tcp-reset\"")
              .find("reject_with: tcp-reset needs proto tcp") != std::string::npos);
    CHECK(rule_error("action = \"drop\"\nreject_with = \"no-route\"").find("only with action \"reject\"") !=
          std::string::npos);
    CHECK(rule_error("action = \"log\"\nlog = false").find("log: false contradicts") != std::string::npos);
    CHECK(rule_error("action = \"accept\"\nburst = 5").find("burst: only with limit") != std::string::npos);
    CHECK(rule_error("action = \"accept\"\nlimit = \"0/second\"").find("limit:") != std::string::npos);
    CHECK(rule_error("action = \"accept\"\nct_state = []").find("ct_state: must not be empty") != std::string::npos);
    CHECK(rule_error("action = \"accept\"\nct_state = [\"bogus\"]").find("ct_state:") != std::string::npos);
    CHECK(rule_error("proto = \"tcp\"\ndport = []\naction = \"accept\"").find("dport: must not be empty") !=
          std::string::npos);
    CHECK(rule_error("saddr = [\"@m\", \"10.0.0.0/8\"]\naction = \"accept\"").find("must be the only value") !=
          std::string::npos);
    CHECK(rule_error("action = \"allow\"").find("'allow' is not one of") != std::string::npos);
    CHECK(rule_error("action = \"accept\"\ncomment = \"" + std::string(128, 'x') + "\"").find("comment: too long") !=
          std::string::npos);
    CHECK(rule_error("action = \"accept\"\ncomment = \"a\\u0007b\"").find("comment: must not hold control") !=
          std::string::npos);
    CHECK(rule_error("action = \"accept\"\ncomment = \"日本語のコメント\"") == "(accepted)");
}

TEST_CASE("wrong types", "[toml]")
{
    CHECK(rule_error("action = 1").find("must be a string, not an integer") != std::string::npos);
    CHECK(rule_error("action = [\"accept\"]").find("must be a string, not an array") != std::string::npos);
    CHECK(rule_error("action = \"accept\"\ncounter = \"yes\"").find("counter: must be a boolean, not a string") !=
          std::string::npos);
    CHECK(rule_error("proto = \"tcp\"\ndport = 22.5\naction = \"accept\"").find("not a float") != std::string::npos);
    CHECK(rule_error("proto = \"tcp\"\ndport = [true]\naction = \"accept\"").find("dport") != std::string::npos);
    CHECK(rule_error("proto = \"tcp\"\ndport = [[22]]\naction = \"accept\"").find("dport[0]: must be a string") !=
          std::string::npos);
    CHECK(rule_error("action = \"accept\"\nsaddr = {a = 1}").find("saddr: must be a value or an array, not a table") !=
          std::string::npos);
    CHECK(rule_error("action = \"accept\"\nburst = 99999999999999").find("burst") != std::string::npos);
    CHECK(error_of("[zones.a]\ninput = true\n").find("must be a string") != std::string::npos);
    CHECK(error_of("[zones.a]\ninterfaces = \"eth0\"\n").find("must be an array") != std::string::npos);
    CHECK(error_of("[zones.a]\nrules = {}\n").find("must be an array") != std::string::npos);
    CHECK(error_of("[zones.a]\nrules = [1]\n").find("must be a table") != std::string::npos);
    CHECK(error_of("[sets]\nm = \"10.0.0.0/8\"\n[zones.a]\n").find("must be an array") != std::string::npos);
    CHECK(error_of("[sets]\nm = [1]\n[zones.a]\n").find("must be a string") != std::string::npos);
    CHECK(error_of("zones = 1\n").find("must be a table") != std::string::npos);
    CHECK(error_of("[zones]\na = 1\n").find("must be a table") != std::string::npos);
}

TEST_CASE("names, duplicates and interfaces", "[toml]")
{
    CHECK(error_of("[zones.wan]\n[zones.\"wan\"]\n").starts_with("fw.toml:2:"));
    CHECK(error_of("[zones.wan]\n[zones.WAN]\n").find("differs from zone 'wan' only in case") != std::string::npos);
    CHECK(error_of("[zones.\"a.b\"]\n").find("zone 'a.b': the name must be") != std::string::npos);
    CHECK(error_of("[zones.abcdefghijklmnopqrstu]\n").find("the name must be") != std::string::npos);
    CHECK(error_of("[zones.\"\"]\n").find("the name must be") != std::string::npos);
    CHECK(error_of("[sets]\nself = []\n[zones.a]\n").find("reserved") != std::string::npos);
    CHECK(error_of("[sets]\nm = []\nM = []\n[zones.a]\n").find("only in case") != std::string::npos);
    CHECK(error_of("[zones.a]\ninterfaces = [\"eth0\"]\n[zones.b]\ninterfaces = [\"eth0\"]\n") ==
          "fw.toml:4:15: zones.b.interfaces[0]: 'eth0' is already in zone 'a'");
    CHECK(error_of("[zones.a]\ninterfaces = [\"eth 0\"]\n").find("is not an interface name") != std::string::npos);
    CHECK(error_of("[zones.a]\ninterfaces = [\"averyveryverylongname\"]\n").find("is not an interface name") !=
          std::string::npos);
    CHECK(error_of("[zones.a]\ninterfaces = []\n") == "(accepted)");
    // Overlapping globs are fine: the earlier zone wins.
    CHECK(error_of("[zones.a]\ninterfaces = [\"eth*\"]\n[zones.b]\ninterfaces = [\"*\"]\n") == "(accepted)");
}

TEST_CASE("hostile files never throw", "[toml]")
{
    for (std::string_view text : {
             std::string_view(""), std::string_view("\0\0\0", 3), std::string_view("[[[[["),
             std::string_view("[zones.a]\ninput = \"\xff\xfe\"\n"), std::string_view("zones.a.rules = [{}]"),
             std::string_view("[zones.a]\n[[zones.a.rules]]\naction = \"accept\"\nproto = \"tcp\"\ndport = 9223372036854775807\n"),
             std::string_view("[zones.a]\n[[zones.a.rules]]\naction = \"accept\"\nproto = \"tcp\"\ndport = -9223372036854775808\n"),
             std::string_view("[zones.a]\n[[zones.a.forwards]]\nproto = \"tcp\"\ndport = [1, 2]\nto = \"10.0.0.1\"\n"),
             std::string_view("[zones.a]\n[[zones.a.forwards]]\nproto = \"icmp\"\ndport = 1\nto = \"10.0.0.1\"\n"),
             std::string_view("[zones.a]\n[[zones.a.forwards]]\nproto = \"tcp\"\ndport = \"1-5\"\nto = \"10.0.0.1:80\"\n"),
             std::string_view("[zones.a]\n[[zones.a.forwards]]\nproto = \"tcp\"\ndport = 1\nto = \"10.0.0.1\"\nsaddr = \"2001:db8::/32\"\n"),
         }) {
        auto r = parse(text, "fw.toml");
        CHECK_FALSE(r);
        if (!r)
            CHECK(r.error().message.starts_with("fw.toml:"));
    }
}

TEST_CASE("a 10,000-element set and a 10,000-CIDR rule", "[toml]")
{
    std::string text = "[sets]\nbig = [";
    for (int i = 0; i < 10000; ++i)
        text += fmt::format("\"10.{}.{}.0/24\", \"2001:db8:{:x}::/48\",", i / 256, i % 256, i);
    text += "]\n[zones.z]\n[[zones.z.rules]]\nsaddr = [";
    for (int i = 0; i < 10000; ++i)
        text += fmt::format("\"172.{}.{}.{}\",", 16 + i / 65536, (i / 256) % 256, i % 256);
    text += "\"172.16.0.0/12\"]\naction = \"accept\"\nsaddr_x = 1\n";
    // The unknown key is refused only after everything before it was read.
    CHECK(error_of(text).find("saddr_x: unknown key") != std::string::npos);
    text.resize(text.size() - std::string_view("saddr_x = 1\n").size());
    auto m = parse(text, "fw.toml");
    REQUIRE(m);
    CHECK(m->sets.at("big").cidrs.size() == 20000);
    auto &r = m->zones.at("z").rules[0];
    // Every host lies inside 172.16.0.0/12: normalized to that one network.
    REQUIRE(r.saddr.cidrs.size() == 1);
    CHECK(to_string(r.saddr.cidrs[0]) == "172.16.0.0/12");
}

TEST_CASE("load reads a file and names it", "[toml]")
{
    auto path = std::filesystem::temp_directory_path() / fmt::format("fwd-config-{}.toml", getpid());
    {
        std::ofstream f(path);
        f << "[zones.a]\ninput = \"maybe\"\n";
    }
    auto r = load(path);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == path.string() + ":2:9: zones.a.input: 'maybe' is not one of accept, drop, reject");
    std::filesystem::remove(path);
    auto missing = load(path);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.starts_with(path.string()));
}

TEST_CASE("load: the same bytes give the same model, changed bytes are parsed again", "[toml]")
{
    auto path = std::filesystem::temp_directory_path() / fmt::format("fwd-config-cache-{}.toml", getpid());
    auto write = [&](const std::string &text) {
        std::ofstream f(path, std::ios::trunc);
        f << text;
    };
    write("[zones.a]\ninput = \"drop\"\n");
    auto first = load(path);
    REQUIRE(first);
    auto again = load(path);
    REQUIRE(again);
    CHECK(*again == *first);
    // Changed contents (same name): parsed, not the remembered model.
    write("[zones.a]\ninput = \"accept\"\n");
    auto changed = load(path);
    REQUIRE(changed);
    CHECK(changed->zones.at("a").input == Verdict::accept);
    // A bad file is refused with its position, and does not replace what was remembered.
    write("[zones.a]\ninput = \"maybe\"\n");
    auto bad = load(path);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.starts_with(path.string() + ":2:9:"));
    write("[zones.a]\ninput = \"accept\"\n");
    auto back = load(path);
    REQUIRE(back);
    CHECK(*back == *changed);
    // The same bytes under another name are that file's: its name is in its errors.
    auto other = std::filesystem::temp_directory_path() / fmt::format("fwd-config-cache-{}-b.toml", getpid());
    std::filesystem::copy_file(path, other, std::filesystem::copy_options::overwrite_existing);
    auto from_other = load(other);
    REQUIRE(from_other);
    CHECK(*from_other == *back);
    std::filesystem::remove(path);
    std::filesystem::remove(other);
    CHECK_FALSE(load(path));   // gone: not answered from memory
}

TEST_CASE("unicode and NUL inside TOML strings", "[toml]")
{
    CHECK(rule_error("action = \"accept\"\ncomment = \"a\\u0000b\"").find("comment: must not hold control") !=
          std::string::npos);
    CHECK(rule_error("action = \"accept\"\ncomment = \"Gr\\u00fc\\u00dfe \\u2713\"") == "(accepted)");
    CHECK(rule_error("action = \"accept\"\ncomment = \"\\u202eevil\"").find("comment: must not hold control") !=
          std::string::npos);
    CHECK(rule_error("action = \"accept\"\nlog_prefix = \"\\u00e9\"").find("log_prefix: may only hold printable ASCII") !=
          std::string::npos);
    CHECK(error_of("[zones.a]\ninterfaces = [\"eth\\u00e90\"]\n").find("is not an interface name") != std::string::npos);
    CHECK(error_of("[zones.\"z\\u00f6ne\"]\n").find("the name must be") != std::string::npos);
    CHECK(error_of("[zones.a]\ninterfaces = [\"eth\\u00000\"]\n").find("is not an interface name") != std::string::npos);
    CHECK(error_of("[sets]\nm = [\"10.0.0.0\\u0000/8\"]\n[zones.a]\n").find("not an IPv4 or IPv6") != std::string::npos);
}
