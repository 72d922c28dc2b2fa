// SPDX-License-Identifier: GPL-2.0-or-later
// The profile schema: the issue's example, netdev files, and every kind of bad input,
// each refused with file:line:col and a message naming what is wrong.
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "profile.hpp"
#include "net_test.hpp"

using namespace alopex::linkd::profile;
using namespace alopex::test;

namespace {

Profiles ok(std::string_view text)
{
    Profiles p;
    auto r = parse_file(text, "t.toml", p);
    INFO(text);
    if (!r)
        FAIL(r.error().message);
    REQUIRE(validate(p));
    return p;
}

std::string err(std::string_view text)
{
    Profiles p;
    auto r = parse_file(text, "t.toml", p);
    INFO(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with("t.toml:"));
    return r.error().message;
}

const char *issue_example = R"(# /etc/alopex/links/50-uplink.toml
[match]
name = "eth*"
[link]
up = true
mtu = 1500
zone = "wan"
controller = "br0"
[ipv4]
dhcp = true
addresses = ["192.0.2.10/24"]
gateway = "192.0.2.1"
[ipv6]
slaac = true
addresses = ["2001:db8::10/64"]
[dns]
servers = ["192.0.2.53"]
domains = ["example.net"]
[[route]]
to = "198.51.100.0/24"
via = "192.0.2.254"
metric = 100
table = 100
)";

} // namespace

TEST_CASE("the issue's example parses", "[linkd][profile]")
{
    auto p = ok(issue_example);
    REQUIRE(p.links.size() == 1);
    REQUIRE(p.netdevs.empty());
    const auto &l = p.links[0];
    CHECK(l.file == "t.toml");
    CHECK(l.match.name == "eth*");
    CHECK_FALSE(l.match.mac);
    const auto &s = l.settings;
    CHECK(s.up);
    CHECK(s.mtu == 1500u);
    CHECK(s.zone == "wan");
    CHECK(s.controller == "br0");
    CHECK(s.dhcp4);
    CHECK(s.slaac == true);
    REQUIRE(s.addresses.size() == 2);
    CHECK(s.addresses[0] == pfx("192.0.2.10/24"));
    CHECK(s.addresses[1] == pfx("2001:db8::10/64"));
    CHECK(s.gateway4 == ip("192.0.2.1"));
    CHECK(s.gateway6.empty());
    REQUIRE(s.dns_servers.size() == 1);
    CHECK(s.dns_servers[0] == ip("192.0.2.53"));
    CHECK(s.dns_domains == std::vector<std::string>{"example.net"});
    REQUIRE(s.routes.size() == 1);
    const auto &r = s.routes[0];
    CHECK(r.to == pfx("198.51.100.0/24"));
    CHECK(r.via == ip("192.0.2.254"));
    CHECK(r.metric == 100u);
    CHECK(r.table == 100u);
    CHECK(r.scope == Scope::Global);
    CHECK_FALSE(r.onlink);
}

TEST_CASE("defaults and normalization", "[linkd][profile]")
{
    auto p = ok("[match]\nmac = \"02:00:00:AA:bb:01\"\n[ipv6]\naddresses = [\"2001:DB8:0:0::1/64\"]\n"
                "gateway = \"fe80::1\"\n[dns]\ndomains = [\"Example.NET.\", \"example.org\"]\n"
                "servers = [\"2001:db8::53\", \"2001:DB8::53\"]\n"
                "[[route]]\nto = \"2001:db8:1::/48\"\n[[route]]\nto = \"10.0.0.0/8\"\ntable = \"main\"\n"
                "scope = \"host\"\n");
    const auto &l = p.links.at(0);
    CHECK(l.match.name.empty());
    REQUIRE(l.match.mac);
    CHECK(l.match.mac->to_string() == "02:00:00:aa:bb:01");
    const auto &s = l.settings;
    CHECK(s.up); // default
    CHECK_FALSE(s.mtu);
    CHECK_FALSE(s.dhcp4);
    CHECK_FALSE(s.slaac); // unset: leave the kernel's sysctls alone
    CHECK(s.addresses.at(0).address() == ip("2001:db8::1"));
    CHECK(s.gateway6 == ip("fe80::1"));
    CHECK(s.dns_domains == std::vector<std::string>{"Example.NET", "example.org"});
    CHECK(s.dns_servers.size() == 1); // duplicates folded after normalization
    REQUIRE(s.routes.size() == 2);
    CHECK(s.routes[0].scope == Scope::Link); // no via: directly connected
    CHECK(s.routes[0].table == 254u);
    CHECK(s.routes[1].table == 254u);
    CHECK(s.routes[1].scope == Scope::Host);
}

