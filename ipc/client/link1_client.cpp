// SPDX-License-Identifier: GPL-2.0-or-later
#include "link1_client.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string_view>

#include "alopex/ipc/link1.hpp"
#include "alopex/sd.hpp"

namespace alopex::ipc::link1 {
namespace {

Result<> check(int r, std::string_view what)
{
    if (r < 0)
        return failf(-r, "cannot read {} from linkd's reply", what);
    return {};
}

// Enters the variant of property `name` with `contents`, runs `body`, leaves it.
Result<> in_variant(sd_bus_message *m, const char *contents, std::string_view name,
                    const std::function<Result<>()> &body)
{
    if (auto r = check(sd_bus_message_enter_container(m, 'v', contents), name); !r)
        return r;
    if (auto r = body(); !r)
        return r;
    return check(sd_bus_message_exit_container(m), name);
}

Result<> read_string(sd_bus_message *m, std::string_view name, std::string &out)
{
    return in_variant(m, "s", name, [&]() -> Result<> {
        const char *s = nullptr;
        if (auto r = check(sd_bus_message_read_basic(m, 's', &s), name); !r)
            return r;
        out = s;
        return {};
    });
}

template <typename T> Result<> read_number(sd_bus_message *m, char type, std::string_view name, T &out)
{
    const char contents[2] = {type, 0};
    return in_variant(m, contents, name, [&]() -> Result<> {
        return check(sd_bus_message_read_basic(m, type, &out), name);
    });
}

Result<> read_strings(sd_bus_message *m, std::string_view name, std::vector<std::string> &out)
{
    return in_variant(m, "as", name, [&]() -> Result<> {
        char **v = nullptr;
        if (auto r = check(sd_bus_message_read_strv(m, &v), name); !r)
            return r;
        for (char **p = v; p && *p; ++p) {
            out.emplace_back(*p);
            free(*p);
        }
        free(v);
        return {};
    });
}

Result<> read_addresses(sd_bus_message *m, std::vector<AddressInfo> &out)
{
    return in_variant(m, "a(isysuuus)", "Addresses", [&]() -> Result<> {
        if (auto r = check(sd_bus_message_enter_container(m, 'a', "(isysuuus)"), "Addresses"); !r)
            return r;
        for (;;) {
            AddressInfo a;
            int32_t family = 0;
            const char *addr = nullptr, *scope = nullptr, *origin = nullptr;
            int r = sd_bus_message_read(m, "(isysuuus)", &family, &addr, &a.prefixlen, &scope, &a.flags,
                                        &a.valid_lft, &a.preferred_lft, &origin);
            if (r < 0)
                return check(r, "Addresses");
            if (r == 0)
                break;
            a.family = family;
            a.address = addr;
            a.scope = scope;
            a.origin = origin;
            out.push_back(std::move(a));
        }
        return check(sd_bus_message_exit_container(m), "Addresses");
    });
}

Result<> read_property(sd_bus_message *m, std::string_view n, LinkInfo &l)
{
    if (n == "Index")
        return read_number(m, 'i', n, l.ifindex);
    if (n == "Name")
        return read_string(m, n, l.name);
    if (n == "Kind")
        return read_string(m, n, l.kind);
    if (n == "MACAddress")
        return read_string(m, n, l.mac);
    if (n == "MTU")
        return read_number(m, 'u', n, l.mtu);
    if (n == "OperationalState")
        return read_string(m, n, l.operstate);
    if (n == "AdministrativeState")
        return read_string(m, n, l.admin);
    if (n == "Carrier") {
        int b = 0;
        auto r = read_number(m, 'b', n, b);
        l.carrier = b != 0;
        return r;
    }
    if (n == "Managed") {
        int b = 0;
        auto r = read_number(m, 'b', n, b);
        l.managed = b != 0;
        return r;
    }
    if (n == "Controller")
        return read_number(m, 'i', n, l.controller);
    if (n == "Addresses")
        return read_addresses(m, l.addresses);
    if (n == "Zone")
        return read_string(m, n, l.zone);
    if (n == "DNSServers")
        return read_strings(m, n, l.dns_servers);
    if (n == "DNSDomains")
        return read_strings(m, n, l.dns_domains);
    if (n == "DHCPState")
        return read_string(m, n, l.dhcp_state);
    if (n == "DHCPAddress")
        return read_string(m, n, l.dhcp_address);
    if (n == "DHCPServer")
        return read_string(m, n, l.dhcp_server);
    if (n == "DHCPLeaseTime")
        return read_number(m, 'u', n, l.dhcp_lease_time);
    if (n == "DHCPT1")
        return read_number(m, 'u', n, l.dhcp_t1);
    if (n == "DHCPT2")
        return read_number(m, 'u', n, l.dhcp_t2);
    if (n == "DHCPExpiry")
        return read_number(m, 't', n, l.dhcp_expiry_usec);
    return check(sd_bus_message_skip(m, "v"), n);
}

Result<> read_link(sd_bus_message *m, LinkInfo &l)
{
    if (auto r = check(sd_bus_message_enter_container(m, 'a', "{sv}"), "properties"); !r)
        return r;
    for (;;) {
        int r = sd_bus_message_enter_container(m, 'e', "sv");
        if (r <= 0) {
            if (r < 0)
                return check(r, "properties");
            break;
        }
        const char *name = nullptr;
        if (auto c = check(sd_bus_message_read_basic(m, 's', &name), "a property name"); !c)
            return c;
        if (auto p = read_property(m, name, l); !p)
            return p;
        if (auto c = check(sd_bus_message_exit_container(m), "properties"); !c)
            return c;
    }
    return check(sd_bus_message_exit_container(m), "properties");
}

Result<> read_object(sd_bus_message *m, std::vector<LinkInfo> &out)
{
    const char *path = nullptr;
    if (auto c = check(sd_bus_message_read_basic(m, 'o', &path), "an object path"); !c)
        return c;
    if (auto c = check(sd_bus_message_enter_container(m, 'a', "{sa{sv}}"), "interfaces"); !c)
        return c;
    for (;;) {
        int e = sd_bus_message_enter_container(m, 'e', "sa{sv}");
        if (e <= 0) {
            if (e < 0)
                return check(e, "interfaces");
            break;
        }
        const char *iface = nullptr;
        if (auto c = check(sd_bus_message_read_basic(m, 's', &iface), "an interface name"); !c)
            return c;
        if (strcmp(iface, link_interface) == 0) {
            LinkInfo l;
            l.path = path;
            if (auto c = read_link(m, l); !c)
                return c;
            out.push_back(std::move(l));
        } else if (auto c = check(sd_bus_message_skip(m, "a{sv}"), "properties"); !c) {
            return c;
        }
        if (auto c = check(sd_bus_message_exit_container(m), "interfaces"); !c)
            return c;
    }
    return check(sd_bus_message_exit_container(m), "interfaces");
}

Error call_error(int r, const BusError &error)
{
    Error e{-r, error.is_set() ? error.message() : strerror(-r), {}};
    if (error.is_set())
        e.bus_name = error.name();
    return e;
}

} // namespace

Result<std::vector<LinkInfo>> parse_managed_objects(sd_bus_message *m)
{
    std::vector<LinkInfo> out;
    if (auto r = check(sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}"), "objects"); !r)
        return std::unexpected(r.error());
    for (;;) {
        int r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}");
        if (r <= 0) {
            if (r < 0)
                return std::unexpected(check(r, "objects").error());
            break;
        }
        if (auto c = read_object(m, out); !c)
            return std::unexpected(c.error());
        if (auto c = check(sd_bus_message_exit_container(m), "objects"); !c)
            return std::unexpected(c.error());
    }
    if (auto c = check(sd_bus_message_exit_container(m), "objects"); !c)
        return std::unexpected(c.error());
    std::sort(out.begin(), out.end(), [](const LinkInfo &a, const LinkInfo &b) { return a.ifindex < b.ifindex; });
    return out;
}

Result<std::vector<LinkInfo>> read_links(sd_bus *bus)
{
    BusError error;
    sd_bus_message *reply = nullptr;
    int r = sd_bus_call_method(bus, service, path, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                               &error, &reply, "");
    MessagePtr owned(reply);
    if (r < 0)
        return std::unexpected(call_error(r, error));
    return parse_managed_objects(reply);
}

Result<std::map<std::string, uint64_t>> read_statistics(sd_bus *bus, const std::string &object)
{
    BusError error;
    sd_bus_message *reply = nullptr;
    int r = sd_bus_get_property(bus, service, object.c_str(), link_interface, "Statistics", &error, &reply,
                                "a{st}");
    MessagePtr owned(reply);
    if (r < 0)
        return std::unexpected(call_error(r, error));
    std::map<std::string, uint64_t> out;
    if (auto c = check(sd_bus_message_enter_container(reply, 'a', "{st}"), "Statistics"); !c)
        return std::unexpected(c.error());
    for (;;) {
        const char *k = nullptr;
        uint64_t v = 0;
        int e = sd_bus_message_read(reply, "{st}", &k, &v);
        if (e <= 0) {
            if (e < 0)
                return std::unexpected(check(e, "Statistics").error());
            break;
        }
        out[k] = v;
    }
    return out;
}

} // namespace alopex::ipc::link1
