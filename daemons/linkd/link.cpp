// SPDX-License-Identifier: GPL-2.0-or-later
#include "link.hpp"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "alopex/ipc/link1_spec.hpp"

namespace alopex::linkd {

namespace p = ipc::link1::link::property;

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

Changed changed_properties(const netlink::Link &a, const netlink::Link &b)
{
    Changed out;
    if (a.name != b.name)
        out.push_back(&p::Name);
    if (a.kind != b.kind)
        out.push_back(&p::Kind);
    if (a.mac != b.mac)
        out.push_back(&p::MACAddress);
    if (a.mtu != b.mtu)
        out.push_back(&p::MTU);
    if (a.operstate != b.operstate)
        out.push_back(&p::OperationalState);
    if ((a.flags & IFF_UP) != (b.flags & IFF_UP))
        out.push_back(&p::AdministrativeState);
    if (a.carrier != b.carrier)
        out.push_back(&p::Carrier);
    if (a.master != b.master)
        out.push_back(&p::Controller);
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

Changed LinkState::set_kernel(const netlink::Link &l)
{
    auto out = changed_properties(link_, l);
    link_ = l;
    return out;
}

Changed LinkState::set_addresses(std::vector<AddressState> a)
{
    if (a == addresses_)
        return {};
    addresses_ = std::move(a);
    return {&p::Addresses};
}

Changed LinkState::set_zone(std::string zone)
{
    if (zone == zone_)
        return {};
    zone_ = std::move(zone);
    return {&p::Zone};
}

Changed LinkState::set_managed(bool managed)
{
    if (managed == managed_)
        return {};
    managed_ = managed;
    return {&p::Managed};
}

Changed LinkState::set_dns(std::vector<std::string> servers,
                                            std::vector<std::string> domains)
{
    Changed out;
    if (servers != dns_servers_) {
        dns_servers_ = std::move(servers);
        out.push_back(&p::DNSServers);
    }
    if (domains != dns_domains_) {
        dns_domains_ = std::move(domains);
        out.push_back(&p::DNSDomains);
    }
    return out;
}

Changed LinkState::set_dhcp(std::optional<DhcpLease> lease)
{
    if (lease == dhcp_)
        return {};
    DhcpLease before = dhcp_.value_or(DhcpLease{}), after = lease.value_or(DhcpLease{});
    dhcp_ = std::move(lease);
    Changed out;
    if (before.state != after.state)
        out.push_back(&p::DHCPState);
    if (before.address != after.address)
        out.push_back(&p::DHCPAddress);
    if (before.server != after.server)
        out.push_back(&p::DHCPServer);
    if (before.lease_time != after.lease_time)
        out.push_back(&p::DHCPLeaseTime);
    if (before.t1 != after.t1)
        out.push_back(&p::DHCPT1);
    if (before.t2 != after.t2)
        out.push_back(&p::DHCPT2);
    if (before.expiry_usec != after.expiry_usec)
        out.push_back(&p::DHCPExpiry);
    return out;
}

} // namespace alopex::linkd
