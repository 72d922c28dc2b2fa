// SPDX-License-Identifier: GPL-2.0-or-later
// The shipped default policy (units/examples/firewall.toml) loads and says what it promises.
#include <catch2/catch.hpp>

#include "config/config.hpp"

using namespace alopex::fwd;

TEST_CASE("the shipped firewall.toml loads and is the documented default policy", "[shipped]")
{
    auto m = config::load(ALOPEX_FWD_EXAMPLE);
    if (!m)
        FAIL(m.error().message);
    CHECK(m->default_zone == "public");
    REQUIRE(m->zone_order == std::vector<std::string>{"public"});
    auto &z = m->zones.at("public");
    CHECK(z.interfaces == std::vector<std::string>{"*"});
    CHECK(z.input == Verdict::drop);
    CHECK(z.forward == Verdict::drop);
    CHECK(z.output == Verdict::accept);
    CHECK(z.log_policy);
    CHECK(z.log_limit.rate == 5);
    CHECK(z.log_limit.unit_s == 60);
    CHECK_FALSE(z.masquerade);
    CHECK(z.forwards.empty());

    auto &mgmt = m->sets.at("management").cidrs;
    std::vector<std::string> nets;
    for (auto &c : mgmt)
        nets.push_back(config::to_string(c));
    CHECK(nets == std::vector<std::string>{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"});

    REQUIRE(z.rules.size() == 3);
    auto &ssh = z.rules[0];
    CHECK(ssh.proto == Proto::tcp);
    CHECK(ssh.dport == std::vector<PortRange>{{22, 22}, {9090, 9090}});
    CHECK(ssh.saddr.kind == AddrMatch::Kind::set);
    CHECK(ssh.saddr.name == "management");
    CHECK(ssh.verdict == Verdict::accept);
    auto &ping = z.rules[1];
    CHECK(ping.proto == Proto::icmp);
    CHECK(ping.icmp_types == std::vector<uint8_t>{8});
    CHECK(ping.verdict == Verdict::accept);
    auto &v6 = z.rules[2];
    CHECK(v6.proto == Proto::icmpv6);
    // echo-request, packet-too-big, MLD query, router advert, neighbour solicit/advert
    CHECK(v6.icmp_types == std::vector<uint8_t>{2, 128, 130, 134, 135, 136});
    CHECK(v6.verdict == Verdict::accept);
}
