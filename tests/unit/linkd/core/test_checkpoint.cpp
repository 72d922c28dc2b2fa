// SPDX-License-Identifier: GPL-2.0-or-later
// Checkpoints, the pure part: what is captured, and which requests put it back.
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "checkpoint.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::linkd;
using namespace alopex::test;
using Op = rtnl::Request::Op;

namespace {

netlink::Snapshot kernel()
{
    netlink::Snapshot s;
    netlink::Link eth;
    eth.ifindex = 2;
    eth.name = "eth0";
    eth.flags = IFF_UP;
    eth.mtu = 1500;
    s.links[2] = eth;
    auto addr = [&](std::string a, uint8_t len, uint8_t scope, uint32_t flags) {
        netlink::Address x;
        x.ifindex = 2;
        x.family = a.find(':') == std::string::npos ? AF_INET : AF_INET6;
        x.address = ip(a);
        x.prefixlen = len;
        x.scope = scope;
        x.flags = flags;
        s.addresses[netlink::key_of(x)] = x;
    };
    addr("192.0.2.10", 24, RT_SCOPE_UNIVERSE, IFA_F_PERMANENT);
    addr("192.0.2.77", 24, RT_SCOPE_UNIVERSE, 0);                 // a DHCP lease: not covered
    addr("fe80::1", 64, RT_SCOPE_LINK, IFA_F_PERMANENT);          // kernel link-local: not covered
    auto route = [&](std::string dst, uint8_t len, uint8_t proto) {
        netlink::Route r;
        r.family = AF_INET;
        r.table = 254;
        r.dst = ip(dst);
        r.dst_len = len;
        r.protocol = proto;
        r.type = RTN_UNICAST;
        r.oif = 2;
        r.gateway = ip(len ? "192.0.2.254" : "192.0.2.1");
        s.routes[netlink::key_of(r)] = r;
    };
    route("198.51.100.0", 24, RTPROT_STATIC);
    route("0.0.0.0", 0, RTPROT_BOOT);
    route("192.0.2.0", 24, RTPROT_KERNEL);                        // not covered
    return s;
}

} // namespace

TEST_CASE("checkpoint: capture keeps permanent global addresses and static/boot routes")
{
    auto c = capture(kernel());
    CHECK(c.links.at(2).name == "eth0");
    CHECK(c.links.at(2).up);
    CHECK(c.links.at(2).mtu == 1500);
    REQUIRE(c.addresses.size() == 1);
    CHECK(c.addresses.begin()->second.address == ip("192.0.2.10"));
    CHECK(c.routes.size() == 2);
}

TEST_CASE("checkpoint: nothing changed, nothing to do")
{
    auto c = capture(kernel());
    CHECK(rollback_requests(c, c).empty());
}

TEST_CASE("checkpoint: changes are undone in a safe order")
{
    auto then = capture(kernel());
    auto k = kernel();
    k.links[2].flags = 0;
    k.links[2].mtu = 1300;
    k.addresses.erase(k.addresses.begin());   // 192.0.2.10 gone
    netlink::Address extra;
    extra.ifindex = 2;
    extra.family = AF_INET;
    extra.address = ip("203.0.113.5");
    extra.prefixlen = 24;
    extra.flags = IFA_F_PERMANENT;
    k.addresses[netlink::key_of(extra)] = extra;
    k.routes.erase(k.routes.begin());
    auto reqs = rollback_requests(then, capture(k));
    REQUIRE(reqs.size() == 4);
    CHECK(reqs[0].op == Op::SetLink);
    CHECK(reqs[0].link.up == true);
    CHECK(reqs[0].link.mtu == 1500u);
    CHECK(reqs[1].op == Op::RemoveAddress);
    CHECK(reqs[1].address.address == ip("203.0.113.5"));
    CHECK(reqs[2].op == Op::AddAddress);
    CHECK(reqs[2].address.address == ip("192.0.2.10"));
    CHECK(reqs[3].op == Op::AddRoute);
}

TEST_CASE("checkpoint: links that went away are skipped")
{
    auto then = capture(kernel());
    netlink::Snapshot empty;
    CHECK(rollback_requests(then, capture(empty)).empty());
}

