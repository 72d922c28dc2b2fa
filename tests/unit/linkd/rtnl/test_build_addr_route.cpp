// SPDX-License-Identifier: GPL-2.0-or-later
// RTM_NEWADDR/DELADDR and RTM_NEWROUTE/DELROUTE, parsed back with libcommon's parser and
// walked by hand for what the parser does not model.
#include <catch2/catch.hpp>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "alopex/netlink/types.hpp"
#include "walk.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::linkd::rtnl;
using namespace alopex::linkd::rtnl::test;
using namespace alopex::test;

namespace {

Request addr(Request::Op op, AddressSpec a)
{
    Request r;
    r.op = op;
    r.address = std::move(a);
    return r;
}

Request route(Request::Op op, RouteSpec s)
{
    Request r;
    r.op = op;
    r.route = std::move(s);
    return r;
}

netlink::Message parsed(const std::vector<std::byte> &buf)
{
    auto *h = messages(buf)[0];
    auto m = netlink::parse_message(h, h->nlmsg_len);
    INFO((m ? std::string() : m.error().message));
    REQUIRE(m);
    REQUIRE(*m);
    return std::move(**m);
}

} // namespace

TEST_CASE("IPv4 address add: local, address, broadcast, lifetimes, flags", "[rtnl][addr]")
{
    auto buf = one(addr(Request::Op::AddAddress, {.ifindex = 4,
                                                  .family = AF_INET,
                                                  .address = ip("192.0.2.10"),
                                                  .prefixlen = 24,
                                                  .valid_lft = 600,
                                                  .preferred_lft = 300,
                                                  .noprefixroute = true}));
    auto *h = messages(buf)[0];
    CHECK(h->nlmsg_type == RTM_NEWADDR);
    CHECK(h->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL));
    auto a = attrs_after(h, sizeof(ifaddrmsg));
    CHECK(ip(AF_INET, a.at(IFA_LOCAL)) == "192.0.2.10");
    CHECK(ip(AF_INET, a.at(IFA_ADDRESS)) == "192.0.2.10");
    CHECK(ip(AF_INET, a.at(IFA_BROADCAST)) == "192.0.2.255");
    CHECK(u32(a.at(IFA_FLAGS)) == IFA_F_NOPREFIXROUTE);
    REQUIRE(a.at(IFA_CACHEINFO).size() == sizeof(ifa_cacheinfo));

    auto m = parsed(buf);
    CHECK_FALSE(m.removed);
    auto &ad = std::get<netlink::Address>(m.object);
    CHECK(ad.ifindex == 4);
    CHECK(ad.family == AF_INET);
    CHECK(ad.address == ip("192.0.2.10"));
    CHECK(ad.peer.empty());
    CHECK(ad.prefixlen == 24);
    CHECK(ad.valid_lft == 600);
    CHECK(ad.preferred_lft == 300);
    CHECK(ad.flags == IFA_F_NOPREFIXROUTE);
}

TEST_CASE("IPv4 broadcast follows the prefix and is left out for /31, /32 and on request", "[rtnl][addr]")
{
    auto bcast = [](const char *a, uint8_t len, bool want = true) {
        auto buf = one(addr(Request::Op::AddAddress,
                            {.ifindex = 1, .family = AF_INET, .address = alopex::test::ip(a), .prefixlen = len, .broadcast = want}));
        auto at = attrs_after(messages(buf)[0], sizeof(ifaddrmsg));
        return at.count(IFA_BROADCAST) ? ip(AF_INET, at.at(IFA_BROADCAST)) : std::string("none");
    };
    CHECK(bcast("10.1.2.3", 8) == "10.255.255.255");
    CHECK(bcast("10.1.2.3", 20) == "10.1.15.255");
    CHECK(bcast("10.1.2.3", 30) == "10.1.2.3");
    CHECK(bcast("10.1.2.3", 0) == "255.255.255.255");
    CHECK(bcast("10.1.2.3", 31) == "none");
    CHECK(bcast("10.1.2.3", 32) == "none");
    CHECK(bcast("10.1.2.3", 24, false) == "none");
    // A checkpoint restores what it found: a given broadcast, or none.
    auto as = [](std::optional<alopex::net::Address> b) {
        auto buf = one(addr(Request::Op::AddAddress, {.ifindex = 1, .family = AF_INET, .address = alopex::test::ip("10.1.2.3"),
                                                      .prefixlen = 24, .broadcast_as = b}));
        auto at = attrs_after(messages(buf)[0], sizeof(ifaddrmsg));
        return at.count(IFA_BROADCAST) ? ip(AF_INET, at.at(IFA_BROADCAST)) : std::string("none");
    };
    CHECK(as(alopex::net::Address()) == "none");
    CHECK(as(alopex::test::ip("10.1.2.128")) == "10.1.2.128");
}

