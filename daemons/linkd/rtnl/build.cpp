// SPDX-License-Identifier: GPL-2.0-or-later
// The pure request builders: one Request -> one rtnetlink message appended to a buffer.
// Every message carries NLM_F_REQUEST|NLM_F_ACK; fields are checked before anything is
// written, so a refused request leaves `out` as it was.
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cstring>

#include <libmnl/libmnl.h>

#include "internal.hpp"

namespace alopex::linkd::rtnl {

using namespace detail;

namespace {

constexpr uint32_t forever = 0xffffffff;   // INFINITY_LIFE_TIME (kernel-internal name)

// One message under construction in an aligned buffer of its own; every put is checked
// against the buffer, and a message that does not fit is refused as a whole.
class Msg {
public:
    Msg(uint16_t type, uint16_t flags, uint32_t seq)
    {
        nlh_ = mnl_nlmsg_put_header(buf_.data());
        nlh_->nlmsg_type = type;
        nlh_->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        nlh_->nlmsg_seq = seq;
    }
    Msg(const Msg &) = delete;
    Msg &operator=(const Msg &) = delete;

    template <typename T> T *extra()
    {
        if (nlh_->nlmsg_len + MNL_ALIGN(sizeof(T)) > buf_.size()) {
            ok_ = false;
            return nullptr;
        }
        return static_cast<T *>(mnl_nlmsg_put_extra_header(nlh_, sizeof(T)));
    }
    void u8(uint16_t t, uint8_t v) { ok_ = ok_ && mnl_attr_put_u8_check(nlh_, buf_.size(), t, v); }
    void u16(uint16_t t, uint16_t v) { ok_ = ok_ && mnl_attr_put_u16_check(nlh_, buf_.size(), t, v); }
    void u32(uint16_t t, uint32_t v) { ok_ = ok_ && mnl_attr_put_u32_check(nlh_, buf_.size(), t, v); }
    void str(uint16_t t, const std::string &v)
    {
        ok_ = ok_ && mnl_attr_put_strz_check(nlh_, buf_.size(), t, v.c_str());
    }
    void bytes(uint16_t t, const void *p, size_t n) { ok_ = ok_ && mnl_attr_put_check(nlh_, buf_.size(), t, n, p); }
    void ip(uint16_t t, const net::Address &a) { bytes(t, a.data(), a.size()); }
    nlattr *nest(uint16_t t)
    {
        nlattr *n = ok_ ? mnl_attr_nest_start_check(nlh_, buf_.size(), t) : nullptr;
        ok_ = ok_ && n;
        return n;
    }
    void end(nlattr *n)
    {
        if (n)
            mnl_attr_nest_end(nlh_, n);
    }

