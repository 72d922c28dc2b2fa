// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-ovs-hook's decisions, pure: its command line (a Proxmox hookscript's "VMID
// PHASE", or "oci" for an OCI hook), the OCI state it reads, and which links are a
// Proxmox guest's.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::ovs_hook {

struct Invocation {
    enum class Kind { proxmox, oci };
    Kind kind = Kind::proxmox;
    uint32_t vmid = 0;
    std::string phase;    // pre-start, post-start, pre-stop, post-stop
    bool attach = false;  // this phase attaches (post-start)
};

// argv without the program name. Errors say what is wrong with which argument.
Result<Invocation> parse_command_line(std::span<const std::string_view> args);

// The OCI runtime state a hook gets on stdin (runtime-spec's state.json).
struct OciState {
    std::string id, status;
    int pid = 0;
};
// At most 1 MiB of JSON; "id", "status" and (unless stopped) "pid" > 0 required.
Result<OciState> parse_oci_state(std::string_view text);

// The guest's interfaces among `links`: veth<vmid>i<n> (LXC), tap<vmid>i<n> (QEMU) and
// the agent's vi<vmid>, vi<vmid>_<k>; sorted.
std::vector<std::string> guest_links(uint32_t vmid, const std::vector<std::string> &links);

} // namespace alopex::ovs_hook
