// SPDX-License-Identifier: GPL-2.0-or-later
// Pure rtnetlink parser: one nlmsghdr in, one typed value out. Every length is checked
// against the buffer before it is read; a hostile message is an error, never a read
// past its end.
#include "alopex/netlink/types.hpp"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

#include <libmnl/libmnl.h>

namespace alopex::netlink {
namespace {

std::span<const std::byte> payload(const nlattr *a)
{
    return {static_cast<const std::byte *>(mnl_attr_get_payload(a)), mnl_attr_get_payload_len(a)};
}

// Iterates the attributes in [start, end). Fails on a malformed attribute or trailing
// bytes that do not form one; `fn` returns an error to stop.
template <typename F> Result<> for_each_attr(const void *start, const void *end, F &&fn)
{
    auto p = static_cast<const char *>(start);
    auto e = static_cast<const char *>(end);
    while (p < e) {
        auto left = e - p;
        auto a = reinterpret_cast<const nlattr *>(p);
        if (!mnl_attr_ok(a, static_cast<int>(left)))
            return fail(EBADMSG, "truncated or malformed attribute");
        if (auto r = fn(a); !r)
            return r;
        auto step = static_cast<ptrdiff_t>(MNL_ALIGN(a->nla_len));
        if (step >= left)
            break;
        p += step;
    }
    return {};
}

Result<> check(const nlattr *a, mnl_attr_data_type t, const char *what)
{
    if (mnl_attr_validate(a, t) < 0)
        return failf(EBADMSG, "attribute {} has a wrong size", what);
    return {};
}

// A NUL-terminated name of at most IFNAMSIZ-1 bytes.
Result<std::string> ifname(const nlattr *a, const char *what)
{
    if (auto r = check(a, MNL_TYPE_NUL_STRING, what); !r)
        return std::unexpected(r.error());
    auto p = payload(a);
    auto s = reinterpret_cast<const char *>(p.data());
    size_t n = strnlen(s, p.size());
    if (n >= IFNAMSIZ)
        return failf(ENAMETOOLONG, "attribute {} longer than {} bytes", what, IFNAMSIZ - 1);
    return std::string(s, n);
}

Result<std::string> string_attr(const nlattr *a, const char *what, size_t max)
{
    if (auto r = check(a, MNL_TYPE_NUL_STRING, what); !r)
        return std::unexpected(r.error());
    auto p = payload(a);
    auto s = reinterpret_cast<const char *>(p.data());
    size_t n = strnlen(s, p.size());
    if (n > max)
        return failf(ENAMETOOLONG, "attribute {} too long", what);
    return std::string(s, n);
}

Result<uint32_t> u32(const nlattr *a, const char *what)
{
    if (auto r = check(a, MNL_TYPE_U32, what); !r)
        return std::unexpected(r.error());
    return mnl_attr_get_u32(a);
}

Result<uint8_t> u8(const nlattr *a, const char *what)
{
    if (auto r = check(a, MNL_TYPE_U8, what); !r)
        return std::unexpected(r.error());
    return mnl_attr_get_u8(a);
}

// Integer attributes stored straight into a field.
Result<void> read_into(const nlattr *a, const char *what, uint32_t &out)
{
    auto v = u32(a, what);
    if (!v)
        return std::unexpected(v.error());
    out = *v;
    return {};
}

Result<void> read_into(const nlattr *a, const char *what, uint8_t &out)
{
    auto v = u8(a, what);
    if (!v)
        return std::unexpected(v.error());
    out = *v;
    return {};
}

// An ifindex: a u32 the kernel never sets above INT32_MAX.
Result<void> read_ifindex(const nlattr *a, const char *what, int &out)
{
    auto v = u32(a, what);
    if (!v)
        return std::unexpected(v.error());
    if (*v > INT32_MAX)
        return failf(EINVAL, "{} out of range", what);
    out = static_cast<int>(*v);
    return {};
}

Result<net::Address> addr_attr(uint8_t family, const nlattr *a, const char *what)
{
    auto r = net::Address::from_bytes(family, payload(a));
    if (!r)
        return failf(EBADMSG, "attribute {} has a wrong size for its family", what);
    return r;
}

// Attribute area of a message whose fixed header is `hdrlen` bytes.
struct Area {
    const void *begin, *end;
};

Area attrs(const nlmsghdr *nlh, size_t hdrlen)
{
    auto base = static_cast<const char *>(mnl_nlmsg_get_payload(nlh));
    auto end = reinterpret_cast<const char *>(nlh) + nlh->nlmsg_len;
    auto begin = base + MNL_ALIGN(hdrlen);
    if (begin > end)
        begin = end;
    return {begin, end};
}

// IFLA_INFO_DATA of the kinds linkd creates: what it takes to create the link again.
// Other kinds' data is not read.
Result<> parse_info_data(const nlattr *data, Link &l)
{
    auto p = payload(data);
    return for_each_attr(p.data(), p.data() + p.size(), [&](const nlattr *a) -> Result<> {
        auto type = mnl_attr_get_type(a);
        if (l.kind == "vlan" && type == IFLA_VLAN_ID) {
            if (auto r = check(a, MNL_TYPE_U16, "IFLA_VLAN_ID"); !r)
                return r;
            l.vlan_id = mnl_attr_get_u16(a);
        } else if (l.kind == "bridge" && type == IFLA_BR_STP_STATE) {
            auto v = u32(a, "IFLA_BR_STP_STATE");
            if (!v)
                return std::unexpected(v.error());
            l.stp = *v != 0;
        } else if (l.kind == "bond" && type == IFLA_BOND_MODE) {
            if (auto r = read_into(a, "IFLA_BOND_MODE", l.bond_mode); !r)
                return r;
        }
        return {};
    });
}

Result<std::optional<Message>> parse_link(const nlmsghdr *nlh)
{
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg))
        return fail(EBADMSG, "link message shorter than ifinfomsg");
    ifinfomsg ifi;
    memcpy(&ifi, mnl_nlmsg_get_payload(nlh), sizeof ifi);
    // Bridge port notifications share RTNLGRP_LINK; they describe ports, not links.
    if (ifi.ifi_family != AF_UNSPEC)
        return std::nullopt;
    if (ifi.ifi_index <= 0)
        return fail(EINVAL, "link message with ifindex <= 0");

