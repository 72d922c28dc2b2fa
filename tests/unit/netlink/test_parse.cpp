// SPDX-License-Identifier: GPL-2.0-or-later
// Parser: hand-built rtnetlink messages in, typed values out.
#include <catch2/catch.hpp>

#include "alopex/netlink/types.hpp"
#include "builders.hpp"
#include "net_test.hpp"

using namespace alopex::netlink;
using namespace alopex::netlink::test;
using namespace alopex::test;

namespace {

Message parse_ok(const Msg &m)
{
    auto r = parse_message(m.nlh, m.len());
    REQUIRE(r.has_value());
    REQUIRE(r->has_value());
    return **r;
}

} // namespace

TEST_CASE("netlink: RTM_NEWLINK with every modelled attribute", "[netlink][parse]")
{
    auto m = link_msg(RTM_NEWLINK, 7, "veth0", IFF_UP | IFF_RUNNING | IFF_LOWER_UP);
    const uint8_t mac[6] = {0x02, 0xab, 0xcd, 0x00, 0x01, 0xff};
    m.raw(IFLA_ADDRESS, mac, sizeof mac);
    m.u32(IFLA_MTU, 1400);
    m.u8(IFLA_OPERSTATE, IF_OPER_UP);
    m.u8(IFLA_CARRIER, 1);
    m.u32(IFLA_MASTER, 3);
    rtnl_link_stats64 st{};
    st.rx_packets = 1;
    st.tx_packets = 2;
    st.rx_bytes = 300;
    st.tx_bytes = 400;
    st.rx_errors = 5;
    st.tx_errors = 6;
    st.rx_dropped = 7;
    st.tx_dropped = 8;
    m.raw(IFLA_STATS64, &st, sizeof st);
    auto nest = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
    m.str(IFLA_INFO_KIND, "veth");
    mnl_attr_nest_end(m.nlh, nest);

    auto msg = parse_ok(m);
    CHECK_FALSE(msg.removed);
    const auto &l = std::get<Link>(msg.object);
    CHECK(l.ifindex == 7);
    CHECK(l.name == "veth0");
    CHECK(l.kind == "veth");
    CHECK(l.mac == hw("02:ab:cd:00:01:ff"));
    CHECK(l.mtu == 1400);
    CHECK((l.flags & IFF_UP));
    CHECK(l.operstate == IF_OPER_UP);
    CHECK(operstate_name(l.operstate) == "UP");
    CHECK(l.carrier);
    CHECK(l.master == 3);
    CHECK(l.stats == LinkStats{1, 2, 300, 400, 5, 6, 7, 8});
}

TEST_CASE("netlink: IFLA_ADDRESS of any length up to 32 bytes, none when absent", "[netlink][parse]")
{
    auto m = link_msg(RTM_NEWLINK, 8, "ib0");
    uint8_t ib[20];
    for (uint8_t i = 0; i < 20; ++i)
        ib[i] = static_cast<uint8_t>(0xa0 + i);
    m.raw(IFLA_ADDRESS, ib, sizeof ib);
    auto msg = parse_ok(m);
    const auto &l = std::get<Link>(msg.object);
    CHECK(l.mac.size() == 20);
    CHECK(l.mac.to_string() == "a0:a1:a2:a3:a4:a5:a6:a7:a8:a9:aa:ab:ac:ad:ae:af:b0:b1:b2:b3");
    CHECK(std::get<Link>(parse_ok(link_msg(RTM_NEWLINK, 9, "lo")).object).mac.empty());
}

