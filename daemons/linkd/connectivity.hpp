// SPDX-License-Identifier: GPL-2.0-or-later
// Connectivity from the followed state, pure:
//   none     no link but loopback is up with a carrier;
//   local    some link is up with a carrier, but no global address on such a link;
//   limited  a link that is up with a carrier has a global (scope universe) address;
//   full     limited, a default route exists, and the probe succeeded (probing is off by
//            default, so without it the state honestly stays "limited").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "alopex/netlink/state.hpp"

namespace alopex::linkd {

enum class Connectivity : uint8_t { None, Local, Limited, Full };
std::string_view to_string(Connectivity c);

Connectivity compute_connectivity(const netlink::Snapshot &s, std::optional<bool> probe);

// What a probe's answer depends on. Empty when no probe can make the state "full" (the
// base state is below "limited", or there is no default route); otherwise a digest of
// the default routes and of the global addresses on usable links, so that a change of
// either (a new gateway, a renumbered uplink) re-runs the probe at once.
std::string probe_context(const netlink::Snapshot &s);

} // namespace alopex::linkd
