// SPDX-License-Identifier: GPL-2.0-or-later
#include "link1_client.hpp"

#include <algorithm>

#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"

namespace alopex::ipc::link1 {

namespace {
void set_managed(LinkInfo &l, bool v) { l.managed = v; }
void set_startup(ManagerInfo &m, bool v) { m.startup = v; }
} // namespace

const bus::PropertyReader<ManagerInfo> &manager_reader()
{
    static const auto reader =
        bus::PropertyReader<ManagerInfo>(manager::spec).field(manager::property::Startup, &set_startup);
    return reader;
}

std::vector<LinkInfo> by_ifindex(std::vector<std::pair<std::string, LinkInfo>> objects)
{
    std::vector<LinkInfo> out;
    out.reserve(objects.size());
    for (auto &[path, l] : objects) {
        l.path = std::move(path);
        out.push_back(std::move(l));
    }
    std::sort(out.begin(), out.end(), [](const LinkInfo &a, const LinkInfo &b) { return a.ifindex < b.ifindex; });
    return out;
}

const bus::PropertyReader<LinkInfo> &link_reader()
{
    namespace p = link::property;
    static const auto reader = bus::PropertyReader<LinkInfo>(link::spec)
                                   .field(p::Index, &LinkInfo::ifindex)
                                   .field(p::Name, &LinkInfo::name)
                                   .field(p::Kind, &LinkInfo::kind)
                                   .field(p::MACAddress, &LinkInfo::mac)
                                   .field(p::MTU, &LinkInfo::mtu)
                                   .field(p::OperationalState, &LinkInfo::operstate)
                                   .field(p::AdministrativeState, &LinkInfo::admin)
                                   .field(p::Carrier, &LinkInfo::carrier)
                                   .field(p::Controller, &LinkInfo::controller)
                                   .field(p::Addresses, &LinkInfo::addresses)
                                   .field(p::Zone, &LinkInfo::zone)
                                   .field(p::Managed, &set_managed)
                                   .field(p::DNSServers, &LinkInfo::dns_servers)
                                   .field(p::DNSDomains, &LinkInfo::dns_domains)
                                   .field(p::DHCPState, &LinkInfo::dhcp_state)
                                   .field(p::DHCPAddress, &LinkInfo::dhcp_address)
                                   .field(p::DHCPServer, &LinkInfo::dhcp_server)
                                   .field(p::DHCPLeaseTime, &LinkInfo::dhcp_lease_time)
                                   .field(p::DHCPT1, &LinkInfo::dhcp_t1)
                                   .field(p::DHCPT2, &LinkInfo::dhcp_t2)
                                   .field(p::DHCPExpiry, &LinkInfo::dhcp_expiry_usec);
    return reader;
}

Result<std::vector<LinkInfo>> parse_managed_objects(sd_bus_message *reply)
{
    ALOPEX_TRY(objects, bus::read_managed_objects(reply, link_reader()));
    return by_ifindex(std::move(objects));
}

} // namespace alopex::ipc::link1
