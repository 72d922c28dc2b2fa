// SPDX-License-Identifier: GPL-2.0-or-later
// The pending-checkpoint file as hostile input: what linkd writes reads back equal; every
// count, number, name and address is bounded or checked; the text is bounded.
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <string>

#include <catch2/catch.hpp>

#include "checkpoint_file.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::linkd;
using alopex::test::ip;

namespace {

const std::string boot = "0123456789abcdef0123456789abcdef";

CheckpointRecord sample()
{
    CheckpointRecord r;
    r.id = 7;
    r.boot_id = boot;
    r.deadline_usec = 123'456'789;
    auto &s = r.state;
    s.links[2] = {"eth0", true, 1500, 5, "", 0, false, 0, false, 0};
    s.links[5] = {"br0", true, 1400, 0, "bridge", 0, false, 0, true, 0};
    s.links[8] = {"eth0.10", false, 1500, 0, "vlan", 2, false, 10, false, 0};
    s.links[9] = {"ct0", true, 1500, 0, "veth", 3, true, 0, false, 0};
    s.links[10] = {"bond0", true, 9000, 0, "bond", 0, false, 0, false, 4};
    netlink::Address a;
    a.ifindex = 2;
    a.family = AF_INET;
    a.address = ip("192.0.2.10");
    a.prefixlen = 24;
    a.scope = RT_SCOPE_UNIVERSE;
    a.flags = IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE;
    a.label = "eth0:1";
    a.broadcast = *net::Address::parse("192.0.2.255");
    s.addresses[netlink::key_of(a)] = a;
    a.family = AF_INET6;
    a.address = ip("2001:db8::10");
    a.peer = ip("2001:db8::1");
    a.prefixlen = 64;
    a.label = "";
    a.broadcast = {};
    a.valid_lft = 3600;
    a.preferred_lft = 1800;
    s.addresses[netlink::key_of(a)] = a;
    netlink::Route rt;
    rt.family = AF_INET;
    rt.table = 254;
    rt.protocol = RTPROT_STATIC;
    rt.type = RTN_UNICAST;
    rt.dst = ip("198.51.100.0");
    rt.dst_len = 24;
    rt.gateway = ip("192.0.2.254");
    rt.oif = 2;
    rt.priority = 100;
    rt.prefsrc = ip("192.0.2.10");
    s.routes[netlink::key_of(rt)] = rt;
    rt.family = AF_INET6;
    rt.table = 4294967295u;
    rt.dst = ip("::");
    rt.dst_len = 0;
    rt.gateway = net::Address();
    rt.prefsrc = net::Address();
    rt.priority = 4294967295u;
    s.routes[netlink::key_of(rt)] = rt;
    r.netdevs.created = {"br9", "vx0"};
    r.netdevs.deleted = {11, 12};
    return r;
}

// `text` with the first `from` replaced by `to`.
std::string with(std::string text, const std::string &from, const std::string &to)
{
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return text;
}

void refused(const std::string &text, const std::string &where)
{
    INFO(text.substr(0, 300));
    auto r = parse_checkpoint(text);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains(where));
}

} // namespace

TEST_CASE("checkpoint file: what linkd writes reads back equal")
{
    auto back = parse_checkpoint(format_checkpoint(sample()));
    REQUIRE(back);
    CHECK(*back == sample());
    CheckpointRecord empty;
    empty.id = 1;
    empty.boot_id = boot;
    auto e = parse_checkpoint(format_checkpoint(empty));
    REQUIRE(e);
    CHECK(*e == empty);
}

TEST_CASE("checkpoint file: names")
{
    CHECK(checkpoint_file_name(42) == "checkpoint-42.json");
    CHECK(checkpoint_file_id("checkpoint-42.json") == 42u);
    for (const char *bad : {"checkpoint-.json", "checkpoint-042.json", "checkpoint-4x.json", "checkpoint-1.json.invalid",
                            "checkpoint--1.json", "checkpoint-99999999999999999999.json", ".checkpoint-1.json.alopex-1",
                            "checkpoint-9007199254740993.json", "dhcp4-eth0.lease"})
        CHECK_FALSE(checkpoint_file_id(bad));
}

