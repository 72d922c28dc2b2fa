// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl ovs ...`: alopex-ovs-agentd's ports (org.alopex.PortAgent1), and the name
// naming_template gives (read from alopex-ovs-agent.toml, without the daemon, as
// nm-monitor's `name` did). Parse and documents are pure; run_ovs calls the bus.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "args.hpp"
#include "context.hpp"
#include "output.hpp"
#include "portagent1_client.hpp"

namespace alopexctl {

struct OvsRequest {
    enum class Op { ports, attach, detach, plan, name, create, remove, reload, uplink };
    Op op = Op::ports;
    std::vector<std::string> names{};   // attach: the links; detach, remove: one
    std::string raw{}, container{};     // create: the raw link and the container; name: the container
    uint32_t vmid = 0;                  // create
    std::string bridge{};               // uplink: the bridge (raw: the NIC)
    uint32_t timeout_s = 60;            // uplink
    unsigned index = 0;                 // name
};

// Words after "ovs". Errors name the offending word.
alopex::Result<OvsRequest> parse_ovs_args(std::span<const std::string_view> words);

// ovs ports: PORT AGENT OFPORT TAG CONTAINER VMID ERROR, with -f also TRUNKS;
// JSON {"ports": [...]}. ovs attach: PORT OFPORT ERROR ({"attached": [...]}).
// ovs plan: ACTION PORT DETAIL ({"plan": [...]}).
alopex::cli::Document ovs_ports_document(const std::vector<alopex::ipc::portagent1::PortInfo> &ports);
alopex::cli::Document ovs_attach_document(const std::vector<alopex::ipc::portagent1::AttachResult> &results);
alopex::cli::Document ovs_plan_document(const std::vector<alopex::ipc::portagent1::Change> &changes);

int run_ovs(Context &ctx, const OvsRequest &r);
std::vector<alopex::cli::Command> ovs_commands(Context &ctx);

} // namespace alopexctl