    Result<> append_to(std::vector<std::byte> &out) const
    {
        if (!ok_)
            return fail(EMSGSIZE, "request does not fit in one netlink message");
        auto *p = reinterpret_cast<const std::byte *>(buf_.data());
        out.insert(out.end(), p, p + nlh_->nlmsg_len);
        return {};
    }

private:
    alignas(nlmsghdr) std::array<char, 1024> buf_{};
    nlmsghdr *nlh_ = nullptr;
    bool ok_ = true;
};


Result<> build_link(const LinkChange &c, uint32_t seq, std::vector<std::byte> &out)
{
    ALOPEX_TRY_VOID(check_ifindex(c.ifindex, "ifindex"));
    if (c.mtu && *c.mtu == 0)
        return field_fail("mtu", "0 is not an MTU");
    if (c.mac)
        ALOPEX_TRY_VOID(c.mac->check_assignable("mac"));
    if (c.name)
        ALOPEX_TRY_VOID(check_ifname(*c.name, "name"));
    if (c.controller && *c.controller < 0)
        return field_fail("controller", "ifindex {} is negative", *c.controller);

    Msg m(RTM_NEWLINK, 0, seq);
    auto *ifi = m.extra<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = c.ifindex;
    if (c.up) {
        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = *c.up ? IFF_UP : 0;
    }
    if (c.mtu)
        m.u32(IFLA_MTU, *c.mtu);
    if (c.mac)
        m.bytes(IFLA_ADDRESS, c.mac->data(), c.mac->size());
    if (c.name)
        m.str(IFLA_IFNAME, *c.name);
    if (c.controller)
        m.u32(IFLA_MASTER, static_cast<uint32_t>(*c.controller));
    return m.append_to(out);
}

Result<> build_address(const AddressSpec &a, bool add, uint32_t seq, std::vector<std::byte> &out)
{
    ALOPEX_TRY_VOID(check_ifindex(a.ifindex, "ifindex"));
    ALOPEX_TRY_VOID(check_family(a.family));
    ALOPEX_TRY_VOID(check_address(a.family, a.address, "address"));
    ALOPEX_TRY_VOID(check_prefix(a.family, a.prefixlen, "prefixlen"));
    uint32_t valid = a.valid_lft.value_or(forever);
    uint32_t preferred = a.preferred_lft.value_or(a.valid_lft ? valid : forever);
    if (valid == 0)
        return field_fail("valid_lft", "0 seconds");
    if (preferred > valid)
        return field_fail("preferred_lft", "{} longer than valid_lft {}", preferred, valid);

    uint32_t flags = 0;
    if (a.noprefixroute)
        flags |= IFA_F_NOPREFIXROUTE;
    if (a.nodad && a.family == AF_INET6)
        flags |= IFA_F_NODAD;

    uint16_t add_flags = NLM_F_CREATE | (a.replace ? NLM_F_REPLACE : NLM_F_EXCL);
    Msg m(add ? RTM_NEWADDR : RTM_DELADDR, add ? add_flags : 0, seq);
    auto *ifa = m.extra<ifaddrmsg>();
    ifa->ifa_family = a.family;
    ifa->ifa_prefixlen = a.prefixlen;
    ifa->ifa_flags = static_cast<uint8_t>(flags & 0xff);
    ifa->ifa_scope = a.scope;
    ifa->ifa_index = static_cast<uint32_t>(a.ifindex);
    m.ip(IFA_LOCAL, a.address);
    m.ip(IFA_ADDRESS, a.address);
    if (add) {
        if (a.family == AF_INET && a.broadcast_as) {
            if (!a.broadcast_as->empty())
                m.ip(IFA_BROADCAST, *a.broadcast_as);
        } else if (a.family == AF_INET && a.broadcast && a.prefixlen < 31) {
            m.ip(IFA_BROADCAST, net::Prefix(a.address, a.prefixlen).last());
        }
        if (a.valid_lft || a.preferred_lft) {
            ifa_cacheinfo ci{};
            ci.ifa_prefered = preferred;
            ci.ifa_valid = valid;
            m.bytes(IFA_CACHEINFO, &ci, sizeof ci);
        }
        m.u32(IFA_FLAGS, flags);
    }
    return m.append_to(out);
}

Result<> build_route(const RouteSpec &r, Request::Op op, uint32_t seq, std::vector<std::byte> &out)
{
    ALOPEX_TRY_VOID(check_family(r.family));
    ALOPEX_TRY_VOID(check_prefix(r.family, r.dst_len, "dst_len"));
    if (!r.dst.empty()) {
        ALOPEX_TRY_VOID(check_address(r.family, r.dst, "dst"));
        if (net::Prefix dst(r.dst, r.dst_len); !dst.is_network())
            return field_fail("dst", "{} has host bits set (the network is {})", dst, dst.network());
    } else if (r.dst_len != 0) {
        return field_fail("dst", "empty with dst_len {}", r.dst_len);
    }
    if (!r.gateway.empty())
        ALOPEX_TRY_VOID(check_address(r.family, r.gateway, "gateway"));
    if (!r.prefsrc.empty())
        ALOPEX_TRY_VOID(check_address(r.family, r.prefsrc, "prefsrc"));
    if (r.oif < 0)
        return field_fail("oif", "ifindex {} is negative", r.oif);
    if (r.table == 0)
        return field_fail("table", "0 is not a routing table");
    if (r.type > RTN_MAX)
        return field_fail("type", "{} over RTN_MAX", r.type);
    if (r.mtu && *r.mtu == 0)
        return field_fail("mtu", "0 is not an MTU");

    uint16_t flags = 0, type = RTM_NEWROUTE;
    if (op == Request::Op::AddRoute)
        flags = NLM_F_CREATE | NLM_F_EXCL;
    else if (op == Request::Op::ReplaceRoute)
        flags = NLM_F_CREATE | NLM_F_REPLACE;
    else
        type = RTM_DELROUTE;

    Msg m(type, flags, seq);
    auto *rtm = m.extra<rtmsg>();
    rtm->rtm_family = r.family;
    rtm->rtm_dst_len = r.dst_len;
    rtm->rtm_table = r.table < 256 ? static_cast<uint8_t>(r.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
    rtm->rtm_protocol = r.protocol;
    rtm->rtm_scope = r.scope;
    rtm->rtm_type = r.type;
    rtm->rtm_flags = r.onlink ? RTNH_F_ONLINK : 0;
    if (!r.dst.empty())
        m.ip(RTA_DST, r.dst);
    if (!r.gateway.empty())
        m.ip(RTA_GATEWAY, r.gateway);
    if (!r.prefsrc.empty())
        m.ip(RTA_PREFSRC, r.prefsrc);
    if (r.oif > 0)
        m.u32(RTA_OIF, static_cast<uint32_t>(r.oif));
    if (r.metric)
        m.u32(RTA_PRIORITY, r.metric);
    m.u32(RTA_TABLE, r.table);
    if (r.mtu) {
        auto *metrics = m.nest(RTA_METRICS);
        m.u32(RTAX_MTU, *r.mtu);
        m.end(metrics);
    }
    return m.append_to(out);
}

const char *kind_name(NetdevKind k)
{
    switch (k) {
    case NetdevKind::Bridge: return "bridge";
    case NetdevKind::Vlan: return "vlan";
    case NetdevKind::Veth: return "veth";
    case NetdevKind::Bond: return "bond";
    }
    return nullptr;
}

Result<> build_netdev(const NetdevSpec &n, uint32_t seq, std::vector<std::byte> &out)
{
    ALOPEX_TRY_VOID(check_ifname(n.name, "name"));
    const char *kind = kind_name(n.kind);
    if (!kind)
        return field_fail("kind", "unknown netdev kind {}", static_cast<int>(n.kind));
    if (n.mtu && *n.mtu == 0)
        return field_fail("mtu", "0 is not an MTU");
    if (n.mac)
        ALOPEX_TRY_VOID(n.mac->check_assignable("mac"));
    std::optional<uint8_t> mode;
    switch (n.kind) {
    case NetdevKind::Vlan:
        ALOPEX_TRY_VOID(check_ifindex(n.parent, "parent"));
        if (n.vlan_id < 1 || n.vlan_id > 4094)
            return field_fail("vlan_id", "{} outside 1..4094", n.vlan_id);
        break;
    case NetdevKind::Veth:
        ALOPEX_TRY_VOID(check_ifname(n.peer, "peer"));
        if (n.peer == n.name)
            return field_fail("peer", "the same name as the veth itself");
        break;
    case NetdevKind::Bond:
        if (!n.bond_mode.empty()) {
            mode = bond_mode(n.bond_mode);
            if (!mode)
                return field_fail("bond_mode", "unknown bond mode '{}' (balance-rr, active-backup, "
                                               "balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb or 0..6)",
                                  n.bond_mode.size() <= 32 ? n.bond_mode : n.bond_mode.substr(0, 32) + "...");
        }
        break;
    case NetdevKind::Bridge: break;
    }

    Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, seq);
    auto *ifi = m.extra<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    m.str(IFLA_IFNAME, n.name);
    if (n.mtu)
        m.u32(IFLA_MTU, *n.mtu);
    if (n.mac)
        m.bytes(IFLA_ADDRESS, n.mac->data(), n.mac->size());
    if (n.kind == NetdevKind::Vlan)
        m.u32(IFLA_LINK, static_cast<uint32_t>(n.parent));
    auto *info = m.nest(IFLA_LINKINFO);
    m.str(IFLA_INFO_KIND, kind);
    nlattr *data = nullptr;
    switch (n.kind) {
    case NetdevKind::Bridge:
        if (n.stp) {
            data = m.nest(IFLA_INFO_DATA);
            m.u32(IFLA_BR_STP_STATE, *n.stp ? 1 : 0);
        }
        break;
    case NetdevKind::Vlan:
        data = m.nest(IFLA_INFO_DATA);
        m.u16(IFLA_VLAN_ID, n.vlan_id);
        break;
    case NetdevKind::Veth: {
        data = m.nest(IFLA_INFO_DATA);
        auto *peer = m.nest(VETH_INFO_PEER);
        if (auto *pi = m.extra<ifinfomsg>())
            pi->ifi_family = AF_UNSPEC;
        m.str(IFLA_IFNAME, n.peer);
        m.end(peer);
        break;
    }
    case NetdevKind::Bond:
        if (mode) {
            data = m.nest(IFLA_INFO_DATA);
            m.u8(IFLA_BOND_MODE, *mode);
        }
        break;
    }
    m.end(data);
    m.end(info);
    return m.append_to(out);
}

Result<> build_del_link(int ifindex, uint32_t seq, std::vector<std::byte> &out)
{
    ALOPEX_TRY_VOID(check_ifindex(ifindex, "ifindex"));
    Msg m(RTM_DELLINK, 0, seq);
    auto *ifi = m.extra<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    return m.append_to(out);
}

} // namespace

Result<> build(const Request &r, uint32_t seq, std::vector<std::byte> &out)
{
    switch (r.op) {
    case Request::Op::SetLink: return build_link(r.link, seq, out);
    case Request::Op::AddAddress: return build_address(r.address, true, seq, out);
    case Request::Op::RemoveAddress: return build_address(r.address, false, seq, out);
    case Request::Op::AddRoute:
    case Request::Op::ReplaceRoute:
    case Request::Op::RemoveRoute: return build_route(r.route, r.op, seq, out);
    case Request::Op::CreateNetdev: return build_netdev(r.netdev, seq, out);
    case Request::Op::DeleteLink: return build_del_link(r.ifindex, seq, out);
    }
    return field_fail("op", "unknown request type {}", static_cast<int>(r.op));
}

} // namespace alopex::linkd::rtnl