TEST_CASE("netdev profiles", "[linkd][profile]")
{
    auto p = ok("[netdev]\nname = \"br0\"\nkind = \"bridge\"\nstp = false\nmtu = 9000\n"
                "[ipv4]\naddresses = [\"10.1.0.1/24\"]\n[link]\nzone = \"lan\"\n");
    REQUIRE(p.netdevs.size() == 1);
    const auto &b = p.netdevs[0];
    CHECK(b.name == "br0");
    CHECK(b.kind == alopex::linkd::rtnl::NetdevKind::Bridge);
    CHECK(b.stp == false);
    CHECK(b.mtu == 9000u);
    CHECK(b.settings.zone == "lan");
    CHECK(b.settings.up);
    CHECK(b.settings.addresses.size() == 1);

    auto v = ok("[netdev]\nname = \"eth0.10\"\nkind = \"vlan\"\nvlan_id = 10\nparent = \"eth0\"\n");
    CHECK(v.netdevs.at(0).vlan_id == 10);
    CHECK(v.netdevs.at(0).parent == "eth0");
    auto e = ok("[netdev]\nname = \"ve0\"\nkind = \"veth\"\npeer = \"ve1\"\nmac = \"02:00:00:00:00:05\"\n");
    CHECK(e.netdevs.at(0).peer == "ve1");
    CHECK(e.netdevs.at(0).mac);
    auto b1 = ok("[netdev]\nname = \"bond0\"\nkind = \"bond\"\n");
    CHECK(b1.netdevs.at(0).mode == "balance-rr");
    auto b2 = ok("[netdev]\nname = \"bond0\"\nkind = \"bond\"\nmode = \"4\"\n");
    CHECK(b2.netdevs.at(0).mode == "802.3ad");
    auto b3 = ok("[netdev]\nname = \"bond0\"\nkind = \"bond\"\nmode = \"active-backup\"\n");
    CHECK(b3.netdevs.at(0).mode == "active-backup");
}