TEST_CASE("checkpoint file: the header is checked")
{
    const std::string good = format_checkpoint(sample());
    refused(with(good, R"("version":1)", R"("version":2)"), "version");
    refused(with(good, R"("version":1)", R"("version":1.0)"), "version");
    refused(with(good, R"("id":7)", R"("id":0)"), "id");
    refused(with(good, R"("id":7)", R"("id":-7)"), "id");
    refused(with(good, R"("id":7)", R"("id":9007199254740993)"), "id");
    refused(with(good, R"("id":7)", R"("id":"7")"), "id");
    refused(with(good, boot, "0123456789ABCDEF0123456789ABCDEF"), "boot_id");
    refused(with(good, boot, "0123"), "boot_id");
    refused(with(good, R"("deadline_boottime_usec":123456789)", R"("deadline_boottime_usec":-1)"), "deadline");
    refused(with(good, R"("deadline_boottime_usec":123456789)", R"("deadline_boottime_usec":18446744073709551615)"),
            "deadline");
    refused(with(good, R"("deadline_boottime_usec":123456789)", R"("deadline_boottime_usec":1e3)"), "deadline");
    for (const char *key : {"links", "addresses", "routes", "netdevs_created", "netdevs_deleted"})
        refused(with(good, std::string("\"") + key + "\":[", std::string("\"") + key + "\":{\"x\":0},\"unused\":["), key);
    for (const char *text : {"", "null", "[]", "{", "\"x\"", "{} {}"})
        CHECK_FALSE(parse_checkpoint(text));
}

TEST_CASE("checkpoint file: links out of range, wrong types or repeated are refused")
{
    const std::string good = format_checkpoint(sample());
    const std::string eth0 = R"([2,"eth0",true,1500,5,"",0,false,0,false,0])";
    REQUIRE(good.find(eth0) != std::string::npos);
    for (const char *bad : {
             R"([0,"eth0",true,1500,5,"",0,false,0,false,0])",           // ifindex 0
             R"([2147483648,"eth0",true,1500,5,"",0,false,0,false,0])",  // past int
             R"([2,"0123456789abcdef",true,1500,5,"",0,false,0,false,0])",
             R"([2,"a/b",true,1500,5,"",0,false,0,false,0])",
             R"([2,"eth0",1,1500,5,"",0,false,0,false,0])",              // up not a boolean
             R"([2,"eth0",true,4294967296,5,"",0,false,0,false,0])",     // mtu past 32 bits
             R"([2,"eth0",true,1500,-5,"",0,false,0,false,0])",
             R"([2,"eth0",true,1500,5,"a kind",0,false,0,false,0])",
             R"([2,"eth0",true,1500,5,"",-1,false,0,false,0])",
             R"([2,"eth0",true,1500,5,"",0,false,4096,false,0])",        // vlan id
             R"([2,"eth0",true,1500,5,"",0,false,0,false,7])",           // bond mode
             R"([2,"eth0",true,1500,5,"",0,false,0,false,256])",
             R"([2,"eth0",true,1500,5,"",0,false,0,false])",
             R"({"ifindex":2})",
         })
        refused(with(good, eth0, bad), "links[0]");
    refused(with(good, eth0, eth0 + "," + eth0), "links[1]: ifindex given twice");
}

