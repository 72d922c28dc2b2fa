// SPDX-License-Identifier: GPL-2.0-or-later
#include "link.hpp"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <fmt/format.h>

namespace alopex::linkd {

std::string_view to_string(Origin o)
{
    switch (o) {
    case Origin::Static:
        return "static";
    case Origin::Dhcp:
        return "dhcp";
    case Origin::Kernel:
        return "kernel";
    case Origin::Foreign:
        return "foreign";
    }
    return "foreign";
}

std::string scope_name(uint8_t scope)
{
    switch (scope) {
    case RT_SCOPE_UNIVERSE:
        return "global";
    case RT_SCOPE_SITE:
        return "site";
    case RT_SCOPE_LINK:
        return "link";
    case RT_SCOPE_HOST:
        return "host";
    case RT_SCOPE_NOWHERE:
        return "nowhere";
    default:
        return fmt::format("{}", scope);
    }
}

std::string_view admin_state(uint32_t flags) { return (flags & IFF_UP) ? "up" : "down"; }

std::vector<std::string> changed_properties(const netlink::Link &a, const netlink::Link &b)
{
    std::vector<std::string> out;
    if (a.name != b.name)
        out.emplace_back("Name");
    if (a.kind != b.kind)
        out.emplace_back("Kind");
    if (a.mac != b.mac)
        out.emplace_back("MACAddress");
    if (a.mtu != b.mtu)
        out.emplace_back("MTU");
    if (a.operstate != b.operstate)
        out.emplace_back("OperationalState");
    if ((a.flags & IFF_UP) != (b.flags & IFF_UP))
        out.emplace_back("AdministrativeState");
    if (a.carrier != b.carrier)
        out.emplace_back("Carrier");
    if (a.master != b.master)
        out.emplace_back("Controller");
    return out;
}

Origin default_origin(const netlink::Address &a, bool on_loopback)
{
    if (on_loopback)
        return Origin::Kernel;
    if (a.family == AF_INET6) {
        if (a.address.is_link_local())
            return Origin::Kernel;   // fe80::/10, made by the kernel for every IPv6 link
        if (!(a.flags & IFA_F_PERMANENT))
            return Origin::Kernel;   // SLAAC and temporary addresses
    }
    return Origin::Foreign;
}

std::vector<std::string> LinkState::set_kernel(const netlink::Link &l)
{
    auto out = changed_properties(link_, l);
    link_ = l;
    return out;
}

std::vector<std::string> LinkState::set_addresses(std::vector<AddressState> a)
{
    if (a == addresses_)
        return {};
    addresses_ = std::move(a);
    return {"Addresses"};
}

std::vector<std::string> LinkState::set_zone(std::string zone)
{
    if (zone == zone_)
        return {};
    zone_ = std::move(zone);
    return {"Zone"};
}

std::vector<std::string> LinkState::set_managed(bool managed)
{
    if (managed == managed_)
        return {};
    managed_ = managed;
    return {"Managed"};
}

std::vector<std::string> LinkState::set_dns(std::vector<std::string> servers,
                                            std::vector<std::string> domains)
{
    std::vector<std::string> out;
    if (servers != dns_servers_) {
        dns_servers_ = std::move(servers);
        out.emplace_back("DNSServers");
    }
    if (domains != dns_domains_) {
        dns_domains_ = std::move(domains);
        out.emplace_back("DNSDomains");
    }
    return out;
}

std::vector<std::string> LinkState::set_dhcp(std::optional<DhcpLease> lease)
{
    if (lease == dhcp_)
        return {};
    DhcpLease before = dhcp_.value_or(DhcpLease{}), after = lease.value_or(DhcpLease{});
    dhcp_ = std::move(lease);
    std::vector<std::string> out;
    if (before.state != after.state)
        out.emplace_back("DHCPState");
    if (before.address != after.address)
        out.emplace_back("DHCPAddress");
    if (before.server != after.server)
        out.emplace_back("DHCPServer");
    if (before.lease_time != after.lease_time)
        out.emplace_back("DHCPLeaseTime");
    if (before.t1 != after.t1)
        out.emplace_back("DHCPT1");
    if (before.t2 != after.t2)
        out.emplace_back("DHCPT2");
    if (before.expiry_usec != after.expiry_usec)
        out.emplace_back("DHCPExpiry");
    return out;
}

} // namespace alopex::linkd