    Link l;
    l.ifindex = ifi.ifi_index;
    l.flags = ifi.ifi_flags;
    l.type = ifi.ifi_type;
    l.carrier = (ifi.ifi_flags & IFF_LOWER_UP) != 0;
    const nlattr *info_data = nullptr;   // interpreted once the kind is known
    auto area = attrs(nlh, sizeof(ifinfomsg));
    auto r = for_each_attr(area.begin, area.end, [&](const nlattr *a) -> Result<> {
        switch (mnl_attr_get_type(a)) {
        case IFLA_IFNAME: {
            auto n = ifname(a, "IFLA_IFNAME");
            if (!n)
                return std::unexpected(n.error());
            l.name = std::move(*n);
            break;
        }
        case IFLA_ADDRESS: {
            auto m = net::Mac::from_bytes(payload(a));
            if (!m)
                return fail(EBADMSG, "attribute IFLA_ADDRESS too long");
            l.mac = *m;
            break;
        }
        case IFLA_MTU:
            if (auto r = read_into(a, "IFLA_MTU", l.mtu); !r)
                return std::unexpected(r.error());
            break;
        case IFLA_OPERSTATE:
            if (auto r = read_into(a, "IFLA_OPERSTATE", l.operstate); !r)
                return std::unexpected(r.error());
            break;
        case IFLA_CARRIER: {
            auto v = u8(a, "IFLA_CARRIER");
            if (!v)
                return std::unexpected(v.error());
            l.carrier = *v != 0;
            break;
        }
        case IFLA_MASTER:
            if (auto r = read_ifindex(a, "IFLA_MASTER", l.master); !r)
                return std::unexpected(r.error());
            break;
        case IFLA_STATS64: {
            // The struct grew over time; the first eight counters are in every version.
            rtnl_link_stats64 st{};
            auto p = payload(a);
            if (p.size() < 8 * sizeof(uint64_t))
                return fail(EBADMSG, "attribute IFLA_STATS64 too short");
            memcpy(&st, p.data(), std::min(p.size(), sizeof st));
            l.stats = {st.rx_packets, st.tx_packets, st.rx_bytes,   st.tx_bytes,
                       st.rx_errors,  st.tx_errors,  st.rx_dropped, st.tx_dropped};
            break;
        }
        case IFLA_LINK:
            if (auto r = read_ifindex(a, "IFLA_LINK", l.link); !r)
                return std::unexpected(r.error());
            break;
        case IFLA_LINK_NETNSID:
            l.link_netns = true;
            break;
        case IFLA_LINKINFO: {
            if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
                return fail(EBADMSG, "attribute IFLA_LINKINFO malformed");
            auto p = payload(a);
            return for_each_attr(p.data(), p.data() + p.size(), [&](const nlattr *n) -> Result<> {
                if (mnl_attr_get_type(n) == IFLA_INFO_DATA) {
                    if (mnl_attr_validate(n, MNL_TYPE_NESTED) < 0)
                        return fail(EBADMSG, "attribute IFLA_INFO_DATA malformed");
                    info_data = n;
                    return {};
                }
                if (mnl_attr_get_type(n) != IFLA_INFO_KIND)
                    return {};
                auto k = string_attr(n, "IFLA_INFO_KIND", 63);
                if (!k)
                    return std::unexpected(k.error());
                l.kind = std::move(*k);
                return {};
            });
        }
        default:
            break;
        }
        return {};
    });
    if (!r)
        return std::unexpected(r.error());
    if (info_data)
        if (auto d = parse_info_data(info_data, l); !d)
            return std::unexpected(d.error());
    if (nlh->nlmsg_type == RTM_NEWLINK && l.name.empty())
        return fail(EBADMSG, "RTM_NEWLINK without IFLA_IFNAME");
    return Message{nlh->nlmsg_type == RTM_DELLINK, std::move(l)};
}

