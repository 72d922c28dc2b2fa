// SPDX-License-Identifier: GPL-2.0-or-later
// rtnetlink requests linkd makes: links, addresses, routes, netdevs. The builders are pure
// (they fill a buffer; unit tests parse it back); rtnl::AsyncClient (async_client.hpp)
// sends a batch of requests in as few sendmsg() calls as fit, each with NLM_F_ACK and its
// own sequence number, and calls back from the event loop with one result per request
// once every one is acknowledged, so 1,000 addresses cost one round of syscalls, not
// 1,000 round trips, and nothing waits in recv().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/net.hpp"

namespace alopex::linkd::rtnl {

using Mac = net::Mac;

// RTM_NEWLINK on an existing link; only the fields that are set change.
struct LinkChange {
    int ifindex = 0;
    std::optional<bool> up;
    std::optional<uint32_t> mtu;
    std::optional<Mac> mac;
    std::optional<std::string> name;     // rename (the link must be down)
    std::optional<int> controller;       // IFLA_MASTER; 0 releases from its controller
};

// RTM_NEWADDR / RTM_DELADDR.
struct AddressSpec {
    int ifindex = 0;
    uint8_t family = 0;                  // AF_INET or AF_INET6, the address's
    net::Address address;
    uint8_t prefixlen = 0;
    std::optional<uint32_t> valid_lft;   // seconds; unset = forever
    std::optional<uint32_t> preferred_lft;
    bool broadcast = true;               // IPv4: set IFA_BROADCAST to the prefix's broadcast
    std::optional<net::Address> broadcast_as;   // IPv4: this IFA_BROADCAST instead (empty: none),
                                                // as a checkpoint found it
    bool noprefixroute = false;          // IFA_F_NOPREFIXROUTE
    bool nodad = false;                  // IPv6: IFA_F_NODAD
    bool replace = false;                // add: NLM_F_REPLACE instead of NLM_F_EXCL (update
                                         // the lifetimes of an address that exists)
    uint8_t scope = 0;                   // ifa_scope: RT_SCOPE_UNIVERSE, _LINK (253), _HOST (254)
};

// RTM_NEWROUTE / RTM_DELROUTE. A removal matches protocol, type and scope as given, so a
// route of another protocol is not removed by mistake; protocol 0 / type 0 / scope
// RT_SCOPE_NOWHERE (255) match any (what `ip route del` sends).
struct RouteSpec {
    uint8_t family = 0;                  // the addresses' family
    net::Address dst;                    // network address (RTA_DST); empty with dst_len 0 = default
    uint8_t dst_len = 0;
    net::Address gateway;                // empty = none (directly connected)
    net::Address prefsrc;                // empty = none
    int oif = 0;
    uint32_t table = 254;                // RT_TABLE_MAIN
    uint32_t metric = 0;                 // RTA_PRIORITY
    uint8_t scope = 0;                   // RT_SCOPE_UNIVERSE; RT_SCOPE_LINK for on-link
    uint8_t protocol = 4;                // RTPROT_STATIC; DHCP routes use RTPROT_DHCP (16)
    uint8_t type = 1;                    // RTN_UNICAST
    bool onlink = false;                 // RTNH_F_ONLINK
    std::optional<uint32_t> mtu;         // RTAX_MTU
};

enum class NetdevKind { Bridge, Vlan, Veth, Bond };

// RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL.
struct NetdevSpec {
    std::string name;
    NetdevKind kind = NetdevKind::Bridge;
    std::optional<bool> stp;             // bridge: IFLA_BR_STP_STATE
    int parent = 0;                      // vlan: IFLA_LINK
    uint16_t vlan_id = 0;                // vlan: IFLA_VLAN_ID
    std::string peer;                    // veth: the peer's name (same namespace)
    std::string bond_mode;               // bond: "balance-rr", "active-backup", "802.3ad", ...
    std::optional<uint32_t> mtu;
    std::optional<Mac> mac;
};

// One request of a batch. `what` names it for error messages ("address 192.0.2.10/24 on
// eth0"), chosen by the caller.
struct Request {
    enum class Op {
        SetLink, AddAddress, RemoveAddress, AddRoute, ReplaceRoute, RemoveRoute,
        CreateNetdev, DeleteLink
    };
    Op op = Op::SetLink;
    LinkChange link;                     // SetLink
    AddressSpec address;                 // Add/RemoveAddress
    RouteSpec route;                     // Add/Replace/RemoveRoute
    NetdevSpec netdev;                   // CreateNetdev
    int ifindex = 0;                     // DeleteLink
    std::string what;
};

// Pure: appends the netlink message for `r` with sequence number `seq` to `out`.
// Refuses (EINVAL, message names the field) what cannot be encoded: addresses of another
// family than the request's, prefix lengths too long, names over 15 bytes, bad bond modes.
Result<> build(const Request &r, uint32_t seq, std::vector<std::byte> &out);

// Parses a bond mode name ("balance-rr" .. "balance-alb", or its number) to
// IFLA_BOND_MODE; nullopt if unknown.
std::optional<uint8_t> bond_mode(std::string_view name);

// An interface name the kernel accepts (dev_valid_name): 1..15 bytes, no '/', ':',
// whitespace or control characters, not "." or "..". The error (EINVAL) names `field`.
Result<> check_ifname(std::string_view name, std::string_view field = "name");

// Limits of one batch: the size of one sendmsg() and how long the kernel's answers may
// take (rtnl::AsyncClient, async_client.hpp, sends every request of linkd).
inline constexpr size_t max_batch_bytes = 64 * 1024;
inline constexpr int reply_timeout_seconds = 5;

} // namespace alopex::linkd::rtnl
