// SPDX-License-Identifier: GPL-2.0-or-later
// The ports of one bridge as the database's copy has them (D-Bus ListPorts, and how the
// agent sees a request done), pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ovsdb/replica.hpp"

namespace alopex::ovs {

struct PortView {
    std::string name;
    bool ours = false;                // external_ids alopex-owner=ovs-agentd
    std::optional<int64_t> ofport;    // none: ovs-vswitchd has not assigned one yet; -1: it failed
    std::optional<uint16_t> tag;
    std::vector<uint16_t> trunks;
    std::string container;            // external_ids alopex-container
    uint32_t vmid = 0;                // external_ids alopex-vmid (0: none)
    std::string error;                // the interface's error column
};

// The ports of `bridge`, sorted by name, without the bridge's own internal port (as
// ovs-vsctl list-ports); none when the bridge is not there. The interface is the port's
// own (the one of the same name, else its first).
std::vector<PortView> port_views(const ovsdb::Replica &r, std::string_view bridge);

} // namespace alopex::ovs
