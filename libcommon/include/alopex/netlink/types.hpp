// SPDX-License-Identifier: GPL-2.0-or-later
// Typed rtnetlink objects and the pure parser that produces them from one nlmsghdr.
// No sockets here: unit tests and the fuzzer reach everything directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "alopex/error.hpp"
#include "alopex/net.hpp"

struct nlmsghdr;

namespace alopex::netlink {

struct LinkStats {
    uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
    uint64_t rx_errors = 0, tx_errors = 0, rx_dropped = 0, tx_dropped = 0;
    bool operator==(const LinkStats &) const = default;
};

struct Link {
    int ifindex = 0;
    std::string name;        // IFLA_IFNAME
    std::string kind;        // IFLA_LINKINFO/IFLA_INFO_KIND ("veth", "bridge"); empty if none
    net::Mac mac;            // IFLA_ADDRESS (up to 32 bytes); empty if none
    uint32_t mtu = 0;
    uint32_t flags = 0;      // IFF_UP, IFF_RUNNING, ... (ifi_flags)
    uint16_t type = 0;       // ARPHRD_*
    uint8_t operstate = 0;   // IF_OPER_*
    bool carrier = false;    // IFLA_CARRIER (falls back to IFF_LOWER_UP)
    int master = 0;          // IFLA_MASTER ifindex, 0 if none
    int link = 0;            // IFLA_LINK: a VLAN's parent, a veth's peer; 0 if none
    bool link_netns = false; // IFLA_LINK_NETNSID present: `link` indexes another namespace
    // From IFLA_LINKINFO/IFLA_INFO_DATA, what it takes to create the link again:
    uint16_t vlan_id = 0;    // IFLA_VLAN_ID (kind "vlan")
    bool stp = false;        // IFLA_BR_STP_STATE != 0 (kind "bridge")
    uint8_t bond_mode = 0;   // IFLA_BOND_MODE (kind "bond")
    LinkStats stats;         // IFLA_STATS64
    bool operator==(const Link &) const = default;
};

struct Address {
    int ifindex = 0;
    uint8_t family = 0;      // AF_INET or AF_INET6
    net::Address address;    // IFA_LOCAL, else IFA_ADDRESS
    net::Address peer;       // IFA_ADDRESS when it differs from IFA_LOCAL (point-to-point); empty if not
    uint8_t prefixlen = 0;
    uint8_t scope = 0;       // RT_SCOPE_*
    uint32_t flags = 0;      // IFA_F_* (IFA_FLAGS over ifa_flags)
    uint32_t valid_lft = 0xffffffff;      // IFA_CACHEINFO, seconds; 0xffffffff = forever
    uint32_t preferred_lft = 0xffffffff;
    std::string label;       // IFA_LABEL (IPv4)
    net::Address broadcast;  // IFA_BROADCAST (IPv4); empty if none
    bool operator==(const Address &) const = default;
};

struct Route {
    // Members ordered for size (72 bytes): up to 600k of these are cached.
    uint8_t family = 0;      // AF_INET or AF_INET6
    uint8_t protocol = 0;    // RTPROT_*
    uint8_t scope = 0;       // RT_SCOPE_*
    uint8_t type = 0;        // RTN_*
    uint8_t tos = 0;
    uint8_t dst_len = 0;
    uint32_t table = 0;      // RTA_TABLE over rtm_table
    int oif = 0;             // RTA_OIF, 0 if none (e.g. multipath)
    uint32_t priority = 0;   // RTA_PRIORITY (metric)
    net::Address dst;        // RTA_DST; 0.0.0.0 / :: when absent
    net::Address gateway;    // RTA_GATEWAY; empty if none
    net::Address prefsrc;    // RTA_PREFSRC; empty if none
    bool operator==(const Route &) const = default;
};

// The fields of a route that its rtmsg header carries (and RTA_TABLE, for tables past
// 255): what a consumer decides on before the message is parsed. route_header() reads
// them from an RTM_NEWROUTE/RTM_DELROUTE message; header_of() from a parsed Route.
struct RouteHeader {
    uint8_t family = 0;
    uint8_t dst_len = 0;
    uint8_t protocol = 0;
    uint8_t type = 0;
    uint32_t table = 0;
};
RouteHeader header_of(const Route &r);
// The header of a route message of `len` bytes at `nlh`; std::nullopt when it is not a
// well-formed route message (the full parser then says why).
std::optional<RouteHeader> route_header(const nlmsghdr *nlh, size_t len);

using Object = std::variant<Link, Address, Route>;

// One parsed RTM_NEW*/RTM_DEL* message.
struct Message {
    bool removed = false;    // RTM_DEL*
    Object object;
};

// Parses one message from a buffer of `len` bytes that starts at `nlh`. Every length is
// checked against `len`. Returns:
//   a Message for RTM_{NEW,DEL}{LINK,ADDR,ROUTE} of the families we model;
//   std::nullopt for well-formed messages that are not ours (other types, AF_BRIDGE link
//     notifications, other address/route families, cloned cache routes);
//   an Error (EBADMSG, EINVAL, ENAMETOOLONG) for anything malformed.
Result<std::optional<Message>> parse_message(const nlmsghdr *nlh, size_t len);

// Walks a buffer holding a stream of netlink messages (one recv()'s worth). Calls `fn`
// for every parsed message. Stops at NLMSG_DONE. NLMSG_ERROR with a non-zero error
// becomes that errno. A trailing partial message or a malformed one is an error.
Result<> parse_stream(std::span<const std::byte> buf, const std::function<void(Message &&)> &fn);

// "UP", "DOWN", ... like `ip`.
std::string_view operstate_name(uint8_t operstate);

} // namespace alopex::netlink
