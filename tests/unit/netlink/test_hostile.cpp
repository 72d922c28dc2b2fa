// SPDX-License-Identifier: GPL-2.0-or-later
// Parser: hostile and truncated messages are errors, never out-of-bounds reads (run this
// under ASan to make the second half of that claim).
#include <catch2/catch.hpp>

#include <random>

#include "alopex/netlink/socket.hpp"
#include "alopex/netlink/types.hpp"
#include "builders.hpp"

using namespace alopex::netlink;
using namespace alopex::netlink::test;

namespace {

int parse_errno(const Msg &m, size_t len)
{
    auto r = parse_message(m.nlh, len);
    if (r)
        return 0;
    return r.error().code;
}

int parse_errno(const Msg &m) { return parse_errno(m, m.len()); }

Msg full_link()
{
    auto m = link_msg(RTM_NEWLINK, 7, "veth0");
    const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    m.raw(IFLA_ADDRESS, mac, sizeof mac);
    m.u32(IFLA_MTU, 1500);
    rtnl_link_stats64 st{};
    m.raw(IFLA_STATS64, &st, sizeof st);
    auto nest = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
    m.str(IFLA_INFO_KIND, "veth");
    mnl_attr_nest_end(m.nlh, nest);
    return m;
}

} // namespace

TEST_CASE("netlink: only the kernel's source address is the kernel", "[netlink][hostile]")
{
    sockaddr_nl a{};
    a.nl_family = AF_NETLINK;
    CHECK(from_kernel(&a, sizeof a));
    CHECK_FALSE(from_kernel(&a, sizeof a - 1));
    CHECK_FALSE(from_kernel(&a, 0));
    CHECK_FALSE(from_kernel(nullptr, sizeof a));
    a.nl_pid = 4242;
    CHECK_FALSE(from_kernel(&a, sizeof a));
    a.nl_pid = UINT32_MAX;
    CHECK_FALSE(from_kernel(&a, sizeof a));
    a.nl_pid = 0;
    a.nl_family = AF_UNIX;
    CHECK_FALSE(from_kernel(&a, sizeof a));
}

TEST_CASE("netlink: nlmsg_len lies", "[netlink][hostile]")
{
    auto m = full_link();
    CHECK(parse_errno(m) == 0);
    SECTION("longer than the buffer") { CHECK(parse_errno(m, m.len() - 1) == EBADMSG); }
    SECTION("shorter than a header")
    {
        m.nlh->nlmsg_len = 8;
        CHECK(parse_errno(m, 4096) == EBADMSG);
    }
    SECTION("buffer shorter than a header") { CHECK(parse_errno(m, 10) == EBADMSG); }
    SECTION("payload shorter than the family header")
    {
        m.nlh->nlmsg_len = NLMSG_HDRLEN + 4;
        CHECK(parse_errno(m, 4096) == EBADMSG);
    }
    SECTION("cut inside the last attribute")
    {
        m.nlh->nlmsg_len -= 3;
        CHECK(parse_errno(m) == EBADMSG);
    }
    SECTION("trailing bytes that are not an attribute")
    {
        m.nlh->nlmsg_len += 2;
        CHECK(parse_errno(m) == EBADMSG);
    }
    SECTION("a null message") { CHECK_FALSE(parse_message(nullptr, 100)); }
}

