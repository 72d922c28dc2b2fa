// SPDX-License-Identifier: GPL-2.0-or-later
// What a managed block (or file) may hold, by the validator its [[block]] (or [[file]])
// entry declares. Pure:
// text in, verdict out. The markers are checked for every block (managed_block.hpp);
// a validator decides what the lines between them may say.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "alopex/error.hpp"

namespace alopex::broker {

enum class Validator {
    // /etc/network/interfaces for ifupdown, limited to what ovs-agentd writes: stanza
    // lines `auto NAME...`, `allow-CLASS NAME...` and `iface NAME inet|inet6 manual` at
    // the start of a line; indented option lines `ovs_type`, `ovs_bridge`, `ovs_ports`,
    // `ovs_bonds`, `ovs_options`, `ovs_mtu`, `ovs_patch_peer`, `ovs_tunnel_type`,
    // `ovs_tunnel_options` only after an `iface` line of the block, their values words of
    // [A-Za-z0-9._:=,@/+-] not starting with '-'; comment lines and blank lines. Nothing
    // that runs a command as root: no up/down/pre-up/post-up/pre-down/post-down hooks, no
    // ovs_extra (which ifupdown.sh passes to eval), no source/source-directory/mapping,
    // no line continuation (a trailing '\'), no control characters but tab.
    interfaces,
    // An unbound configuration include of alopex-dnsd-controller (unbound_validator.hpp):
    // the few server:, forward-zone: and dnstap: options it writes, values checked.
    unbound,
};

inline constexpr std::array<std::string_view, 2> validator_names{"interfaces", "unbound"};
static_assert(validator_names.size() == static_cast<size_t>(Validator::unbound) + 1);

constexpr std::string_view to_string(Validator v) { return validator_names[static_cast<size_t>(v)]; }
std::optional<Validator> validator_from_string(std::string_view s);

// ok, or InvalidArgument "contents: line N: what is wrong". For a block or a whole file.
Result<void> validate_block(Validator v, std::string_view contents);

} // namespace alopex::broker