TEST_CASE("netlink: link details", "[netlink][parse]")
{
    SECTION("RTM_DELLINK is a removal")
    {
        auto msg = parse_ok(link_msg(RTM_DELLINK, 9, "gone"));
        CHECK(msg.removed);
        CHECK(std::get<Link>(msg.object).ifindex == 9);
    }
    SECTION("carrier falls back to IFF_LOWER_UP, IFLA_CARRIER overrides it")
    {
        CHECK(std::get<Link>(parse_ok(link_msg(RTM_NEWLINK, 1, "a", IFF_UP)).object).carrier == false);
        CHECK(std::get<Link>(parse_ok(link_msg(RTM_NEWLINK, 1, "a", IFF_LOWER_UP)).object).carrier == true);
        auto m = link_msg(RTM_NEWLINK, 1, "a", IFF_LOWER_UP);
        m.u8(IFLA_CARRIER, 0);
        CHECK(std::get<Link>(parse_ok(m).object).carrier == false);
    }
    SECTION("a short, older IFLA_STATS64 still gives the first counters")
    {
        auto m = link_msg(RTM_NEWLINK, 1, "a");
        uint64_t c[8] = {10, 20, 30, 40, 50, 60, 70, 80};
        m.raw(IFLA_STATS64, c, sizeof c);
        CHECK(std::get<Link>(parse_ok(m).object).stats == LinkStats{10, 20, 30, 40, 50, 60, 70, 80});
    }
    SECTION("bridge port notifications (AF_BRIDGE) are not ours")
    {
        auto m = link_msg(RTM_DELLINK, 4, "port", 0, AF_BRIDGE);
        auto r = parse_message(m.nlh, m.len());
        REQUIRE(r);
        CHECK_FALSE(r->has_value());
    }
    SECTION("unknown message types are not ours")
    {
        Msg m(RTM_NEWNEIGH);
        m.extra<ndmsg>();
        auto r = parse_message(m.nlh, m.len());
        REQUIRE(r);
        CHECK_FALSE(r->has_value());
    }
}

TEST_CASE("netlink: addresses", "[netlink][parse]")
{
    SECTION("IPv4 with label, flags, lifetimes and a peer")
    {
        Msg m(RTM_NEWADDR);
        auto ifa = m.extra<ifaddrmsg>();
        ifa->ifa_family = AF_INET;
        ifa->ifa_index = 3;
        ifa->ifa_prefixlen = 24;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_flags = IFA_F_PERMANENT;
        m.addr(IFA_LOCAL, AF_INET, "192.0.2.10");
        m.addr(IFA_ADDRESS, AF_INET, "192.0.2.1");
        m.str(IFA_LABEL, "eth0:1");
        m.addr(IFA_BROADCAST, AF_INET, "192.0.2.255");
        m.u32(IFA_FLAGS, IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE);
        ifa_cacheinfo ci{};
        ci.ifa_valid = 3600;
        ci.ifa_prefered = 1800;
        m.raw(IFA_CACHEINFO, &ci, sizeof ci);
        auto a = std::get<Address>(parse_ok(m).object);
        CHECK(a.ifindex == 3);
        CHECK(a.family == AF_INET);
        CHECK(a.address == ip("192.0.2.10"));
        CHECK(a.peer == ip("192.0.2.1"));
        CHECK(a.prefixlen == 24);
        CHECK(a.label == "eth0:1");
        CHECK(a.broadcast == ip("192.0.2.255"));
        CHECK(a.flags == (IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE));
        CHECK(a.valid_lft == 3600);
        CHECK(a.preferred_lft == 1800);
    }
    SECTION("IPv6 from IFA_ADDRESS alone; RTM_DELADDR is a removal")
    {
        auto msg = parse_ok(addr_msg(RTM_DELADDR, AF_INET6, 5, "2001:db8::1", 64));
        CHECK(msg.removed);
        auto a = std::get<Address>(msg.object);
        CHECK(a.family == AF_INET6);
        CHECK(a.address == ip("2001:db8::1"));
        CHECK(a.peer.empty());
        CHECK(a.prefixlen == 64);
        CHECK(a.valid_lft == 0xffffffffu);
    }
}

