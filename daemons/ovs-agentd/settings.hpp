// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-ovs-agent.toml(5), /etc/alopex/ovs-agent.toml: the seed's keys (nm-monitor's
// config.toml, so an existing file works), and what it lacked. Every refusal is
// "file:line:col: message"; nothing here opens anything but the file.
//
//   bridge_name = "ovsbr0"              # the bridge the agent keeps ports on
//   include_prefixes = ["veth", "tap", "vi"]   # links attached by name (1..15 bytes each)
//   debounce_ms = 0                     # least time between two transactions (0..10000); 0: at
//                                       # once, what comes meanwhile coalesced into the next
//   managed_block_tag = "ovs-port-agent"   # the /etc/network/interfaces block's tag, as in broker.toml
//   naming_template = "vi{container}"   # CreateContainerInterface's name without a VMID
//   enable_rename = false               # rename LXC veth<vmid>i<n> by naming_template before attaching
//   container_name_cmd = ["/usr/local/bin/ct-name", "{vmid}", "{ifname}"]   # argv, no shell; its
//                                       # first output line is {container} (else the VMID)
//   interfaces_path = "..."             # accepted: the broker's [[block]] names the file
//   ledger_path = "..."                 # accepted: the ledger is the suite's (the broker's)
//   [bridge]
//   create = false                      # create the bridge when it is missing
//   datapath_type = "system"            # "system" (the kernel's) or "netdev" (userspace)
//   [flows]                             # base OpenFlow flows on the bridge
//   enable = false                      # NORMAL for all traffic, and these networks to LOCAL:
//   local = ["10.0.0.0/24", "fd00::/64"]
//   [ports.NAME]                        # per port: a VLAN access tag and trunks
//   tag = 10
//   trunks = [20, 30]
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/net.hpp"

namespace alopex::ovs {

struct VlanSettings {
    std::optional<uint16_t> tag;
    std::vector<uint16_t> trunks;
    bool operator==(const VlanSettings &) const = default;
};

struct Settings {
    std::string bridge = "ovsbr0";
    std::vector<std::string> prefixes = {"veth", "tap", "vi"};
    uint64_t debounce_usec = 0;
    std::string block_tag = "ovs-port-agent";
    std::string naming_template = "vi{container}";
    bool enable_rename = false;
    std::vector<std::string> container_name_cmd;   // empty: none
    bool create_bridge = false;
    std::string datapath_type = "system";
    std::map<std::string, VlanSettings, std::less<>> vlans;   // by port name
    bool flows = false;                      // [flows] enable
    std::vector<net::Prefix> local;          // [flows] local: networks punted to the bridge's own port
    // Seed keys taken but meaning nothing here, each with why (logged at start).
    std::vector<std::string> notices;
};

Result<Settings> parse_settings(std::string_view text, std::string file);
// A missing file is the defaults.
Result<Settings> load_settings(const std::filesystem::path &path);

// A Linux interface name (the suite's one check, alopex/net.hpp).
using net::valid_ifname;

} // namespace alopex::ovs
