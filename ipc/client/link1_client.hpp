// SPDX-License-Identifier: GPL-2.0-or-later
// Client side of org.alopex.Link1: the link objects as plain structs, read by a
// bus::PropertyReader bound to the interface spec generated from ipc/org.alopex.Link1.xml
// (so property names and signatures are declared once, in the XML). Followed with
// bus::Follower<LinkInfo> (alopex-wait-online, daemons), or read once with
// bus::blocking::managed_objects (alopexctl).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/bus/reader.hpp"
#include "alopex/error.hpp"
#include "alopex/ipc/link1_types.hpp"

namespace alopex::ipc::link1 {

// The properties of one org.alopex.Link1.Link object (Statistics, explicit, apart).
struct LinkInfo {
    std::string path;               // the object path (not a property)
    int32_t ifindex = 0;
    std::string name, kind, mac, operstate, admin, zone;
    uint32_t mtu = 0;
    bool carrier = false;
    int32_t controller = 0;
    std::optional<bool> managed;    // absent when linkd does not publish it
    std::vector<AddressInfo> addresses;
    std::vector<std::string> dns_servers, dns_domains;
    std::string dhcp_state, dhcp_address, dhcp_server;
    uint32_t dhcp_lease_time = 0, dhcp_t1 = 0, dhcp_t2 = 0;
    uint64_t dhcp_expiry_usec = 0;
    bool operator==(const LinkInfo &) const = default;
};

// Reads org.alopex.Link1.Link property dictionaries (GetAll, GetManagedObjects,
// PropertiesChanged) into a LinkInfo; what bus::Follower<LinkInfo> follows.
const bus::PropertyReader<LinkInfo> &link_reader();

// What a client reads of org.alopex.Link1.Manager: Startup (absent from an older linkd,
// whose bus name means it has started).
struct ManagerInfo {
    std::optional<bool> startup;
};
const bus::PropertyReader<ManagerInfo> &manager_reader();

// The objects of a GetManagedObjects reply (as bus::read_managed_objects gives them)
// with their paths, sorted by ifindex.
std::vector<LinkInfo> by_ifindex(std::vector<std::pair<std::string, LinkInfo>> objects);

// Parses a GetManagedObjects reply (a{oa{sa{sv}}}), keeping the org.alopex.Link1.Link
// objects, sorted by ifindex. A known property of the wrong type is an error; unknown
// properties and interfaces are skipped.
Result<std::vector<LinkInfo>> parse_managed_objects(sd_bus_message *reply);

} // namespace alopex::ipc::link1