TEST_CASE("netlink: attributes of the wrong size", "[netlink][hostile]")
{
    SECTION("IFLA_MTU as 2 bytes")
    {
        auto m = link_msg(RTM_NEWLINK, 1, "a");
        uint16_t v = 1500;
        m.raw(IFLA_MTU, &v, sizeof v);
        CHECK(parse_errno(m) == EBADMSG);
    }
    SECTION("IFLA_OPERSTATE as 4 bytes")
    {
        auto m = link_msg(RTM_NEWLINK, 1, "a");
        m.u32(IFLA_OPERSTATE, 6);
        CHECK(parse_errno(m) == EBADMSG);
    }
    SECTION("IFLA_STATS64 too short")
    {
        auto m = link_msg(RTM_NEWLINK, 1, "a");
        uint64_t c[3] = {};
        m.raw(IFLA_STATS64, c, sizeof c);
        CHECK(parse_errno(m) == EBADMSG);
    }
    SECTION("IFLA_ADDRESS overlong")
    {
        auto m = link_msg(RTM_NEWLINK, 1, "a");
        uint8_t b[40] = {};
        m.raw(IFLA_ADDRESS, b, sizeof b);
        CHECK(parse_errno(m) == EBADMSG);
    }
    SECTION("IFA_ADDRESS of 5 bytes for IPv4, 4 bytes for IPv6")
    {
        auto m = addr_msg(RTM_NEWADDR, AF_INET, 1, nullptr, 24);
        uint8_t b[5] = {192, 0, 2, 1, 0};
        m.raw(IFA_ADDRESS, b, sizeof b);
        CHECK(parse_errno(m) == EBADMSG);
        auto m6 = addr_msg(RTM_NEWADDR, AF_INET6, 1, nullptr, 64);
        m6.raw(IFA_ADDRESS, b, 4);
        CHECK(parse_errno(m6) == EBADMSG);
    }
    SECTION("IFA_CACHEINFO short")
    {
        auto m = addr_msg(RTM_NEWADDR, AF_INET, 1, "192.0.2.1", 24);
        uint32_t c[2] = {};
        m.raw(IFA_CACHEINFO, c, sizeof c);
        CHECK(parse_errno(m) == EBADMSG);
    }
    SECTION("RTA_GATEWAY of an IPv6 size in an IPv4 route")
    {
        auto m = route_msg(RTM_NEWROUTE, AF_INET, "10.0.0.0", 8, 1);
        m.addr(RTA_GATEWAY, AF_INET6, "2001:db8::1");
        CHECK(parse_errno(m) == EBADMSG);
    }
    SECTION("RTA_OIF as 1 byte, RTA_TABLE as 8 bytes")
    {
        auto m = route_msg(RTM_NEWROUTE, AF_INET, "10.0.0.0", 8, 0);
        m.u8(RTA_OIF, 1);
        CHECK(parse_errno(m) == EBADMSG);
        auto m2 = route_msg(RTM_NEWROUTE, AF_INET, "10.0.0.0", 8, 0);
        uint64_t t = 5;
        m2.raw(RTA_TABLE, &t, sizeof t);
        CHECK(parse_errno(m2) == EBADMSG);
    }
}

TEST_CASE("netlink: link info data of the wrong size", "[netlink][hostile]")
{
    auto with_data = [](const char *kind, uint16_t type, const void *p, size_t n) {
        auto m = link_msg(RTM_NEWLINK, 1, "a");
        auto info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
        m.str(IFLA_INFO_KIND, kind);
        auto data = mnl_attr_nest_start(m.nlh, IFLA_INFO_DATA);
        m.raw(type, p, n);
        mnl_attr_nest_end(m.nlh, data);
        mnl_attr_nest_end(m.nlh, info);
        return m;
    };
    uint32_t four = 7;
    uint8_t one = 1;
    CHECK(parse_errno(with_data("vlan", IFLA_VLAN_ID, &four, sizeof four)) == EBADMSG);
    CHECK(parse_errno(with_data("bridge", IFLA_BR_STP_STATE, &one, 1)) == EBADMSG);
    CHECK(parse_errno(with_data("bond", IFLA_BOND_MODE, &four, sizeof four)) == EBADMSG);
    SECTION("IFLA_LINK of 2 bytes, or above INT32_MAX")
    {
        auto m = link_msg(RTM_NEWLINK, 1, "a");
        uint16_t v = 2;
        m.raw(IFLA_LINK, &v, sizeof v);
        CHECK(parse_errno(m) == EBADMSG);
        auto m2 = link_msg(RTM_NEWLINK, 1, "a");
        m2.u32(IFLA_LINK, 0x80000000u);
        CHECK(parse_errno(m2) == EINVAL);
    }
    SECTION("IFLA_INFO_DATA whose nested length lies")
    {
        auto m = link_msg(RTM_NEWLINK, 1, "a");
        auto info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
        m.str(IFLA_INFO_KIND, "vlan");
        uint8_t junk[6] = {0xff, 0x00, 1, 0, 0, 0};   // an attribute claiming 255 bytes
        m.raw(IFLA_INFO_DATA, junk, sizeof junk);
        mnl_attr_nest_end(m.nlh, info);
        CHECK(parse_errno(m) == EBADMSG);
    }
}

