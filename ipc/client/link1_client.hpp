// SPDX-License-Identifier: GPL-2.0-or-later
// Client side of org.alopex.Link1: reads every link object with one GetManagedObjects
// call. Used by alopexctl and alopex-wait-online.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"
#include "alopex/ipc/link1_types.hpp"

namespace alopex::ipc::link1 {

struct LinkInfo {
    std::string path;
    int ifindex = 0;
    std::string name, kind, mac, operstate, admin, zone;
    uint32_t mtu = 0;
    bool carrier = false;
    int controller = 0;
    std::optional<bool> managed;    // absent when linkd does not publish it
    std::vector<AddressInfo> addresses;
    std::vector<std::string> dns_servers, dns_domains;
    std::string dhcp_state, dhcp_address, dhcp_server;
    uint32_t dhcp_lease_time = 0, dhcp_t1 = 0, dhcp_t2 = 0;
    uint64_t dhcp_expiry_usec = 0;
};

// Parses a GetManagedObjects reply (a{oa{sa{sv}}}), keeping the org.alopex.Link1.Link
// objects, sorted by ifindex. A known property of the wrong type is an error; unknown
// properties and interfaces are skipped.
Result<std::vector<LinkInfo>> parse_managed_objects(sd_bus_message *reply);

// Calls GetManagedObjects on org.alopex.Link1. A D-Bus error (linkd not running) comes
// back with its name in Error::bus_name.
Result<std::vector<LinkInfo>> read_links(sd_bus *bus);

// Statistics (not part of GetAll): rx_bytes, tx_bytes, ... of one link object.
Result<std::map<std::string, uint64_t>> read_statistics(sd_bus *bus, const std::string &path);

} // namespace alopex::ipc::link1