TEST_CASE("bad profiles are refused with a position and a reason", "[linkd][profile]")
{
    struct Case { const char *text; const char *where; const char *what; };
    const Case cases[] = {
        // structure
        {"", "t.toml:", "needs a [match] section"},
        {"[link]\nup = true\n", "t.toml:", "needs a [match] section"},
        {"[match]\nname = \"eth0\"\n[netdev]\nname = \"br0\"\nkind = \"bridge\"\n", "t.toml:3:",
         "either a link profile ([match]) or a netdev profile ([netdev]), not both"},
        {"[netdev]\nname = \"br0\"\nkind = \"bridge\"\n[match]\nname = \"eth0\"\n", "t.toml:4:",
         "not both"},
        {"[match]\n", "t.toml:1:", "needs 'name' or 'mac'"},
        {"[match]\nname = \"eth0\"\n[bogus]\nx = 1\n", "t.toml:3:", "unknown key 'bogus'"},
        {"[match]\nname = \"eth0\"\nnmae = \"x\"\n", "t.toml:3:", "unknown key 'nmae' in [match]"},
        {"[match]\nname = \"eth0\"\n[link]\nmtu = 1500\nupp = true\n", "t.toml:5:", "unknown key 'upp'"},
        {"[match]\nname = \"eth0\"\nname = \"eth1\"\n", "t.toml:3:", ""}, // TOML: redefinition
        {"[match\nname = \"eth0\"\n", "t.toml:1:", ""},
        // wrong types
        {"[match]\nname = 5\n", "t.toml:2:", "'match.name' must be a string"},
        {"match = 5\n", "t.toml:1:", "must be a table"},
        {"[match]\nname = \"eth0\"\n[link]\nup = \"yes\"\n", "t.toml:4:", "'link.up' must be a boolean"},
        {"[match]\nname = \"eth0\"\n[link]\nmtu = 1500.0\n", "t.toml:4:", "'link.mtu' must be an integer"},
        {"[match]\nname = \"eth0\"\n[ipv4]\naddresses = \"192.0.2.1/24\"\n", "t.toml:4:", "must be an array"},
        {"[match]\nname = \"eth0\"\n[ipv4]\naddresses = [1]\n", "t.toml:4:", "must be a string"},
        {"route = 1\n[match]\nname = \"eth0\"\n", "t.toml:1:", "must be an array"},
        {"route = [1]\n[match]\nname = \"eth0\"\n", "t.toml:1:", "must be a table"},
        // names and globs
        {"[match]\nname = \"eth[0\"\n", "t.toml:2:", "'match.name' has a '[' without a closing ']'"},
        {"[match]\nname = \"eth\\\\\"\n", "t.toml:2:", "lone backslash"},
        {"[match]\nname = \"\"\n", "t.toml:2:", "must not be empty"},
        {"[match]\nname = \"eth0 \"\n", "t.toml:2:", "printable ASCII"},
        {"[match]\nname = \"averyveryverylongname\"\n", "t.toml:2:", "not a valid interface name"},
        {"[match]\nname = \"e\\u00e9\"\n", "t.toml:2:", ""},
        {"[match]\nname = \"e\\u0001\"\n", "t.toml:2:", ""},
        {"[match]\nname = \"../etc\"\n", "t.toml:2:", ""},
        {"[match]\nmac = \"02:00:00:00:00\"\n", "t.toml:2:", "match.mac: '02:00:00:00:00' is not a MAC address (like 02:00:00:00:00:01)"},
        {"[match]\nname = \"eth0\"\n[link]\ncontroller = \"br/0\"\n", "t.toml:4:", "not a valid interface name"},
        {"[match]\nname = \"eth0\"\n[link]\nmac = \"01:00:5e:00:00:01\"\n", "t.toml:4:", "unicast"},
        {"[match]\nname = \"eth0\"\n[link]\nzone = \"w a n\"\n", "t.toml:4:", "'link.zone'"},
        // numbers
        {"[match]\nname = \"eth0\"\n[link]\nmtu = 67\n", "t.toml:4:", "'link.mtu' must be between 68 and 65535"},
        {"[match]\nname = \"eth0\"\n[link]\nmtu = 65536\n", "t.toml:4:", "between 68 and 65535"},
        {"[match]\nname = \"eth0\"\n[link]\nmtu = -1\n", "t.toml:4:", "between 68 and 65535"},
        {"[match]\nname = \"eth0\"\n[link]\nmtu = 1000\n[ipv6]\naddresses = [\"2001:db8::1/64\"]\n",
         "t.toml:4:", "at least 1280 when IPv6"},
        {"[match]\nname = \"eth0\"\n[link]\nmtu = 1000\n[ipv6]\nslaac = true\n", "t.toml:4:", "at least 1280"},
        // addresses
        {"[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.300/24\"]\n", "t.toml:4:",
         "ipv4.addresses[0]: '192.0.2.300/24' is not an IPv4 prefix"},
        {"[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.1\"]\n", "t.toml:4:",
         "ipv4.addresses[0]: '192.0.2.1' has no prefix length (expected address/length, like 192.0.2.0/24)"},
        {"[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.1/33\"]\n", "t.toml:4:", "bad prefix length"},
        {"[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.1/0\"]\n", "t.toml:4:", "bad prefix length"},
        {"[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"2001:db8::1/64\"]\n", "t.toml:4:",
         "'2001:db8::1/64' is not an IPv4 prefix (it is an IPv6 address)"},
        {"[match]\nname = \"eth0\"\n[ipv6]\naddresses = [\"192.0.2.1/24\"]\n", "t.toml:4:",
         "'192.0.2.1/24' is not an IPv6 prefix (it is an IPv4 address)"},
        {"[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"224.0.0.1/4\"]\n", "t.toml:4:", "not a unicast"},
        {"[match]\nname = \"eth0\"\n[ipv6]\naddresses = [\"ff02::1/64\"]\n", "t.toml:4:", "not a unicast"},
        {"[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.1/24\", \"192.0.2.1/25\"]\n", "t.toml:4:",
         "twice"},
        {"[match]\nname = \"eth0\"\n[ipv4]\ngateway = \"2001:db8::1\"\n", "t.toml:4:",
         "ipv4.gateway: '2001:db8::1' is not an IPv4 address (it is an IPv6 address)"},
        {"[match]\nname = \"eth0\"\n[ipv6]\ngateway = \"192.0.2.1\"\n", "t.toml:4:", "not an IPv6"},
        {"[match]\nname = \"eth0\"\n[ipv4]\ngateway = \"0.0.0.0\"\n", "t.toml:4:", "unspecified"},
        {"[match]\nname = \"eth0\"\n[ipv4]\nslaac = true\n", "t.toml:4:", "unknown key 'slaac' in [ipv4]"},
        {"[match]\nname = \"eth0\"\n[dns]\nservers = [\"dns.example\"]\n", "t.toml:4:",
         "dns.servers[0]: 'dns.example' is not an IPv4 or IPv6 address"},
        {"[match]\nname = \"eth0\"\n[dns]\ndomains = [\"a..b\"]\n", "t.toml:4:", "'dns.domains[0]' is not a valid domain"},
        // routes
        {"[match]\nname = \"eth0\"\n[[route]]\nvia = \"192.0.2.1\"\n", "t.toml:3:", "missing required key 'to'"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.1/24\"\n", "t.toml:4:", "host bits"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\nvia = \"2001:db8::1\"\n", "t.toml:5:",
         "'route[0].via' must be an IPv4 address"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\ntable = 0\n", "t.toml:5:", "between 1 and"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\ntable = 255\n", "t.toml:5:", "reserved"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\ntable = 253\n", "t.toml:5:", "reserved"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\ntable = 4294967295\n", "t.toml:5:", "between"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\ntable = \"local\"\n", "t.toml:5:", "\"main\""},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\nmetric = -1\n", "t.toml:5:", "between 0 and"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\nscope = \"site\"\n", "t.toml:5:", "\"global\""},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\nvia = \"192.0.2.1\"\nscope = \"link\"\n",
         "t.toml:6:", "must be \"global\" for a route with a gateway"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\nonlink = true\n", "t.toml:5:", "needs a gateway"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"2001:db8:1::/48\"\nmtu = 1000\n", "t.toml:5:", "at least 1280"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\n[[route]]\nto = \"198.51.100.0/24\"\n",
         "t.toml:5:", "listed twice"},
        {"[match]\nname = \"eth0\"\n[[route]]\nto = \"198.51.100.0/24\"\nfoo = 1\n", "t.toml:5:", "unknown key 'foo'"},
        // netdevs
        {"[netdev]\nkind = \"bridge\"\n", "t.toml:1:", "missing required key 'name'"},
        {"[netdev]\nname = \"br0\"\n", "t.toml:1:", "missing required key 'kind'"},
        {"[netdev]\nname = \"br0\"\nkind = \"macvlan\"\n", "t.toml:3:", "must be \"bridge\", \"vlan\", \"veth\" or \"bond\""},
        {"[netdev]\nname = \"br0\"\nkind = \"bridge\"\nvlan_id = 5\n", "t.toml:4:", "applies only to kind \"vlan\""},
        {"[netdev]\nname = \"v\"\nkind = \"vlan\"\nparent = \"eth0\"\n", "t.toml:1:", "missing required key 'vlan_id'"},
        {"[netdev]\nname = \"v\"\nkind = \"vlan\"\nvlan_id = 10\n", "t.toml:1:", "missing required key 'parent'"},
        {"[netdev]\nname = \"v\"\nkind = \"vlan\"\nvlan_id = 0\nparent = \"eth0\"\n", "t.toml:4:", "between 1 and 4094"},
        {"[netdev]\nname = \"v\"\nkind = \"vlan\"\nvlan_id = 4095\nparent = \"eth0\"\n", "t.toml:4:", "between 1 and 4094"},
        {"[netdev]\nname = \"v\"\nkind = \"vlan\"\nvlan_id = 5\nparent = \"v\"\n", "t.toml:5:", "not be the VLAN itself"},
        {"[netdev]\nname = \"v\"\nkind = \"veth\"\n", "t.toml:1:", "missing required key 'peer'"},
        {"[netdev]\nname = \"v\"\nkind = \"veth\"\npeer = \"v\"\n", "t.toml:4:", "must differ"},
        {"[netdev]\nname = \"b\"\nkind = \"bond\"\nmode = \"fastest\"\n", "t.toml:4:", "balance-rr"},
        {"[netdev]\nname = \"b\"\nkind = \"bond\"\nmode = \"7\"\n", "t.toml:4:", "balance-rr"},
        {"[netdev]\nname = \"b\"\nkind = \"bridge\"\nmtu = 1500\n[link]\nmtu = 1400\n", "t.toml:4:", "conflicts"},
        {"[netdev]\nname = \"b\"\nkind = \"bridge\"\n[link]\ncontroller = \"b\"\n", "t.toml:4:", "device itself"},
        {"[netdev]\nname = \"b\"\nkind = \"bridge\"\nstp = 1\n", "t.toml:4:", "'netdev.stp' must be a boolean"},
    };
    for (const auto &c : cases) {
        auto m = err(c.text);
        INFO(c.text);
        INFO(m);
        CHECK(m.starts_with(c.where));
        CHECK(m.find(c.what) != std::string::npos);
    }
}