uint8_t max_prefix(uint8_t family) { return family == AF_INET ? 32 : 128; }

Result<std::optional<Message>> parse_addr(const nlmsghdr *nlh)
{
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifaddrmsg))
        return fail(EBADMSG, "address message shorter than ifaddrmsg");
    ifaddrmsg ifa;
    memcpy(&ifa, mnl_nlmsg_get_payload(nlh), sizeof ifa);
    if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6)
        return std::nullopt;
    if (ifa.ifa_index == 0 || ifa.ifa_index > INT32_MAX)
        return fail(EINVAL, "address message with a bad ifindex");
    if (ifa.ifa_prefixlen > max_prefix(ifa.ifa_family))
        return fail(EINVAL, "address prefix length out of range");

    Address ad;
    ad.ifindex = static_cast<int>(ifa.ifa_index);
    ad.family = ifa.ifa_family;
    ad.prefixlen = ifa.ifa_prefixlen;
    ad.scope = ifa.ifa_scope;
    ad.flags = ifa.ifa_flags;
    net::Address local, address;
    auto area = attrs(nlh, sizeof(ifaddrmsg));
    auto r = for_each_attr(area.begin, area.end, [&](const nlattr *a) -> Result<> {
        switch (mnl_attr_get_type(a)) {
        case IFA_LOCAL:
        case IFA_ADDRESS: {
            bool is_local = mnl_attr_get_type(a) == IFA_LOCAL;
            auto t = addr_attr(ad.family, a, is_local ? "IFA_LOCAL" : "IFA_ADDRESS");
            if (!t)
                return std::unexpected(t.error());
            (is_local ? local : address) = *t;
            break;
        }
        case IFA_BROADCAST: {
            auto t = addr_attr(ad.family, a, "IFA_BROADCAST");
            if (!t)
                return std::unexpected(t.error());
            ad.broadcast = *t;
            break;
        }
        case IFA_LABEL: {
            auto n = ifname(a, "IFA_LABEL");
            if (!n)
                return std::unexpected(n.error());
            ad.label = std::move(*n);
            break;
        }
        case IFA_FLAGS:
            if (auto r = read_into(a, "IFA_FLAGS", ad.flags); !r)
                return std::unexpected(r.error());
            break;
        case IFA_CACHEINFO: {
            if (mnl_attr_validate2(a, MNL_TYPE_BINARY, sizeof(ifa_cacheinfo)) < 0)
                return fail(EBADMSG, "attribute IFA_CACHEINFO has a wrong size");
            ifa_cacheinfo ci;
            memcpy(&ci, mnl_attr_get_payload(a), sizeof ci);
            ad.valid_lft = ci.ifa_valid;
            ad.preferred_lft = ci.ifa_prefered;
            break;
        }
        default:
            break;
        }
        return {};
    });
    if (!r)
        return std::unexpected(r.error());
    if (local.empty() && address.empty())
        return fail(EBADMSG, "address message without IFA_LOCAL or IFA_ADDRESS");
    if (local.empty()) {
        ad.address = address;
    } else {
        ad.address = local;
        if (!address.empty() && address != ad.address)
            ad.peer = address;
    }
    return Message{nlh->nlmsg_type == RTM_DELADDR, std::move(ad)};
}

