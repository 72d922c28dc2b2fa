// SPDX-License-Identifier: GPL-2.0-or-later
// Hand-built rtnetlink messages for the netlink unit tests and fuzz seeds.
#pragma once

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include <libmnl/libmnl.h>

namespace alopex::netlink::test {

// One message in an aligned buffer of its own.
struct Msg {
    alignas(nlmsghdr) std::array<char, 4096> buf{};
    nlmsghdr *nlh;

    explicit Msg(uint16_t type, uint16_t flags = 0)
    {
        nlh = mnl_nlmsg_put_header(buf.data());
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
    }
    Msg(const Msg &o) : buf(o.buf), nlh(reinterpret_cast<nlmsghdr *>(buf.data())) {}
    Msg &operator=(const Msg &) = delete;

    template <typename T> T *extra() { return static_cast<T *>(mnl_nlmsg_put_extra_header(nlh, sizeof(T))); }
    size_t len() const { return nlh->nlmsg_len; }
    std::span<const std::byte> bytes() const { return {reinterpret_cast<const std::byte *>(buf.data()), len()}; }

    void str(uint16_t type, const char *s) { mnl_attr_put_strz(nlh, type, s); }
    void u32(uint16_t type, uint32_t v) { mnl_attr_put_u32(nlh, type, v); }
    void u8(uint16_t type, uint8_t v) { mnl_attr_put_u8(nlh, type, v); }
    void raw(uint16_t type, const void *p, size_t n) { mnl_attr_put(nlh, type, n, p); }
    void addr(uint16_t type, int family, const char *text)
    {
        unsigned char b[16];
        inet_pton(family, text, b);
        raw(type, b, family == AF_INET ? 4 : 16);
    }
};

inline Msg link_msg(uint16_t type, int ifindex, const char *name, unsigned flags = IFF_UP | IFF_LOWER_UP,
                    uint8_t family = AF_UNSPEC)
{
    Msg m(type);
    auto ifi = m.extra<ifinfomsg>();
    ifi->ifi_family = family;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = flags;
    ifi->ifi_type = 1;  // ARPHRD_ETHER
    if (name)
        m.str(IFLA_IFNAME, name);
    return m;
}

inline Msg addr_msg(uint16_t type, int family, int ifindex, const char *addr, uint8_t prefixlen)
{
    Msg m(type);
    auto ifa = m.extra<ifaddrmsg>();
    ifa->ifa_family = static_cast<uint8_t>(family);
    ifa->ifa_index = static_cast<uint32_t>(ifindex);
    ifa->ifa_prefixlen = prefixlen;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    if (addr) {
        m.addr(IFA_ADDRESS, family, addr);
        if (family == AF_INET)
            m.addr(IFA_LOCAL, family, addr);
    }
    return m;
}

inline Msg route_msg(uint16_t type, int family, const char *dst, uint8_t dst_len, int oif,
                     uint32_t table = RT_TABLE_MAIN, uint32_t priority = 0)
{
    Msg m(type);
    auto rtm = m.extra<rtmsg>();
    rtm->rtm_family = static_cast<uint8_t>(family);
    rtm->rtm_dst_len = dst_len;
    rtm->rtm_table = table < 256 ? static_cast<uint8_t>(table) : static_cast<uint8_t>(RT_TABLE_COMPAT);
    rtm->rtm_protocol = RTPROT_BOOT;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    m.u32(RTA_TABLE, table);
    if (dst)
        m.addr(RTA_DST, family, dst);
    if (oif)
        m.u32(RTA_OIF, static_cast<uint32_t>(oif));
    if (priority)
        m.u32(RTA_PRIORITY, priority);
    return m;
}

} // namespace alopex::netlink::test