TEST_CASE("netlink: routes", "[netlink][parse]")
{
    SECTION("IPv4 with RTA_TABLE over rtm_table")
    {
        auto m = route_msg(RTM_NEWROUTE, AF_INET, "198.51.100.0", 24, 4, 1000, 20);
        m.addr(RTA_GATEWAY, AF_INET, "192.0.2.1");
        m.addr(RTA_PREFSRC, AF_INET, "192.0.2.10");
        auto r = std::get<Route>(parse_ok(m).object);
        CHECK(r.family == AF_INET);
        CHECK(r.table == 1000);
        CHECK(r.dst == ip("198.51.100.0"));
        CHECK(r.dst_len == 24);
        CHECK(r.gateway == ip("192.0.2.1"));
        CHECK(r.prefsrc == ip("192.0.2.10"));
        CHECK(r.oif == 4);
        CHECK(r.priority == 20);
        CHECK(r.protocol == RTPROT_BOOT);
        CHECK(r.type == RTN_UNICAST);
    }
    SECTION("a default route has the all-zero destination")
    {
        auto r = std::get<Route>(parse_ok(route_msg(RTM_NEWROUTE, AF_INET, nullptr, 0, 2)).object);
        CHECK(r.dst == ip("0.0.0.0"));
        auto r6 = std::get<Route>(parse_ok(route_msg(RTM_DELROUTE, AF_INET6, nullptr, 0, 2)).object);
        CHECK(r6.dst == ip("::"));
    }
    SECTION("IPv6, removal")
    {
        auto msg = parse_ok(route_msg(RTM_DELROUTE, AF_INET6, "2001:db8:1::", 48, 6, RT_TABLE_MAIN, 1024));
        CHECK(msg.removed);
        auto r = std::get<Route>(msg.object);
        CHECK(r.dst == ip("2001:db8:1::"));
        CHECK(r.table == RT_TABLE_MAIN);
        CHECK(r.priority == 1024);
    }
    SECTION("cloned cache entries and other families are not ours")
    {
        auto m = route_msg(RTM_NEWROUTE, AF_INET6, "2001:db8::", 64, 6);
        reinterpret_cast<rtmsg *>(mnl_nlmsg_get_payload(m.nlh))->rtm_flags |= RTM_F_CLONED;
        auto r = parse_message(m.nlh, m.len());
        REQUIRE(r);
        CHECK_FALSE(r->has_value());
        Msg mr(RTM_NEWROUTE);
        mr.extra<rtmsg>()->rtm_family = RTNL_FAMILY_IPMR;
        auto r2 = parse_message(mr.nlh, mr.len());
        REQUIRE(r2);
        CHECK_FALSE(r2->has_value());
    }
}

TEST_CASE("netlink: route_header reads what a route filter decides on, unparsed", "[netlink][parse]")
{
    auto m = route_msg(RTM_NEWROUTE, AF_INET6, "2001:db8:1::", 48, 6, 1000, 20);
    reinterpret_cast<rtmsg *>(mnl_nlmsg_get_payload(m.nlh))->rtm_protocol = 186;   // bgp
    auto h = route_header(m.nlh, m.len());
    REQUIRE(h);
    CHECK(h->family == AF_INET6);
    CHECK(h->dst_len == 48);
    CHECK(h->protocol == 186);
    CHECK(h->type == RTN_UNICAST);
    CHECK(h->table == 1000);   // RTA_TABLE, not the header's RT_TABLE_COMPAT
    // The same fields as the full parse gives.
    auto r = std::get<Route>(parse_ok(m).object);
    auto p = header_of(r);
    CHECK((p.family == h->family && p.dst_len == h->dst_len && p.protocol == h->protocol &&
           p.type == h->type && p.table == h->table));

    // Anything but a well-formed route message has no header; the full parser says why.
    auto link = link_msg(RTM_NEWLINK, 2, "eth0");
    CHECK_FALSE(route_header(link.nlh, link.len()));
    CHECK_FALSE(route_header(m.nlh, sizeof(nlmsghdr)));           // longer than the buffer
    Msg bad_table = route_msg(RTM_NEWROUTE, AF_INET, "192.0.2.0", 24, 2);
    uint16_t short_table = 7;
    bad_table.raw(RTA_TABLE, &short_table, sizeof short_table);   // RTA_TABLE of 2 bytes
    CHECK_FALSE(route_header(bad_table.nlh, bad_table.len()));
    Msg headerless(RTM_NEWROUTE);
    CHECK_FALSE(route_header(headerless.nlh, headerless.len()));  // no rtmsg
    CHECK(route_header(nullptr, 100) == std::nullopt);
}

