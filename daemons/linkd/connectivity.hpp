// SPDX-License-Identifier: GPL-2.0-or-later
// Connectivity from the followed state, pure:
//   none     no link but loopback is up with a carrier;
//   local    some link is up with a carrier, but no global address on such a link;
//   limited  a link that is up with a carrier has a global (scope universe) address;
//   full     limited, a default route exists, and the probe succeeded (probing is off by
//            default, so without it the state honestly stays "limited").
// compute_connectivity() reads a whole snapshot (the definition, and the tests' oracle);
// ConnectivityTracker keeps the same answer up to date at the cost of what changed.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
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

// compute_connectivity(), kept per link: events mark the links they touch (by ifindex;
// default routes are followed by their key, counted per outgoing link), and update()
// recomputes only the marked links from the snapshot the events left, reading a link's
// own entry and addresses, never every link, address or route. Pure.
class ConnectivityTracker {
public:
    // Notes what `e` touches; the snapshot is read at update().
    void event(const netlink::Event &e);
    bool pending() const noexcept { return !dirty_.empty(); }
    // Recomputes the marked links from `s` (the state after every event noted).
    void update(const netlink::Snapshot &s);
    Connectivity value(std::optional<bool> probe) const;

    // For tests and statistics: links recomputed so far.
    size_t recomputed() const noexcept { return recomputed_; }

private:
    struct Entry {
        bool usable = false;   // not loopback, up, with a carrier
        bool global = false;   // has an address of scope universe
    };
    void set(int ifindex, Entry e);
    std::map<int, Entry> links_;                   // only links that are usable or have a global address
    std::set<int> dirty_;
    std::set<netlink::RouteKey> defaults_;         // default routes of the main table
    std::map<int, size_t> defaults_by_oif_;        // ... counted per oif (0: none given)
    size_t usable_ = 0, usable_global_ = 0;
    size_t recomputed_ = 0;
};

} // namespace alopex::linkd