Result<std::optional<Message>> parse_route(const nlmsghdr *nlh)
{
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(rtmsg))
        return fail(EBADMSG, "route message shorter than rtmsg");
    rtmsg rtm;
    memcpy(&rtm, mnl_nlmsg_get_payload(nlh), sizeof rtm);
    if (rtm.rtm_family != AF_INET && rtm.rtm_family != AF_INET6)
        return std::nullopt;
    if (rtm.rtm_flags & RTM_F_CLONED)
        return std::nullopt;  // route cache entries, not configuration
    if (rtm.rtm_dst_len > max_prefix(rtm.rtm_family) || rtm.rtm_src_len > max_prefix(rtm.rtm_family))
        return fail(EINVAL, "route prefix length out of range");

    Route rt;
    rt.family = rtm.rtm_family;
    rt.table = rtm.rtm_table;
    rt.protocol = rtm.rtm_protocol;
    rt.scope = rtm.rtm_scope;
    rt.type = rtm.rtm_type;
    rt.tos = rtm.rtm_tos;
    rt.dst_len = rtm.rtm_dst_len;
    auto area = attrs(nlh, sizeof(rtmsg));
    auto r = for_each_attr(area.begin, area.end, [&](const nlattr *a) -> Result<> {
        switch (mnl_attr_get_type(a)) {
        case RTA_DST:
        case RTA_GATEWAY:
        case RTA_PREFSRC: {
            auto type = mnl_attr_get_type(a);
            const char *what = type == RTA_DST ? "RTA_DST" : type == RTA_GATEWAY ? "RTA_GATEWAY" : "RTA_PREFSRC";
            auto t = addr_attr(rt.family, a, what);
            if (!t)
                return std::unexpected(t.error());
            (type == RTA_DST ? rt.dst : type == RTA_GATEWAY ? rt.gateway : rt.prefsrc) = *t;
            break;
        }
        case RTA_OIF:
            if (auto r = read_ifindex(a, "RTA_OIF", rt.oif); !r)
                return std::unexpected(r.error());
            break;
        case RTA_PRIORITY:
            if (auto r = read_into(a, "RTA_PRIORITY", rt.priority); !r)
                return std::unexpected(r.error());
            break;
        case RTA_TABLE:
            if (auto r = read_into(a, "RTA_TABLE", rt.table); !r)
                return std::unexpected(r.error());
            break;
        default:
            break;
        }
        return {};
    });
    if (!r)
        return std::unexpected(r.error());
    if (rt.dst.empty())
        rt.dst = net::Address::any(rt.family);
    return Message{nlh->nlmsg_type == RTM_DELROUTE, std::move(rt)};
}

} // namespace