TEST_CASE("checkpoint file: addresses and routes out of range or of the wrong family are refused")
{
    const std::string good = format_checkpoint(sample());
    const std::string v4 = R"([2,2,"192.0.2.10","",24,0,640,4294967295,4294967295,"eth0:1","192.0.2.255"])";
    REQUIRE(good.find(v4) != std::string::npos);
    for (const char *bad : {
             R"([2,2,"192.0.2.10","",33,0,640,4294967295,4294967295,"eth0:1","192.0.2.255"])",
             R"([2,2,"192.0.2.10","",280,0,640,4294967295,4294967295,"eth0:1","192.0.2.255"])",
             R"([2,2,"2001:db8::1","",24,0,640,4294967295,4294967295,"eth0:1","192.0.2.255"])",
             R"([2,2,"192.0.2.10","2001:db8::1",24,0,640,4294967295,4294967295,"eth0:1","192.0.2.255"])",
             R"([2,258,"192.0.2.10","",24,0,640,4294967295,4294967295,"eth0:1","192.0.2.255"])",
             R"([2,2,"192.0.2.10","",24,256,640,4294967295,4294967295,"eth0:1","192.0.2.255"])",
             R"([2,2,"192.0.2.10","",24,0,4294967296,4294967295,4294967295,"eth0:1","192.0.2.255"])",
             R"([2,2,"192.0.2.10","",24,0,640,4294967296,4294967295,"eth0:1","192.0.2.255"])",
             R"([2,2,"192.0.2.10","",24,0,640,4294967295,-1,"eth0:1","192.0.2.255"])",
             R"([2,2,"192.0.2.10","",24,0,640,4294967295,4294967295,"a label too long"])",
             R"([2,2,"192.0.2.10","",24,0,640,4294967295,4294967295,"a b"])",
             R"([-2,2,"192.0.2.10","",24,0,640,4294967295,4294967295,"eth0:1","192.0.2.255"])",
             R"([2,2,"192.0.2.10","",24,0,640,4294967295,4294967295,"eth0:1","2001:db8::1"])",
             R"([2,2,"192.0.2.10","",24,0,640,4294967295,4294967295,"eth0:1","192.0.2.255",1])",
             R"([2,2,"192.0.2.10","",24,0,640,4294967295,4294967295,"eth0:1",7])",
         })
        refused(with(good, v4, bad), "addresses[");
    refused(with(good, v4, v4 + "," + v4), "address given twice");
    // A file of an older linkd, without the broadcast: the prefix's, as linkd sets it.
    auto old = parse_checkpoint(with(good, v4, R"([2,2,"192.0.2.10","",24,0,640,4294967295,4294967295,"eth0:1"])"));
    REQUIRE(old);
    bool found = false;
    for (const auto &[k, a] : old->state.addresses)
        if (a.address.to_string() == "192.0.2.10") {
            found = true;
            CHECK(a.broadcast.to_string() == "192.0.2.255");
        }
    CHECK(found);

    const std::string r4 = R"([2,254,4,0,1,0,"198.51.100.0",24,"192.0.2.254",2,100,"192.0.2.10"])";
    REQUIRE(good.find(r4) != std::string::npos);
    for (const char *bad : {
             R"([2,4294967296,4,0,1,0,"198.51.100.0",24,"192.0.2.254",2,100,"192.0.2.10"])",
             R"([2,254,256,0,1,0,"198.51.100.0",24,"192.0.2.254",2,100,"192.0.2.10"])",
             R"([2,254,4,0,1,0,"198.51.100.0",33,"192.0.2.254",2,100,"192.0.2.10"])",
             R"([2,254,4,0,1,0,"198.51.100.0",24,"2001:db8::1",2,100,"192.0.2.10"])",
             R"([2,254,4,0,1,0,"198.51.100.0",24,"192.0.2.254",-2,100,"192.0.2.10"])",
             R"([2,254,4,0,1,0,"198.51.100.0",24,"192.0.2.254",2,4294967296,"192.0.2.10"])",
             R"([2,254,4,0,1,0,"",24,"192.0.2.254",2,100,"192.0.2.10"])",
             R"([2,254,4,0,1,0,"198.51.100.0",24,"192.0.2.254",2,100])",
         })
        refused(with(good, r4, bad), "routes[");
    refused(with(good, r4, r4 + "," + r4), "route given twice");
    refused(with(good, R"("netdevs_created":["br9")", R"("netdevs_created":["a/b")"), "netdevs_created[0]");
    refused(with(good, R"("netdevs_deleted":[11)", R"("netdevs_deleted":[0)"), "netdevs_deleted[0]");
}

TEST_CASE("checkpoint file: counts and size are bounded")
{
    CheckpointRecord r;
    r.id = 1;
    r.boot_id = boot;
    std::string text = format_checkpoint(r);
    // One link more than the most a file may hold.
    std::string links;
    for (size_t i = 1; i <= max_checkpoint_links + 1; ++i)
        links += (i > 1 ? "," : "") + std::string(R"([)") + std::to_string(i) + R"(,"l",true,1500,0,"",0,false,0,false,0])";
    refused(with(text, R"("links":[])", R"("links":[)" + links + "]"), "links: more than");
    refused(text + std::string(max_checkpoint_file, ' '), "over");
    // Deep nesting is an error, not a crash.
    CHECK_FALSE(parse_checkpoint(std::string(100000, '[')));
}
