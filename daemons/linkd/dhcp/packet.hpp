// SPDX-License-Identifier: GPL-2.0-or-later
// BOOTP/DHCPv4 messages (RFC 2131, RFC 2132): a pure parser of untrusted bytes and
// builders for the client's messages. No sockets, no clock, no logging.
//
// Decisions taken on hostile or odd input (each refusal is an Error; the caller drops the
// packet with a debug log):
// - Option overload (52) is honoured: options continue in `file` (1), `sname` (2) or
//   both (3), read in the order options, file, sname (RFC 2131 4.1). A 52 inside an
//   overloaded field, or a value other than 1..3, is refused.
// - Repeated options are concatenated in order (RFC 3396) before they are interpreted, so
//   a repeated fixed-size option (51, 53, 54, ...) ends up with the wrong length and is
//   refused, while repeated lists (3, 6, 121) join up.
// - An option whose length runs past its field, a fixed-size option of the wrong length,
//   a zero-length value where data is required, a missing message type (53), a
//   non-contiguous netmask, a malformed or non-canonical (host bits set) classless route,
//   an MTU below 68, lease time 0, and a yiaddr/server id that is 0.0.0.0, broadcast,
//   loopback or multicast in an OFFER/ACK are all refused. A missing END option is
//   accepted when the field ends cleanly (common in the wild).
// - Inconsistent T1/T2 (not 0 < T1 < T2 < lease) are dropped, so the defaults apply.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::dhcp {

// IPv4 addresses are in host byte order throughout (0xc0000201 is 192.0.2.1).
using Ipv4 = uint32_t;
using Mac = std::array<uint8_t, 6>;

// Text through alopex/net.hpp: "192.0.2.1" (parse_ip: a strict dotted quad, no
// leading zeros; the error quotes the text), "02:00:00:00:00:01".
std::string ip_to_string(Ipv4 a);
Result<Ipv4> parse_ip(std::string_view s);
std::string mac_to_string(const Mac &m);

inline constexpr uint16_t server_port = 67;
inline constexpr uint16_t client_port = 68;
inline constexpr uint32_t infinite_lease = 0xffffffffu;

enum class MessageType : uint8_t {
    discover = 1, offer = 2, request = 3, decline = 4, ack = 5, nak = 6, release = 7, inform = 8,
};
std::string_view to_string(MessageType t);

namespace option {
inline constexpr uint8_t pad = 0, subnet_mask = 1, router = 3, dns = 6, hostname = 12,
    domain = 15, mtu = 26, requested_ip = 50, lease_time = 51, overload = 52,
    message_type = 53, server_id = 54, param_request = 55, message = 56, max_size = 57,
    t1 = 58, t2 = 59, client_id = 61, classless_routes = 121, end = 255;
}

struct Route {
    Ipv4 dest = 0;
    uint8_t prefixlen = 0;
    Ipv4 gateway = 0;    // 0.0.0.0: on-link
    bool operator==(const Route &) const = default;
};

// A parsed message: the fixed header plus the options this client understands.
struct Packet {
    uint8_t op = 0;                  // 1 BOOTREQUEST, 2 BOOTREPLY
    uint32_t xid = 0;
    uint16_t secs = 0, flags = 0;
    Ipv4 ciaddr = 0, yiaddr = 0, siaddr = 0, giaddr = 0;
    Mac chaddr{};
    MessageType type = MessageType::discover;
    std::optional<Ipv4> subnet_mask, requested_ip, server_id;
    std::vector<Ipv4> routers, dns;
    std::string hostname, domain, message;
    std::optional<uint16_t> mtu;
    std::optional<uint32_t> lease_time, t1, t2;
    std::optional<std::vector<Route>> classless_routes;   // option 121
    std::vector<uint8_t> client_id, param_request;
};

// Structural parse of any BOOTP/DHCP message (request or reply): header, htype 1 /
// hlen 6, magic cookie, options (see the decisions above).
Result<Packet> parse_packet(std::span<const uint8_t> bytes);

// Parse and check a reply meant for this client: op 2, matching xid and chaddr, type
// OFFER/ACK/NAK, a server id, and for OFFER/ACK a usable yiaddr and a lease time.
Result<Packet> parse_reply(std::span<const uint8_t> bytes, uint32_t xid, const Mac &mac);

// Prefix length of a contiguous netmask; an Error for a non-contiguous one.
Result<uint8_t> netmask_to_prefixlen(Ipv4 mask);
Ipv4 prefixlen_to_netmask(uint8_t prefixlen);

// RFC 3442 option 121 payload <-> routes (exposed for tests and the fuzzer).
Result<std::vector<Route>> parse_classless_routes(std::span<const uint8_t> v);
std::vector<uint8_t> encode_classless_routes(const std::vector<Route> &routes);

// What the client says about itself in every message.
struct Identity {
    Mac mac{};
    std::vector<uint8_t> client_id;   // option 61; empty: type 1 + MAC
    std::string hostname;             // option 12; empty: not sent
};

// The parameter request list (55) this client sends.
std::span<const uint8_t> default_param_request();

// RFC 2131 table 5: what a REQUEST carries in each situation.
enum class RequestKind { selecting, init_reboot, renewing, rebinding };

std::vector<uint8_t> build_discover(const Identity &id, uint32_t xid, uint16_t secs,
                                    std::optional<Ipv4> requested_ip = std::nullopt);
// selecting: server_id and address (as 50) required; init_reboot: address as 50, no 54;
// renewing/rebinding: address as ciaddr, neither 50 nor 54.
std::vector<uint8_t> build_request(const Identity &id, uint32_t xid, uint16_t secs,
                                   RequestKind kind, Ipv4 address, Ipv4 server_id = 0);
std::vector<uint8_t> build_release(const Identity &id, uint32_t xid, Ipv4 address,
                                   Ipv4 server_id);

// A server-side builder for tests and fuzz seeds: a reply with the given options.
struct ReplySpec {
    MessageType type = MessageType::ack;
    uint32_t xid = 0;
    Mac chaddr{};
    Ipv4 yiaddr = 0, server_id = 0;
    std::optional<Ipv4> subnet_mask;
    std::vector<Ipv4> routers, dns;
    std::string domain;
    std::optional<uint16_t> mtu;
    std::optional<uint32_t> lease_time, t1, t2;
    std::vector<Route> classless_routes;
};
std::vector<uint8_t> build_reply(const ReplySpec &s);

} // namespace alopex::dhcp