TEST_CASE("hostile inputs are bounded", "[linkd][profile]")
{
    std::string many = "[match]\nname = \"eth0\"\n[ipv4]\naddresses = [";
    for (int i = 0; i < 1025; ++i)
        many += fmt::format("\"10.{}.{}.1/24\",", i / 256, i % 256);
    many += "]\n";
    CHECK(err(many).find("more than 1024") != std::string::npos);

    std::string routes = "[match]\nname = \"eth0\"\n";
    for (int i = 0; i < 1025; ++i)
        routes += fmt::format("[[route]]\nto = \"10.{}.{}.0/24\"\n", i / 256, i % 256);
    CHECK(err(routes).find("more than 1024") != std::string::npos);

    // NUL and control bytes in strings are refused by the config library with a position.
    std::string nul("[match]\nname = \"eth\0\"\n", 23);
    CHECK(err(nul).starts_with("t.toml:2:"));
    err("[match]\nname = \"eth0\"\n[dns]\ndomains = [\"" + std::string(300, 'a') + "\"]\n");
}

TEST_CASE("validation across files names both files", "[linkd][profile]")
{
    auto dup = parse_files({{"10-a.toml", "[netdev]\nname = \"br0\"\nkind = \"bridge\"\n"},
                            {"20-b.toml", "[netdev]\nname = \"br0\"\nkind = \"bond\"\n"}});
    REQUIRE_FALSE(dup);
    CHECK(dup.error().message == "20-b.toml: netdev 'br0' is already defined in 10-a.toml");

    auto peer = parse_files({{"10-a.toml", "[netdev]\nname = \"ve0\"\nkind = \"veth\"\npeer = \"ve1\"\n"},
                             {"20-b.toml", "[netdev]\nname = \"ve1\"\nkind = \"bridge\"\n"}});
    REQUIRE_FALSE(peer);
    CHECK(peer.error().message.find("10-a.toml") != std::string::npos);

    auto ctl = parse_files({{"10-v.toml", "[netdev]\nname = \"v10\"\nkind = \"vlan\"\nvlan_id = 10\nparent = \"eth0\"\n"},
                            {"20-e.toml", "[match]\nname = \"eth1\"\n[link]\ncontroller = \"v10\"\n"}});
    REQUIRE_FALSE(ctl);
    CHECK(ctl.error().message ==
          "20-e.toml: controller 'v10' is a vlan (defined in 10-v.toml), not a bridge or bond");

    auto good = parse_files({{"10-br.toml", "[netdev]\nname = \"br0\"\nkind = \"bridge\"\n"},
                             {"20-e.toml", "[match]\nname = \"eth1\"\n[link]\ncontroller = \"br0\"\n"},
                             {"30-f.toml", "[match]\nname = \"eth2\"\n[link]\ncontroller = \"foreignbr\"\n"}});
    REQUIRE(good);
    CHECK(good->links.size() == 2);
    CHECK(good->netdevs.size() == 1);
}