TEST_CASE("Only a valid lifetime makes the preferred one equal; no lifetime, no cacheinfo", "[rtnl][addr]")
{
    auto m = parsed(one(addr(Request::Op::AddAddress,
                             {.ifindex = 1, .family = AF_INET6, .address = ip("2001:db8::1"), .prefixlen = 64,
                              .valid_lft = 100})));
    auto &a = std::get<netlink::Address>(m.object);
    CHECK(a.valid_lft == 100);
    CHECK(a.preferred_lft == 100);

    auto buf = one(addr(Request::Op::AddAddress,
                        {.ifindex = 1, .family = AF_INET6, .address = ip("2001:db8::1"), .prefixlen = 64}));
    CHECK(attrs_after(messages(buf)[0], sizeof(ifaddrmsg)).count(IFA_CACHEINFO) == 0);
}

TEST_CASE("IPv6 address: nodad flag, no broadcast; removal is RTM_DELADDR", "[rtnl][addr]")
{
    AddressSpec s{.ifindex = 6, .family = AF_INET6, .address = ip("2001:DB8::10"), .prefixlen = 64, .nodad = true};
    auto buf = one(addr(Request::Op::AddAddress, s));
    auto *h = messages(buf)[0];
    CHECK(header<ifaddrmsg>(h).ifa_flags == IFA_F_NODAD);
    auto at = attrs_after(h, sizeof(ifaddrmsg));
    CHECK(at.count(IFA_BROADCAST) == 0);
    CHECK(u32(at.at(IFA_FLAGS)) == IFA_F_NODAD);
    CHECK(std::get<netlink::Address>(parsed(buf).object).address == ip("2001:db8::10"));

    auto del = one(addr(Request::Op::RemoveAddress, s));
    auto *d = messages(del)[0];
    CHECK(d->nlmsg_type == RTM_DELADDR);
    CHECK(d->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
    auto m = parsed(del);
    CHECK(m.removed);
    CHECK(std::get<netlink::Address>(m.object).prefixlen == 64);
}

TEST_CASE("Route add, replace and remove flags", "[rtnl][route]")
{
    RouteSpec s{.family = AF_INET, .dst = ip("198.51.100.0"), .dst_len = 24, .gateway = ip("192.0.2.254"), .oif = 3};
    auto flags = [&](Request::Op op) { return messages(one(route(op, s)))[0]->nlmsg_flags; };
    auto type = [&](Request::Op op) { return messages(one(route(op, s)))[0]->nlmsg_type; };
    CHECK(flags(Request::Op::AddRoute) == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL));
    CHECK(flags(Request::Op::ReplaceRoute) == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE));
    CHECK(flags(Request::Op::RemoveRoute) == (NLM_F_REQUEST | NLM_F_ACK));
    CHECK(type(Request::Op::AddRoute) == RTM_NEWROUTE);
    CHECK(type(Request::Op::ReplaceRoute) == RTM_NEWROUTE);
    CHECK(type(Request::Op::RemoveRoute) == RTM_DELROUTE);
}