TEST_CASE("netlink: parse_stream walks several messages and stops at NLMSG_DONE", "[netlink][parse]")
{
    alignas(nlmsghdr) std::array<char, 8192> buf{};
    size_t off = 0;
    auto add = [&](const Msg &m) {
        memcpy(buf.data() + off, m.buf.data(), m.len());
        off += NLMSG_ALIGN(m.len());
    };
    add(link_msg(RTM_NEWLINK, 1, "lo"));
    add(addr_msg(RTM_NEWADDR, AF_INET, 1, "127.0.0.1", 8));
    add(route_msg(RTM_NEWROUTE, AF_INET, "127.0.0.0", 8, 1));
    Msg done(NLMSG_DONE);
    done.u32(0, 0);
    add(done);
    add(link_msg(RTM_NEWLINK, 2, "after-done"));
    std::vector<Message> got;
    auto r = parse_stream(std::span(reinterpret_cast<const std::byte *>(buf.data()), off),
                          [&](Message &&m) { got.push_back(std::move(m)); });
    REQUIRE(r);
    REQUIRE(got.size() == 3);
    CHECK(std::holds_alternative<Link>(got[0].object));
    CHECK(std::holds_alternative<Address>(got[1].object));
    CHECK(std::holds_alternative<Route>(got[2].object));

    SECTION("NLMSG_ERROR carries its errno")
    {
        Msg e(NLMSG_ERROR);
        auto err = e.extra<nlmsgerr>();
        err->error = -EPERM;
        auto r2 = parse_stream(e.bytes(), [](Message &&) {});
        REQUIRE_FALSE(r2);
        CHECK(r2.error().code == EPERM);
    }
    SECTION("a stream cut in the middle of a message is an error")
    {
        auto r3 = parse_stream(std::span(reinterpret_cast<const std::byte *>(buf.data()), off - 8),
                               [](Message &&) {});
        // the cut lands inside the last message (after DONE, not reached) — cut before DONE:
        auto first = link_msg(RTM_NEWLINK, 1, "lo");
        auto r4 = parse_stream(first.bytes().first(first.len() - 3), [](Message &&) {});
        CHECK(r3);
        CHECK_FALSE(r4);
    }
}

TEST_CASE("netlink: what it takes to create a link again", "[netlink][parse]")
{
    auto with_data = [](const char *kind, auto &&fill) {
        auto m = link_msg(RTM_NEWLINK, 12, "nd0");
        auto info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
        m.str(IFLA_INFO_KIND, kind);
        auto data = mnl_attr_nest_start(m.nlh, IFLA_INFO_DATA);
        fill(m);
        mnl_attr_nest_end(m.nlh, data);
        mnl_attr_nest_end(m.nlh, info);
        return std::get<Link>(parse_ok(m).object);
    };
    SECTION("a VLAN's id and parent")
    {
        auto l = with_data("vlan", [](Msg &m) { mnl_attr_put_u16(m.nlh, IFLA_VLAN_ID, 42); });
        CHECK(l.vlan_id == 42);
        auto m = link_msg(RTM_NEWLINK, 12, "v");
        m.u32(IFLA_LINK, 3);
        auto p = std::get<Link>(parse_ok(m).object);
        CHECK(p.link == 3);
        CHECK_FALSE(p.link_netns);
    }
    SECTION("a bridge's STP state")
    {
        CHECK(with_data("bridge", [](Msg &m) { m.u32(IFLA_BR_STP_STATE, 1); }).stp);
        CHECK_FALSE(with_data("bridge", [](Msg &m) { m.u32(IFLA_BR_STP_STATE, 0); }).stp);
    }
    SECTION("a bond's mode")
    {
        CHECK(with_data("bond", [](Msg &m) { m.u8(IFLA_BOND_MODE, 4); }).bond_mode == 4);
    }
    SECTION("another kind's data with the same attribute numbers is not read")
    {
        // IFLA_VLAN_ID is 1, as is IFLA_BR_FORWARD_DELAY (a u32) and IFLA_BOND_MODE.
        auto l = with_data("bridge", [](Msg &m) { m.u32(IFLA_BR_FORWARD_DELAY, 1500); });
        CHECK(l.vlan_id == 0);
        CHECK(l.bond_mode == 0);
    }
    SECTION("a veth whose peer is in another namespace")
    {
        auto m = link_msg(RTM_NEWLINK, 12, "veth1");
        m.u32(IFLA_LINK, 2);
        m.u32(IFLA_LINK_NETNSID, 0);
        auto l = std::get<Link>(parse_ok(m).object);
        CHECK(l.link == 2);
        CHECK(l.link_netns);
    }
}
