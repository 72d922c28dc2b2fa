// SPDX-License-Identifier: GPL-2.0-or-later
// Checkpoints, the pure part: what is captured, and which requests put it back.
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "checkpoint.hpp"

using namespace alopex;
using namespace alopex::linkd;
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
        x.address = std::move(a);
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
        r.dst = std::move(dst);
        r.dst_len = len;
        r.protocol = proto;
        r.type = RTN_UNICAST;
        r.oif = 2;
        r.gateway = len ? "192.0.2.254" : "192.0.2.1";
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
    CHECK(c.links.at(2) == CheckpointState::LinkSnap{"eth0", true, 1500});
    REQUIRE(c.addresses.size() == 1);
    CHECK(c.addresses.begin()->second.address == "192.0.2.10");
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
    extra.address = "203.0.113.5";
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
    CHECK(reqs[1].address.address == "203.0.113.5");
    CHECK(reqs[2].op == Op::AddAddress);
    CHECK(reqs[2].address.address == "192.0.2.10");
    CHECK(reqs[3].op == Op::AddRoute);
}

TEST_CASE("checkpoint: links that went away are skipped")
{
    auto then = capture(kernel());
    netlink::Snapshot empty;
    CHECK(rollback_requests(then, capture(empty)).empty());
}
