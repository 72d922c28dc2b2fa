// SPDX-License-Identifier: GPL-2.0-or-later
// Interface names the agent gives, pure.
//
// render_name(): naming_template with {container} and {index} filled in, the seed's way
// (nm-monitor's render_template), so that existing names come out the same: ASCII
// letters and digits lower-cased, '_' kept, every other character (a UTF-8 sequence
// counts as one) made '_'; longer than 15 bytes, the first 13 characters and the first
// two hex digits of the SHA-1 of the name as rendered before that clean-up.
//
// vi_name(): Proxmox's vi<VMID> for a container's interface; when that is taken (the
// container's second interface), vi<VMID>_1, vi<VMID>_2, ...; none when no name of at
// most 15 bytes is free.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace alopex::ovs {

std::string render_name(std::string_view naming_template, std::string_view container, unsigned index);

std::optional<std::string> vi_name(uint32_t vmid, const std::function<bool(const std::string &)> &taken);

// A container's name or id as the agent takes it ({container}, external_ids
// alopex-container): 1 to 64 characters of [A-Za-z0-9_.:@-].
bool valid_container_name(std::string_view name);

} // namespace alopex::ovs