TEST_CASE("a NUL inside an address is refused, not cut off there", "[linkd][profile]")
{
    // TOML strings may hold \u0000; inet_pton reads a C string and would stop at it, so
    // "192.0.2.1\0x" passed as 192.0.2.1 before the profile parser used net::Address.
    const std::pair<const char *, const char *> cases[] = {
        {"[ipv4]\ngateway = \"192.0.2.1\\u0000x\"\n",
         "t.toml:4:11: ipv4.gateway: '192.0.2.1\\x00x' is not an IPv4 address (it contains a NUL byte)"},
        {"[ipv6]\ngateway = \"fe80::1\\u0000\"\n", "(it contains a NUL byte)"},
        {"[ipv4]\naddresses = [\"192.0.2.1\\u0000x/24\"]\n", "(it contains a NUL byte)"},
        {"[dns]\nservers = [\"192.0.2.53\\u0000\"]\n", "(it contains a NUL byte)"},
        {"[[route]]\nto = \"198.51.100.0\\u0000x/24\"\n", "(it contains a NUL byte)"},
        {"[[route]]\nto = \"198.51.100.0/24\"\nvia = \"192.0.2.1\\u0000x\"\n", "'route[0].via' must be an IPv4 address"},
        {"[link]\nmac = \"02:00:00:00:00:01\\u0000\"\n", "is not a MAC address"},
    };
    for (const auto &[section, want] : cases) {
        std::string text = std::string("[match]\nname = \"eth0\"\n") + section;
        Profiles p;
        auto r = parse_file(text, "t.toml", p);
        INFO(text);
        CHECK_FALSE(r);
        if (!r)
            CHECK_THAT(r.error().message, Catch::Contains(want));
    }
}
