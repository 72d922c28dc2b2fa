// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl link ...`: argument parsing, link lookup and output formats, without a bus.
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "link_cmd.hpp"
#include "render.hpp"

using namespace alopexctl;
using Op = LinkRequest::Op;
namespace l1 = alopex::ipc::link1;
using namespace alopex::test;

namespace {

alopex::Result<LinkRequest> parse(std::vector<std::string_view> w) { return parse_link_args(w); }

std::vector<l1::LinkInfo> sample()
{
    l1::LinkInfo lo;
    lo.ifindex = 1;
    lo.name = "lo";
    lo.operstate = "UNKNOWN";
    lo.admin = "up";
    lo.mtu = 65536;
    lo.addresses.push_back({AF_INET, "127.0.0.1", 8, "host", 0, 0xffffffff, 0xffffffff, "kernel"});
    l1::LinkInfo eth;
    eth.ifindex = 7;
    eth.name = "eth0";
    eth.kind = "veth";
    eth.operstate = "UP";
    eth.admin = "up";
    eth.mtu = 1500;
    eth.zone = "wan";
    eth.addresses.push_back({AF_INET, "192.0.2.10", 24, "global", 0, 3600, 1800, "dhcp"});
    eth.addresses.push_back({AF_INET6, "fe80::1", 64, "link", 0, 0xffffffff, 0xffffffff, "kernel"});
    eth.addresses.push_back({AF_INET, "198.51.100.7", 28, "global", 0, 0xffffffff, 0xffffffff, "static"});
    eth.dhcp_state = "bound";
    eth.dhcp_address = "192.0.2.10/24";
    eth.dhcp_server = "192.0.2.1";
    eth.dhcp_lease_time = 3600;
    eth.dhcp_t1 = 1800;
    eth.dhcp_t2 = 3150;
    eth.mac = "52:54:00:12:34:56";
    eth.carrier = true;
    eth.managed = true;
    eth.controller = 3;
    eth.dns_servers = {"192.0.2.53", "2001:db8::53"};
    eth.dns_domains = {"example.org"};
    return {lo, eth};
}

} // namespace

TEST_CASE("alopexctl link: subcommands")
{
    CHECK(parse({})->op == Op::list);
    CHECK(parse({"list"})->op == Op::list);
    auto up = parse({"up", "eth0"});
    REQUIRE(up);
    CHECK(up->op == Op::up);
    CHECK(up->link == "eth0");
    auto mtu = parse({"set", "eth0", "mtu", "9000"});
    REQUIRE(mtu);
    CHECK(mtu->op == Op::set_mtu);
    CHECK(mtu->mtu == 9000);
    CHECK(parse({"set", "eth0", "zone", "wan"})->value == "wan");
    CHECK(parse({"set", "eth0", "name", "uplink"})->op == Op::rename);
    auto add = parse({"addr", "add", "eth0", "192.0.2.10/24"});
    REQUIRE(add);
    CHECK(add->op == Op::addr_add);
    CHECK(add->value == "192.0.2.10/24");
    CHECK(parse({"addr", "del", "eth0", "192.0.2.10/24"})->op == Op::addr_del);
    auto rt = parse({"route", "add", "198.51.100.0/24", "via", "192.0.2.1", "metric", "100", "table", "7"});
    REQUIRE(rt);
    CHECK(rt->op == Op::route_add);
    CHECK(rt->to == "198.51.100.0/24");
    CHECK(rt->via == "192.0.2.1");
    CHECK(rt->metric == 100);
    CHECK(rt->table == 7);
    CHECK(rt->link.empty());
    auto rd = parse({"route", "del", "default", "dev", "eth0"});
    REQUIRE(rd);
    CHECK(rd->link == "eth0");
    CHECK(parse({"reload"})->op == Op::reload);
    CHECK(parse({"renew", "eth0"})->op == Op::renew);
    CHECK(parse({"address", "add", "eth0", "192.0.2.10/24"})->op == Op::addr_add);
}

