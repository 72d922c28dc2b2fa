// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Link1.Link at /org/alopex/Link1/link/<ifindex>: one fallback vtable for all
// links (found by index from the path), a node enumerator, and one getter for every
// property. Statistics is read from the kernel when asked (EXPLICIT: not part of GetAll
// or InterfacesAdded, and it emits no change signal).
#include <charconv>
#include <cstring>

#include "alopex/ipc/link1.hpp"
#include "alopex/netlink/types.hpp"
#include "manager.hpp"

namespace alopex::linkd {

namespace l1 = ipc::link1;

namespace {

// The ifindex of a link object path, 0 if `path` is not one.
int ifindex_of(const char *path)
{
    size_t n = std::strlen(l1::link_prefix);
    if (std::strncmp(path, l1::link_prefix, n) != 0 || path[n] != '/')
        return 0;
    std::string_view tail(path + n + 1);
    int v = 0;
    auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), v);
    if (ec != std::errc{} || end != tail.data() + tail.size() || v <= 0 || tail[0] == '0')
        return 0;
    return v;
}

int append_strings(sd_bus_message *reply, const std::vector<std::string> &v)
{
    return bus::append(reply, v);
}

int append_addresses(sd_bus_message *reply, const std::vector<AddressState> &list)
{
    int r = sd_bus_message_open_container(reply, 'a', "(isysuuus)");
    for (const auto &a : list) {
        if (r < 0)
            break;
        const auto &k = a.address;
        r = sd_bus_message_append(reply, "(isysuuus)", int32_t{k.family}, k.address.to_string().c_str(),
                                  k.prefixlen, scope_name(k.scope).c_str(), k.flags, k.valid_lft,
                                  k.preferred_lft, std::string(to_string(a.origin)).c_str());
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int append_stats(sd_bus_message *reply, const netlink::LinkStats &s)
{
    const std::pair<const char *, uint64_t> v[] = {
        {"rx_bytes", s.rx_bytes},     {"tx_bytes", s.tx_bytes},
        {"rx_packets", s.rx_packets}, {"tx_packets", s.tx_packets},
        {"rx_errors", s.rx_errors},   {"tx_errors", s.tx_errors},
        {"rx_dropped", s.rx_dropped}, {"tx_dropped", s.tx_dropped},
    };
    int r = sd_bus_message_open_container(reply, 'a', "{st}");
    for (const auto &[k, n] : v)
        if (r >= 0)
            r = sd_bus_message_append(reply, "{st}", k, n);
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int get(sd_bus *, const char *path, const char *, const char *property, sd_bus_message *reply,
        void *userdata, sd_bus_error *ret) noexcept
{
    try {
        auto *mgr = static_cast<Manager *>(userdata);
        int ifindex = ifindex_of(path);
        const LinkState *l = mgr->link(ifindex);
        if (!l)
            return sd_bus_error_setf(ret, bus_error::NoSuchLink, "no link with index %d", ifindex);
        const netlink::Link &k = l->kernel();
        std::string_view p = property;
        const DhcpLease lease = l->dhcp().value_or(DhcpLease{});
        if (p == "Index")
            return bus::append(reply, int32_t{k.ifindex});
        if (p == "Name")
            return bus::append(reply, k.name);
        if (p == "Kind")
            return bus::append(reply, k.kind);
        if (p == "MACAddress")
            return bus::append(reply, k.mac.to_string());
        if (p == "MTU")
            return bus::append(reply, k.mtu);
        if (p == "OperationalState")
            return bus::append(reply, std::string(netlink::operstate_name(k.operstate)));
        if (p == "AdministrativeState")
            return bus::append(reply, std::string(admin_state(k.flags)));
        if (p == "Carrier")
            return bus::append(reply, k.carrier);
        if (p == "Controller")
            return bus::append(reply, int32_t{k.master});
        if (p == "Addresses")
            return append_addresses(reply, l->addresses());
        if (p == "Zone")
            return bus::append(reply, l->zone());
        if (p == "Managed")
            return bus::append(reply, l->managed());
        if (p == "DNSServers")
            return append_strings(reply, l->dns_servers());
        if (p == "DNSDomains")
            return append_strings(reply, l->dns_domains());
        if (p == "DHCPState")
            return bus::append(reply, lease.state);
        if (p == "DHCPAddress")
            return bus::append(reply, lease.address);
        if (p == "DHCPServer")
            return bus::append(reply, lease.server);
        if (p == "DHCPLeaseTime")
            return bus::append(reply, lease.lease_time);
        if (p == "DHCPT1")
            return bus::append(reply, lease.t1);
        if (p == "DHCPT2")
            return bus::append(reply, lease.t2);
        if (p == "DHCPExpiry")
            return bus::append(reply, lease.expiry_usec);
        if (p == "Statistics") {
            auto s = mgr->read_stats(ifindex);
            if (!s)
                return bus::set_error(ret, bus_error::IOError, s.error().to_string());
            return append_stats(reply, *s);
        }
        return sd_bus_error_setf(ret, SD_BUS_ERROR_UNKNOWN_PROPERTY, "no property %s", property);
    } catch (...) {
        return bus::exception_to_error(ret);
    }
}

constexpr uint64_t change = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;

const sd_bus_vtable vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Index", "i", get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Name", "s", get, 0, change),
    SD_BUS_PROPERTY("Kind", "s", get, 0, change),
    SD_BUS_PROPERTY("MACAddress", "s", get, 0, change),
    SD_BUS_PROPERTY("MTU", "u", get, 0, change),
    SD_BUS_PROPERTY("OperationalState", "s", get, 0, change),
    SD_BUS_PROPERTY("AdministrativeState", "s", get, 0, change),
    SD_BUS_PROPERTY("Carrier", "b", get, 0, change),
    SD_BUS_PROPERTY("Controller", "i", get, 0, change),
    SD_BUS_PROPERTY("Addresses", "a(isysuuus)", get, 0, change),
    SD_BUS_PROPERTY("Zone", "s", get, 0, change),
    SD_BUS_PROPERTY("Managed", "b", get, 0, change),
    SD_BUS_PROPERTY("DNSServers", "as", get, 0, change),
    SD_BUS_PROPERTY("DNSDomains", "as", get, 0, change),
    SD_BUS_PROPERTY("DHCPState", "s", get, 0, change),
    SD_BUS_PROPERTY("DHCPAddress", "s", get, 0, change),
    SD_BUS_PROPERTY("DHCPServer", "s", get, 0, change),
    SD_BUS_PROPERTY("DHCPLeaseTime", "u", get, 0, change),
    SD_BUS_PROPERTY("DHCPT1", "u", get, 0, change),
    SD_BUS_PROPERTY("DHCPT2", "u", get, 0, change),
    SD_BUS_PROPERTY("DHCPExpiry", "t", get, 0, change),
    SD_BUS_PROPERTY("Statistics", "a{st}", get, 0, SD_BUS_VTABLE_PROPERTY_EXPLICIT),
    SD_BUS_VTABLE_END,
};

} // namespace

const sd_bus_vtable *Manager::link_vtable() { return vtable; }

int Manager::find_link(sd_bus *, const char *path, const char *, void *userdata, void **found,
                       sd_bus_error *) noexcept
{
    auto *mgr = static_cast<Manager *>(userdata);
    int ifindex = ifindex_of(path);
    if (ifindex <= 0 || !mgr->link(ifindex))
        return 0;
    *found = mgr;
    return 1;
}

int Manager::enumerate_links(sd_bus *, const char *, void *userdata, char ***nodes,
                             sd_bus_error *) noexcept
{
    auto *mgr = static_cast<Manager *>(userdata);
    size_t n = mgr->links().size();
    auto **v = static_cast<char **>(calloc(n + 1, sizeof(char *)));
    if (!v)
        return -ENOMEM;
    size_t i = 0;
    for (const auto &[ifindex, l] : mgr->links()) {
        try {
            v[i] = strdup(link_path(ifindex).c_str());
        } catch (...) {
            v[i] = nullptr;
        }
        if (!v[i]) {
            for (size_t j = 0; j < i; ++j)
                free(v[j]);
            free(v);
            return -ENOMEM;
        }
        ++i;
    }
    *nodes = v;
    return 0;
}

} // namespace alopex::linkd