TEST_CASE("netlink: names", "[netlink][hostile]")
{
    SECTION("unterminated IFLA_IFNAME")
    {
        auto m = link_msg(RTM_NEWLINK, 1, nullptr);
        m.raw(IFLA_IFNAME, "eth0", 4);
        CHECK(parse_errno(m) == EBADMSG);
    }
    SECTION("overlong IFLA_IFNAME")
    {
        auto m = link_msg(RTM_NEWLINK, 1, "abcdefghijklmnopqrstuvwxyz");
        CHECK(parse_errno(m) == ENAMETOOLONG);
        auto ok = link_msg(RTM_NEWLINK, 1, "abcdefghijklmno");  // 15 bytes: the maximum
        CHECK(parse_errno(ok) == 0);
    }
    SECTION("empty IFLA_IFNAME attribute")
    {
        auto m = link_msg(RTM_NEWLINK, 1, nullptr);
        m.raw(IFLA_IFNAME, "", 0);
        CHECK(parse_errno(m) == EBADMSG);
    }
    SECTION("RTM_NEWLINK without a name")
    {
        CHECK(parse_errno(link_msg(RTM_NEWLINK, 1, nullptr)) == EBADMSG);
    }
    SECTION("unterminated IFA_LABEL, IFLA_INFO_KIND")
    {
        auto m = addr_msg(RTM_NEWADDR, AF_INET, 1, "192.0.2.1", 24);
        m.raw(IFA_LABEL, "eth0", 4);
        CHECK(parse_errno(m) == EBADMSG);
        auto l = link_msg(RTM_NEWLINK, 1, "a");
        auto nest = mnl_attr_nest_start(l.nlh, IFLA_LINKINFO);
        l.raw(IFLA_INFO_KIND, "veth", 4);
        mnl_attr_nest_end(l.nlh, nest);
        CHECK(parse_errno(l) == EBADMSG);
    }
    SECTION("IFLA_LINKINFO whose inner attribute claims more than the nest holds")
    {
        auto l = link_msg(RTM_NEWLINK, 1, "a");
        auto nest = mnl_attr_nest_start(l.nlh, IFLA_LINKINFO);
        auto inner = static_cast<nlattr *>(mnl_nlmsg_get_payload_tail(l.nlh));
        l.str(IFLA_INFO_KIND, "veth");
        mnl_attr_nest_end(l.nlh, nest);
        inner->nla_len = 200;
        CHECK(parse_errno(l) == EBADMSG);
    }
}

TEST_CASE("netlink: values out of range", "[netlink][hostile]")
{
    CHECK(parse_errno(link_msg(RTM_NEWLINK, 0, "a")) == EINVAL);
    CHECK(parse_errno(link_msg(RTM_NEWLINK, -5, "a")) == EINVAL);
    CHECK(parse_errno(addr_msg(RTM_NEWADDR, AF_INET, 1, "192.0.2.1", 33)) == EINVAL);
    CHECK(parse_errno(addr_msg(RTM_NEWADDR, AF_INET6, 1, "2001:db8::1", 129)) == EINVAL);
    CHECK(parse_errno(addr_msg(RTM_NEWADDR, AF_INET, 0, "192.0.2.1", 24)) == EINVAL);
    CHECK(parse_errno(addr_msg(RTM_NEWADDR, AF_INET, 1, nullptr, 24)) == EBADMSG);
    CHECK(parse_errno(route_msg(RTM_NEWROUTE, AF_INET, "10.0.0.0", 33, 1)) == EINVAL);
}

TEST_CASE("netlink: every truncation and random corruption is handled", "[netlink][hostile]")
{
    std::vector<Msg> seeds = {full_link(), addr_msg(RTM_NEWADDR, AF_INET6, 2, "2001:db8::5", 64),
                              route_msg(RTM_NEWROUTE, AF_INET, "10.1.0.0", 16, 3, 300, 5)};
    for (const auto &seed : seeds) {
        for (size_t cut = 0; cut < seed.len(); ++cut) {
            Msg m(seed);
            m.nlh->nlmsg_len = static_cast<uint32_t>(cut);
            auto r = parse_message(m.nlh, cut);
            // Only cuts at an attribute boundary can still parse.
            if (r && *r)
                CHECK(cut >= NLMSG_HDRLEN + sizeof(rtmsg));
        }
    }
    std::mt19937 rng(12345);
    size_t parsed = 0;
    for (int i = 0; i < 20000; ++i) {
        Msg m(seeds[static_cast<size_t>(i) % seeds.size()]);
        size_t len = m.len();
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f)
            m.buf[rng() % len] = static_cast<char>(rng());
        auto r = parse_message(m.nlh, len);
        parsed += r && *r;
    }
    CHECK(parsed > 0);  // some corruptions are harmless (values, not lengths)
}
