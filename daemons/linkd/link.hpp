// SPDX-License-Identifier: GPL-2.0-or-later
// The state linkd keeps and publishes for one kernel link: what the monitor reports
// (name, kind, MAC, MTU, states, counters), the link's addresses with their origin, and
// what linkd itself decides (zone, DNS, DHCP lease). Pure values; no sockets, no bus: the
// setters name what changed with the property declarations generated from
// ipc/org.alopex.Link1.xml (plain constexpr data).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/bus/spec.hpp"
#include "alopex/netlink/types.hpp"

namespace alopex::linkd {

// Who put an address on a link.
enum class Origin : uint8_t {
    Static,   // linkd added it (profile or AddAddress)
    Dhcp,     // linkd's DHCP client added it
    Kernel,   // the kernel made it (IPv6 link-local, SLAAC, loopback)
    Foreign,  // someone else (ip, another manager)
};
std::string_view to_string(Origin o);

struct AddressState {
    netlink::Address address;
    Origin origin = Origin::Foreign;
    bool operator==(const AddressState &) const = default;
};

struct DhcpLease {
    std::string state;       // the client's state name ("bound", "renewing", ...)
    std::string address;     // "192.0.2.10/24"
    std::string server;      // option 54
    uint32_t lease_time = 0; // seconds
    uint32_t t1 = 0, t2 = 0; // seconds
    uint64_t expiry_usec = 0; // CLOCK_REALTIME microseconds; 0 = none
    bool operator==(const DhcpLease &) const = default;
};

// Properties of org.alopex.Link1.Link that a change touched (ipc::link1::link::property).
using Changed = std::vector<const bus::PropertySpec *>;

// "global", "site", "link", "host", "nowhere", or the number.
std::string scope_name(uint8_t scope);
// "up" when IFF_UP is set, else "down".
std::string_view admin_state(uint32_t flags);

class LinkState {
public:
    explicit LinkState(netlink::Link link) : link_(std::move(link)) {}

    int ifindex() const noexcept { return link_.ifindex; }
    const netlink::Link &kernel() const noexcept { return link_; }
    const std::vector<AddressState> &addresses() const noexcept { return addresses_; }
    const std::string &zone() const noexcept { return zone_; }
    bool managed() const noexcept { return managed_; }
    const std::vector<std::string> &dns_servers() const noexcept { return dns_servers_; }
    const std::vector<std::string> &dns_domains() const noexcept { return dns_domains_; }
    const std::optional<DhcpLease> &dhcp() const noexcept { return dhcp_; }

    // Each setter returns the properties of org.alopex.Link1.Link that changed.
    Changed set_kernel(const netlink::Link &l);
    Changed set_addresses(std::vector<AddressState> a);
    Changed set_zone(std::string zone);
    Changed set_managed(bool managed);
    Changed set_dns(std::vector<std::string> servers,
                                     std::vector<std::string> domains);
    Changed set_dhcp(std::optional<DhcpLease> lease);

private:
    netlink::Link link_;
    std::vector<AddressState> addresses_;
    std::string zone_;
    bool managed_ = false;
    std::vector<std::string> dns_servers_, dns_domains_;
    std::optional<DhcpLease> dhcp_;
};

// The properties of org.alopex.Link1.Link that follow from the kernel's link object and
// differ between `a` and `b` (Statistics is read on demand and never listed).
Changed changed_properties(const netlink::Link &a, const netlink::Link &b);

// The origin of an address that linkd did not record as its own: the kernel's
// (IPv6 link-local, non-permanent autoconf addresses, loopback) or foreign.
Origin default_origin(const netlink::Address &a, bool on_loopback);

} // namespace alopex::linkd