RouteHeader header_of(const Route &r)
{
    return RouteHeader{r.family, r.dst_len, r.protocol, r.type, r.table};
}

std::optional<RouteHeader> route_header(const nlmsghdr *nlh, size_t len)
{
    if (!nlh || len < sizeof(nlmsghdr) || nlh->nlmsg_len < sizeof(nlmsghdr) || nlh->nlmsg_len > len)
        return std::nullopt;
    if (nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE)
        return std::nullopt;
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(rtmsg))
        return std::nullopt;
    rtmsg rtm;
    memcpy(&rtm, mnl_nlmsg_get_payload(nlh), sizeof rtm);
    RouteHeader h{rtm.rtm_family, rtm.rtm_dst_len, rtm.rtm_protocol, rtm.rtm_type, rtm.rtm_table};
    // The kernel says RT_TABLE_COMPAT in the header for tables past 255 and always
    // sends RTA_TABLE; the attribute wins, as in the full parser.
    auto area = attrs(nlh, sizeof(rtmsg));
    auto walked = for_each_attr(area.begin, area.end, [&](const nlattr *a) -> Result<> {
        if (mnl_attr_get_type(a) != RTA_TABLE)
            return {};
        if (mnl_attr_get_payload_len(a) != sizeof(uint32_t))
            return fail(EBADMSG, "RTA_TABLE");
        memcpy(&h.table, mnl_attr_get_payload(a), sizeof h.table);
        return {};
    });
    if (!walked)
        return std::nullopt;
    return h;
}

Result<std::optional<Message>> parse_message(const nlmsghdr *nlh, size_t len)
{
    if (!nlh || len < sizeof(nlmsghdr))
        return fail(EBADMSG, "shorter than a netlink header");
    nlmsghdr h;
    memcpy(&h, nlh, sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len)
        return fail(EBADMSG, "nlmsg_len does not match the buffer");
    if (reinterpret_cast<uintptr_t>(nlh) % alignof(nlmsghdr) != 0)
        return fail(EINVAL, "misaligned netlink message");
    switch (h.nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
        return parse_link(nlh);
    case RTM_NEWADDR:
    case RTM_DELADDR:
        return parse_addr(nlh);
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
        return parse_route(nlh);
    default:
        return std::nullopt;
    }
}

Result<> parse_stream(std::span<const std::byte> buf, const std::function<void(Message &&)> &fn)
{
    const std::byte *p = buf.data();
    size_t left = buf.size();
    if (left && reinterpret_cast<uintptr_t>(p) % alignof(nlmsghdr) != 0)
        return fail(EINVAL, "misaligned netlink buffer");
    while (left > 0) {
        auto nlh = reinterpret_cast<const nlmsghdr *>(p);
        if (left < sizeof(nlmsghdr) || nlh->nlmsg_len < sizeof(nlmsghdr) || nlh->nlmsg_len > left)
            return fail(EBADMSG, "truncated netlink message");
        if (nlh->nlmsg_type == NLMSG_DONE)
            return {};
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nlmsgerr))
                return fail(EBADMSG, "truncated NLMSG_ERROR");
            nlmsgerr e;
            memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof e);
            if (e.error != 0)
                return fail(e.error == INT32_MIN ? EIO : -e.error, "netlink error reply");
        } else {
            auto m = parse_message(nlh, left);
            if (!m)
                return std::unexpected(m.error());
            if (*m)
                fn(std::move(**m));
        }
        size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
        if (step >= left)
            break;
        p += step;
        left -= step;
    }
    return {};
}

std::string_view operstate_name(uint8_t operstate)
{
    static constexpr std::array<std::string_view, 7> names = {
        "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"};
    static_assert(names.size() == IF_OPER_UP + 1);
    return operstate < names.size() ? names[operstate] : "UNKNOWN";
}

} // namespace alopex::netlink
