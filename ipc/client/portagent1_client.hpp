// SPDX-License-Identifier: GPL-2.0-or-later
// Client side of org.alopex.PortAgent1 for alopexctl: the methods of alopex-ovs-agentd
// called with the signatures generated from ipc/org.alopex.PortAgent1.xml. The calls
// block (command-line tools only); a D-Bus error comes back as an alopex::Error with the
// error's name in Error::bus_name.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"

namespace alopex::ipc::portagent1 {

struct PortInfo {
    std::string name;
    bool ours = false;
    int64_t ofport = 0;          // -1: failed, 0: not assigned yet
    int32_t tag = -1;            // -1: untagged
    std::vector<uint16_t> trunks;
    std::string container;
    uint32_t vmid = 0;
    std::string error;
};

struct AttachResult {
    std::string name;
    int64_t ofport = -1;
    std::string error;           // "" when attached
};

struct Change {
    std::string action, port, detail;
};

Result<std::vector<PortInfo>> list_ports(sd_bus *bus);
Result<std::vector<AttachResult>> attach_ports(sd_bus *bus, const std::vector<std::string> &names);
Result<> detach_port(sd_bus *bus, const std::string &name);
// The new name and its ofport.
Result<std::pair<std::string, int64_t>> create_container_interface(sd_bus *bus, const std::string &raw,
                                                                   const std::string &container, uint32_t vmid);
Result<> remove_container_interface(sd_bus *bus, const std::string &name);
Result<std::vector<Change>> plan(sd_bus *bus);
// The checkpoint to confirm and the interface that holds the addresses now.
Result<std::pair<std::string, std::string>> migrate_uplink(sd_bus *bus, const std::string &bridge,
                                                           const std::string &nic, uint32_t timeout_s);
Result<std::vector<std::string>> reload(sd_bus *bus);

} // namespace alopex::ipc::portagent1
