// SPDX-License-Identifier: GPL-2.0-or-later
// RTM_NEWLINK (changes and netdev creation) and RTM_DELLINK, read back byte by byte.
#include <catch2/catch.hpp>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "alopex/netlink/types.hpp"
#include "walk.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::linkd::rtnl;
using namespace alopex::linkd::rtnl::test;
using namespace alopex::test;

namespace {

Request set_link(LinkChange c)
{
    Request r;
    r.op = Request::Op::SetLink;
    r.link = std::move(c);
    return r;
}

Request netdev(NetdevSpec n)
{
    Request r;
    r.op = Request::Op::CreateNetdev;
    r.netdev = std::move(n);
    return r;
}

} // namespace

TEST_CASE("SetLink up/down sets only IFF_UP through ifi_change", "[rtnl][link]")
{
    for (bool up : {true, false}) {
        auto buf = one(set_link({.ifindex = 5, .up = up}), 42);
        auto *h = messages(buf)[0];
        CHECK(h->nlmsg_type == RTM_NEWLINK);
        CHECK(h->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
        CHECK(h->nlmsg_seq == 42);
        auto &ifi = header<ifinfomsg>(h);
        CHECK(ifi.ifi_family == AF_UNSPEC);
        CHECK(ifi.ifi_index == 5);
        CHECK(ifi.ifi_change == IFF_UP);
        CHECK(ifi.ifi_flags == (up ? unsigned(IFF_UP) : 0u));
        CHECK(attrs_after(h, sizeof(ifinfomsg)).empty());
    }
}

TEST_CASE("SetLink without `up` changes no flag", "[rtnl][link]")
{
    auto buf = one(set_link({.ifindex = 5, .mtu = 1400}));
    auto *h = messages(buf)[0];
    CHECK(header<ifinfomsg>(h).ifi_change == 0);
    CHECK(header<ifinfomsg>(h).ifi_flags == 0);
    auto a = attrs_after(h, sizeof(ifinfomsg));
    REQUIRE(a.size() == 1);
    CHECK(u32(a.at(IFLA_MTU)) == 1400);
}

TEST_CASE("SetLink MTU, MAC, rename and controller parse back as a Link", "[rtnl][link]")
{
    auto buf = one(set_link({.ifindex = 9,
                             .up = true,
                             .mtu = 9000,
                             .mac = Mac::eui48({0x02, 0, 0, 0, 0xab, 0xcd}),
                             .name = "uplink0",
                             .controller = 3}));
    auto *h = messages(buf)[0];
    auto m = netlink::parse_message(h, h->nlmsg_len);
    REQUIRE(m);
    REQUIRE(*m);
    auto &l = std::get<netlink::Link>((*m)->object);
    CHECK(l.ifindex == 9);
    CHECK(l.name == "uplink0");
    CHECK(l.mtu == 9000);
    CHECK(l.mac == hw("02:00:00:00:ab:cd"));
    CHECK(l.master == 3);
    CHECK((l.flags & IFF_UP));
}

TEST_CASE("SetLink controller 0 releases the link", "[rtnl][link]")
{
    auto buf = one(set_link({.ifindex = 9, .controller = 0}));
    auto a = attrs_after(messages(buf)[0], sizeof(ifinfomsg));
    CHECK(u32(a.at(IFLA_MASTER)) == 0);
}

TEST_CASE("Bridge creation with STP", "[rtnl][netdev]")
{
    auto buf = one(netdev({.name = "br0", .kind = NetdevKind::Bridge, .stp = true, .mtu = 1500}));
    auto *h = messages(buf)[0];
    CHECK(h->nlmsg_type == RTM_NEWLINK);
    CHECK(h->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL));
    CHECK(header<ifinfomsg>(h).ifi_index == 0);
    auto a = attrs_after(h, sizeof(ifinfomsg));
    CHECK(str(a.at(IFLA_IFNAME)) == "br0");
    CHECK(u32(a.at(IFLA_MTU)) == 1500);
    auto info = nested(a.at(IFLA_LINKINFO));
    CHECK(str(info.at(IFLA_INFO_KIND)) == "bridge");
    auto data = nested(info.at(IFLA_INFO_DATA));
    CHECK(u32(data.at(IFLA_BR_STP_STATE)) == 1);

    auto plain = one(netdev({.name = "br1", .kind = NetdevKind::Bridge}));
    auto pinfo = nested(attrs_after(messages(plain)[0], sizeof(ifinfomsg)).at(IFLA_LINKINFO));
    CHECK(pinfo.count(IFLA_INFO_DATA) == 0);
}

