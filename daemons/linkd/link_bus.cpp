// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Link1.Link at /org/alopex/Link1/link/<ifindex>: one subtree registration for
// all links (found by index from the path, listed for introspection and the object
// manager) and one getter per property of the XML. Statistics is read from the kernel
// when asked, without waiting (stats.hpp; Explicit: not part of GetAll or
// InterfacesAdded, and it emits no change signal).
#include <charconv>
#include <map>

#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "alopex/ipc/link1_types.hpp"
#include "alopex/netlink/types.hpp"
#include "manager.hpp"

namespace alopex::linkd {

namespace l1 = ipc::link1;

namespace {

// The ifindex of a link object path, 0 if `path` is not one.
int ifindex_of(std::string_view path)
{
    std::string_view prefix(l1::link_prefix);
    if (!path.starts_with(prefix) || path.size() <= prefix.size() + 1 || path[prefix.size()] != '/')
        return 0;
    std::string_view tail = path.substr(prefix.size() + 1);
    int v = 0;
    auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), v);
    if (ec != std::errc{} || end != tail.data() + tail.size() || v <= 0 || tail[0] == '0')
        return 0;
    return v;
}

std::vector<l1::AddressInfo> addresses_of(const LinkState &l)
{
    std::vector<l1::AddressInfo> out;
    out.reserve(l.addresses().size());
    for (const auto &a : l.addresses()) {
        const auto &k = a.address;
        out.push_back(l1::AddressInfo{int32_t{k.family}, k.address.to_string(), k.prefixlen, scope_name(k.scope),
                                      k.flags, k.valid_lft, k.preferred_lft, std::string(to_string(a.origin))});
    }
    return out;
}

std::map<std::string, uint64_t> stats_map(const netlink::LinkStats &s)
{
    return {
        {"rx_bytes", s.rx_bytes},     {"tx_bytes", s.tx_bytes},     {"rx_packets", s.rx_packets},
        {"tx_packets", s.tx_packets}, {"rx_errors", s.rx_errors},   {"tx_errors", s.tx_errors},
        {"rx_dropped", s.rx_dropped}, {"tx_dropped", s.tx_dropped},
    };
}

DhcpLease lease_of(const LinkState &l) { return l.dhcp().value_or(DhcpLease{}); }

} // namespace

std::unique_ptr<bus::Vtable<LinkState>> Manager::make_link_vtable(Manager &m)
{
    namespace p = l1::link::property;
    using S = const LinkState &;
    auto vt = std::make_unique<bus::Vtable<LinkState>>(l1::link::spec);
    vt->property(p::Index, [](S l) { return int32_t{l.kernel().ifindex}; })
        .property(p::Name, [](S l) { return l.kernel().name; })
        .property(p::Kind, [](S l) { return l.kernel().kind; })
        .property(p::MACAddress, [](S l) { return l.kernel().mac.to_string(); })
        .property(p::MTU, [](S l) { return l.kernel().mtu; })
        .property(p::OperationalState,
                  [](S l) { return std::string(netlink::operstate_name(l.kernel().operstate)); })
        .property(p::AdministrativeState, [](S l) { return std::string(admin_state(l.kernel().flags)); })
        .property(p::Carrier, [](S l) { return l.kernel().carrier; })
        .property(p::Controller, [](S l) { return int32_t{l.kernel().master}; })
        .property(p::Addresses, [](S l) { return addresses_of(l); })
        .property(p::Zone, [](S l) { return l.zone(); })
        .property(p::Managed, [](S l) { return l.managed(); })
        .property(p::DNSServers, [](S l) { return l.dns_servers(); })
        .property(p::DNSDomains, [](S l) { return l.dns_domains(); })
        .property(p::DHCPState, [](S l) { return lease_of(l).state; })
        .property(p::DHCPAddress, [](S l) { return lease_of(l).address; })
        .property(p::DHCPServer, [](S l) { return lease_of(l).server; })
        .property(p::DHCPLeaseTime, [](S l) { return lease_of(l).lease_time; })
        .property(p::DHCPT1, [](S l) { return lease_of(l).t1; })
        .property(p::DHCPT2, [](S l) { return lease_of(l).t2; })
        .property(p::DHCPExpiry, [](S l) { return lease_of(l).expiry_usec; })
        .property(p::Statistics, [&m](S l) -> Result<std::map<std::string, uint64_t>> {
            auto s = m.read_stats(l.ifindex());
            if (!s)
                return std::unexpected(s.error());
            return stats_map(*s);
        });
    return vt;
}

LinkState *Manager::find_link(std::string_view path)
{
    auto it = links_.find(ifindex_of(path));
    return it == links_.end() ? nullptr : it->second.get();
}

} // namespace alopex::linkd