namespace {

// eth0 (2) is a port of br0 (5, STP on); veth0 (6) / veth1 (7) a pair; vlan10 (8) on
// eth0; a veth whose peer lives in another namespace (9).
CheckpointState with_netdevs()
{
    netlink::Snapshot k = kernel();
    auto add = [&](int index, std::string name, std::string kind) -> netlink::Link & {
        netlink::Link &l = k.links[index];
        l.ifindex = index;
        l.name = std::move(name);
        l.kind = std::move(kind);
        l.flags = IFF_UP;
        l.mtu = 1500;
        return l;
    };
    add(5, "br0", "bridge").stp = true;
    k.links[2].master = 5;
    add(6, "veth0", "veth").link = 7;
    add(7, "veth1", "veth").link = 6;
    auto &v = add(8, "vlan10", "vlan");
    v.link = 2;
    v.vlan_id = 10;
    auto &c = add(9, "ct0", "veth");
    c.link = 3;
    c.link_netns = true;
    netlink::Address a;
    a.ifindex = 5;
    a.family = AF_INET;
    a.address = ip("198.51.100.1");
    a.prefixlen = 24;
    a.flags = IFA_F_PERMANENT;
    k.addresses[netlink::key_of(a)] = a;
    return capture(k);
}

} // namespace

TEST_CASE("checkpoint: capture keeps what it takes to create netdevs again")
{
    auto c = with_netdevs();
    CHECK(c.links.at(2).master == 5);
    CHECK(c.links.at(5).kind == "bridge");
    CHECK(c.links.at(5).stp);
    CHECK(c.links.at(8).vlan_id == 10);
    CHECK(c.links.at(8).link == 2);
    CHECK(c.links.at(9).link_netns);
}

TEST_CASE("checkpoint: netdevs linkd deleted are created again, with their shape")
{
    auto then = with_netdevs();
    auto now = then;
    for (int gone : {5, 6, 7, 8, 9})
        now.links.erase(gone);
    now.links[2].master = 0;
    NetdevLog log;
    log.deleted = {5, 6, 8, 9};   // veth1 went with veth0
    std::vector<std::string> notes;
    auto reqs = netdev_rollback_requests(then, now, log, notes);
    REQUIRE(reqs.size() == 3);
    for (const auto &q : reqs)
        CHECK(q.op == Op::CreateNetdev);
    CHECK(reqs[0].netdev.name == "br0");
    CHECK(reqs[0].netdev.kind == rtnl::NetdevKind::Bridge);
    CHECK(reqs[0].netdev.stp == true);
    CHECK(reqs[1].netdev.name == "veth0");
    CHECK(reqs[1].netdev.peer == "veth1");
    CHECK(reqs[2].netdev.name == "vlan10");
    CHECK(reqs[2].netdev.parent == 2);
    CHECK(reqs[2].netdev.vlan_id == 10);
    // The container's veth cannot be made again here: said, not done.
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].find("ct0") != std::string::npos);

    SECTION("then the bridge gets its port, state and address back under its new index")
    {
        auto renumbered = renumber(then, {{5, 50}});
        CHECK(renumbered.links.at(2).master == 50);
        CHECK(renumbered.links.at(50).name == "br0");
        auto fresh = renumbered.links.at(50);
        fresh.up = false;
        fresh.master = 0;
        now.links[50] = fresh;
        auto rest = rollback_requests(renumbered, now);
        bool port = false, up = false, address = false;
        for (const auto &q : rest) {
            if (q.op == Op::SetLink && q.link.ifindex == 2 && q.link.controller == 50)
                port = true;
            if (q.op == Op::SetLink && q.link.ifindex == 50 && q.link.up == true)
                up = true;
            if (q.op == Op::AddAddress && q.address.ifindex == 50 && q.address.address == ip("198.51.100.1"))
                address = true;
        }
        CHECK(port);
        CHECK(up);
        CHECK(address);
    }
}

TEST_CASE("checkpoint: netdevs linkd created after it are deleted, nothing else")
{
    auto then = with_netdevs();
    auto now = then;
    auto add = [&](int index, const char *name) {
        auto &l = now.links[index];
        l.name = name;
        l.kind = "bridge";
    };
    add(20, "br-new");
    add(21, "br-foreign");   // someone else's: not in the log
    NetdevLog log;
    log.created = {"br-new", "br0", "br-gone"};   // br0 existed before: not deleted
    std::vector<std::string> notes;
    auto reqs = netdev_rollback_requests(then, now, log, notes);
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].op == Op::DeleteLink);
    CHECK(reqs[0].ifindex == 20);
    CHECK(notes.empty());
}

TEST_CASE("checkpoint: a netdev is not created again over a name that is taken")
{
    auto then = with_netdevs();
    auto now = then;
    now.links.erase(5);
    now.links[30] = now.links.at(6);
    now.links[30].name = "br0";
    NetdevLog log;
    log.deleted = {5};
    std::vector<std::string> notes;
    CHECK(netdev_rollback_requests(then, now, log, notes).empty());
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].find("br0") != std::string::npos);
}

TEST_CASE("checkpoint: a port leaves the bridge it joined after the checkpoint")
{
    auto then = with_netdevs();
    auto now = then;
    now.links[6].master = 5;
    auto reqs = rollback_requests(then, now);
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].link.ifindex == 6);
    CHECK(reqs[0].link.controller == 0);
}
