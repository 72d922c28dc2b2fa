// SPDX-License-Identifier: GPL-2.0-or-later
// The bounded block the agent keeps in /etc/network/interfaces (through the broker's
// WriteManagedBlock, which checks it with its "interfaces" validator), pure: always the
// full desired set, the agent's ports of the bridge by name, in the ifupdown2/Proxmox
// style, so that the Proxmox GUI and `ifreload -a` see them as OVS ports:
//
//   auto veth101i0
//   allow-ovsbr0 veth101i0
//   iface veth101i0 inet manual
//   	ovs_type OVSPort
//   	ovs_bridge ovsbr0
//   	ovs_options tag=10 trunks=20,30
//
// (ovs_options only with a tag or trunks). The markers are the broker's to write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ovsdb/replica.hpp"

namespace alopex::ovs {

struct BlockPort {
    std::string name;
    std::optional<uint16_t> tag;
    std::vector<uint16_t> trunks;
    bool operator==(const BlockPort &) const = default;
};

std::string render_block(std::string_view bridge, std::vector<BlockPort> ports);
// The agent's ports of `bridge` in the copy, with their tag and trunks.
std::vector<BlockPort> block_ports(const ovsdb::Replica &r, std::string_view bridge);

} // namespace alopex::ovs