TEST_CASE("alopexctl link: bad arguments name the word")
{
    auto msg = [](std::vector<std::string_view> w) {
        auto r = parse_link_args(w);
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK_THAT(msg({"frobnicate"}), Catch::Contains("'frobnicate'"));
    CHECK_THAT(msg({"up"}), Catch::Contains("missing argument"));
    CHECK_THAT(msg({"up", "eth0", "eth1"}), Catch::Contains("'eth1'"));
    CHECK_THAT(msg({"set", "eth0", "mtu", "big"}), Catch::Contains("mtu: not a non-negative integer: 'big'"));
    CHECK_THAT(msg({"set", "eth0", "mtu", "-1"}), Catch::Contains("'-1'"));
    CHECK_THAT(msg({"set", "eth0", "mtu", "99999999999"}), Catch::Contains("'99999999999'"));
    CHECK_THAT(msg({"set", "eth0", "colour", "red"}), Catch::Contains("'colour'"));
    CHECK_THAT(msg({"addr", "flush", "eth0"}), Catch::Contains("unknown subcommand 'flush' (add or del)"));
    CHECK_THAT(msg({"route", "add", "10.0.0.0/8"}), Catch::Contains("via GATEWAY"));
    CHECK_THAT(msg({"route", "add", "10.0.0.0/8", "via"}), Catch::Contains("'via' needs a value"));
    CHECK_THAT(msg({"route", "add", "10.0.0.0/8", "proto", "static"}), Catch::Contains("'proto'"));
    CHECK_THAT(msg({"reload", "now"}), Catch::Contains("'now'"));
}

TEST_CASE("alopexctl link: lookup by name or index")
{
    auto links = sample();
    CHECK(find_link(links, "eth0")->ifindex == 7);
    CHECK(find_link(links, "7")->name == "eth0");
    auto missing = find_link(links, "wlan0\n");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().bus_name == "org.alopex.Error.NoSuchLink");
    CHECK(missing.error().message.find('\n') == std::string::npos);
    CHECK_FALSE(find_link(links, "8"));
}

TEST_CASE("alopexctl link: table, detail and JSON")
{
    auto links = sample();
    CHECK(people(links_document(links)) == "IDX  LINK  KIND  OPER     ADMIN  MTU    ZONE  ADDRESSES\n"
                                           "1    lo    -     UNKNOWN  up     65536  -     -\n"
                                           "7    eth0  veth  UP       up     1500   wan   192.0.2.10/24 | 198.51.100.7/28\n");
    auto detail = people(link_detail_document(links[1]));
    CHECK(detail.starts_with("7: eth0\n"));
    CHECK_THAT(detail, Catch::Contains("  inet          192.0.2.10/24 scope global dhcp valid 3600s preferred 1800s\n"));
    CHECK_THAT(detail, Catch::Contains("  inet6         fe80::1/64 scope link kernel valid forever"));
    CHECK_THAT(detail, Catch::Contains("  dhcp          bound 192.0.2.10/24"));
    auto j = nlohmann::json::parse(json_of(links_document(links)));
    REQUIRE(j["links"].size() == 2);
    CHECK(j["links"][1]["name"] == "eth0");
    CHECK(j["links"][1]["addresses"][0]["origin"] == "dhcp");
    CHECK(j["links"][1]["dhcp"]["state"] == "bound");
    CHECK_FALSE(j["links"][0].contains("dhcp"));
    CHECK(nlohmann::json::parse(json_of(link_detail_document(links[1])))["links"][0] == j["links"][1]);
    check_golden("link-list.txt", all_renderings(links_document(links)));
    check_golden("link-show.txt", all_renderings(link_detail_document(links[1])));
}

TEST_CASE("alopexctl checkpoint: arguments")
{
    auto parse = [](std::vector<std::string_view> w) { return parse_checkpoint_args(w); };
    CHECK(parse({"create", "30"})->timeout_s == 30);
    CHECK(parse({"confirm", "/org/alopex/Link1/checkpoint/1"})->op == CheckpointRequest::Op::confirm);
    CHECK(parse({"rollback", "/org/alopex/Link1/checkpoint/1"})->path == "/org/alopex/Link1/checkpoint/1");
    CHECK(parse({"create", "soon"}).error().message == "checkpoint create: timeout: not a non-negative integer: 'soon'");
    CHECK(parse({"confirm", "not a path"}).error().message == "checkpoint confirm: not an object path: 'not a path'");
    CHECK(parse({"create"}).error().message == "checkpoint create: expected SECONDS");
    CHECK(parse({"undo"}).error().message == "checkpoint: unknown subcommand 'undo' (create, confirm or rollback)");
}
