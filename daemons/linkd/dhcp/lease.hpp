// SPDX-License-Identifier: GPL-2.0-or-later
// A DHCPv4 lease and its state-directory file (key=value lines).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "packet.hpp"

namespace alopex::dhcp {

struct Lease {
    Ipv4 address = 0;
    uint8_t prefixlen = 0;
    std::vector<Ipv4> routers;       // option 3
    std::vector<Ipv4> dns;           // option 6
    std::string domain;              // option 15
    std::optional<uint16_t> mtu;     // option 26
    std::vector<Route> classless_routes;   // option 121; when present, option 3 is not routed
    Ipv4 server_id = 0;
    uint32_t lease_s = 0, t1_s = 0, t2_s = 0;   // infinite_lease: never expires
    int64_t acquired_usec = 0;       // in the client's clock (see Client)

    bool infinite() const { return lease_s == infinite_lease; }
    int64_t t1_at() const;           // absolute, client clock; INT64_MAX if infinite
    int64_t t2_at() const;
    int64_t expiry_at() const;
    // Routes to install: option 121's, else a default route via the first router.
    std::vector<Route> effective_routes() const;
    bool operator==(const Lease &) const = default;
};

// The lease an ACK grants (RFC 2131; T1 = 0.5, T2 = 0.875 of the lease unless 58/59 say
// otherwise; prefix from option 1, else the classful default).
Lease lease_from_ack(const Packet &ack, int64_t now_usec);

// State file text. The acquisition time is stored as wall-clock time:
// realtime = acquired_usec + realtime_offset_usec (offset = realtime now - client clock now).
std::string format_lease(const Lease &l, int64_t realtime_offset_usec);
// The file is linkd's own, but it is read back as untrusted bytes: every number is
// bounded (the acquisition time within 1970..9999, T1 <= T2 <= lease, an infinite
// lease with infinite T1 and T2), every key appears once, the domain is a domain
// name, and the text is at most max_lease_file bytes; anything else makes the file
// invalid, so no lease time can overflow the client's clock arithmetic.
inline constexpr size_t max_lease_file = 64 * 1024;
inline constexpr int64_t max_realtime_usec = 253'402'300'799'999'999;   // 9999-12-31T23:59:59.999999Z
Result<Lease> parse_lease(std::string_view text, int64_t realtime_offset_usec);

} // namespace alopex::dhcp