TEST_CASE("VLAN creation names its parent and id", "[rtnl][netdev]")
{
    auto buf = one(netdev({.name = "eth0.42", .kind = NetdevKind::Vlan, .parent = 2, .vlan_id = 42}));
    auto a = attrs_after(messages(buf)[0], sizeof(ifinfomsg));
    CHECK(u32(a.at(IFLA_LINK)) == 2);
    auto info = nested(a.at(IFLA_LINKINFO));
    CHECK(str(info.at(IFLA_INFO_KIND)) == "vlan");
    CHECK(u16(nested(info.at(IFLA_INFO_DATA)).at(IFLA_VLAN_ID)) == 42);
}

TEST_CASE("veth creation nests the peer's ifinfomsg and name", "[rtnl][netdev]")
{
    auto buf = one(netdev({.name = "ve0", .kind = NetdevKind::Veth, .peer = "ve1", .mac = Mac::eui48({2, 1, 2, 3, 4, 5})}));
    auto a = attrs_after(messages(buf)[0], sizeof(ifinfomsg));
    CHECK(a.at(IFLA_ADDRESS).size() == 6);
    auto info = nested(a.at(IFLA_LINKINFO));
    CHECK(str(info.at(IFLA_INFO_KIND)) == "veth");
    auto data = nested(info.at(IFLA_INFO_DATA));
    auto peer = data.at(VETH_INFO_PEER);
    REQUIRE(peer.size() >= sizeof(ifinfomsg));
    ifinfomsg pi;
    std::memcpy(&pi, peer.data(), sizeof pi);
    CHECK(pi.ifi_family == AF_UNSPEC);
    CHECK(pi.ifi_index == 0);
    auto pa = nested(peer, sizeof(ifinfomsg));
    CHECK(str(pa.at(IFLA_IFNAME)) == "ve1");
}

TEST_CASE("Bond creation by mode name or number", "[rtnl][netdev]")
{
    for (auto [name, mode] : {std::pair{"balance-rr", 0}, {"active-backup", 1}, {"balance-xor", 2},
                              {"broadcast", 3}, {"802.3ad", 4}, {"balance-tlb", 5}, {"balance-alb", 6},
                              {"4", 4}, {"0", 0}}) {
        CHECK(bond_mode(name) == mode);
        auto buf = one(netdev({.name = "bond0", .kind = NetdevKind::Bond, .bond_mode = name}));
        auto info = nested(attrs_after(messages(buf)[0], sizeof(ifinfomsg)).at(IFLA_LINKINFO));
        CHECK(str(info.at(IFLA_INFO_KIND)) == "bond");
        CHECK(u8(nested(info.at(IFLA_INFO_DATA)).at(IFLA_BOND_MODE)) == mode);
    }
    for (auto bad : {"", "7", "06", "Active-Backup", "active-backup ", "lacp", "-1"})
        CHECK_FALSE(bond_mode(bad));
}

TEST_CASE("DeleteLink", "[rtnl][link]")
{
    Request r;
    r.op = Request::Op::DeleteLink;
    r.ifindex = 17;
    auto buf = one(r, 3);
    auto *h = messages(buf)[0];
    CHECK(h->nlmsg_type == RTM_DELLINK);
    CHECK(h->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
    CHECK(h->nlmsg_seq == 3);
    CHECK(header<ifinfomsg>(h).ifi_index == 17);
    CHECK(attrs_after(h, sizeof(ifinfomsg)).empty());
}