TEST_CASE("Route attributes parse back as a Route", "[rtnl][route]")
{
    auto buf = one(route(Request::Op::AddRoute, {.family = AF_INET,
                                                 .dst = ip("198.51.100.0"),
                                                 .dst_len = 24,
                                                 .gateway = ip("192.0.2.254"),
                                                 .prefsrc = ip("192.0.2.10"),
                                                 .oif = 3,
                                                 .table = 100,
                                                 .metric = 50,
                                                 .protocol = RTPROT_DHCP}));
    auto *h = messages(buf)[0];
    auto &rtm = header<rtmsg>(h);
    CHECK(rtm.rtm_table == 100);
    CHECK(rtm.rtm_flags == 0);
    CHECK(u32(attrs_after(h, sizeof(rtmsg)).at(RTA_TABLE)) == 100);
    auto r = std::get<netlink::Route>(parsed(buf).object);
    CHECK(r.family == AF_INET);
    CHECK(r.dst == ip("198.51.100.0"));
    CHECK(r.dst_len == 24);
    CHECK(r.gateway == ip("192.0.2.254"));
    CHECK(r.prefsrc == ip("192.0.2.10"));
    CHECK(r.oif == 3);
    CHECK(r.table == 100);
    CHECK(r.priority == 50);
    CHECK(r.protocol == RTPROT_DHCP);
    CHECK(r.scope == RT_SCOPE_UNIVERSE);
    CHECK(r.type == RTN_UNICAST);
}

TEST_CASE("Route table over 255 goes only in RTA_TABLE; onlink, scope and MTU", "[rtnl][route]")
{
    auto buf = one(route(Request::Op::ReplaceRoute, {.family = AF_INET6,
                                                     .gateway = ip("fe80::1"),
                                                     .oif = 2,
                                                     .table = 1000,
                                                     .scope = RT_SCOPE_LINK,
                                                     .onlink = true,
                                                     .mtu = 1280}));
    auto *h = messages(buf)[0];
    auto &rtm = header<rtmsg>(h);
    CHECK(rtm.rtm_table == RT_TABLE_UNSPEC);
    CHECK(rtm.rtm_flags == RTNH_F_ONLINK);
    CHECK(rtm.rtm_scope == RT_SCOPE_LINK);
    CHECK(rtm.rtm_dst_len == 0);
    auto a = attrs_after(h, sizeof(rtmsg));
    CHECK(a.count(RTA_DST) == 0);          // default route
    CHECK(a.count(RTA_PRIORITY) == 0);
    CHECK(a.count(RTA_PREFSRC) == 0);
    CHECK(u32(a.at(RTA_TABLE)) == 1000);
    CHECK(u32(nested(a.at(RTA_METRICS)).at(RTAX_MTU)) == 1280);
    auto r = std::get<netlink::Route>(parsed(buf).object);
    CHECK(r.table == 1000);
    CHECK(r.dst == ip("::"));
    CHECK(r.gateway == ip("fe80::1"));
}

TEST_CASE("Messages of a batch follow each other, aligned, with their own sequence numbers", "[rtnl]")
{
    std::vector<std::byte> buf;
    for (uint32_t i = 0; i < 50; ++i) {
        auto r = addr(Request::Op::AddAddress, {.ifindex = static_cast<int>(i + 1), .family = AF_INET,
                                                .address = alopex::test::ip(fmt::format("10.0.{}.1", i)), .prefixlen = 24});
        REQUIRE(build(r, 1000 + i, buf));
    }
    auto ms = messages(buf);
    REQUIRE(ms.size() == 50);
    for (uint32_t i = 0; i < 50; ++i) {
        CHECK(ms[i]->nlmsg_seq == 1000 + i);
        auto m = netlink::parse_message(ms[i], ms[i]->nlmsg_len);
        REQUIRE(m);
        REQUIRE(*m);
        CHECK(std::get<netlink::Address>((*m)->object).address.to_string() == fmt::format("10.0.{}.1", i));
    }
}
