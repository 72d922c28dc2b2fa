// SPDX-License-Identifier: GPL-2.0-or-later
// Follows the zones alopex-linkd gives its links (a profile's `zone =`, linkd's SetZone):
// the `Index` and `Zone` properties of org.alopex.Link1's link objects, with
// bus::Follower (one GetManagedObjects when linkd appears, then signals only). fwd only
// reads: no authorization is needed, and fwd works the same without linkd (no zones).
//
// Keyed by ifindex and by deltas: a PropertiesChanged of one link touches that link's
// entry only and reports it only when its zone changed; the other links are never read
// again. Other properties (addresses, counters, DHCP) are skipped unread. When linkd goes
// away the last zones are kept (the interfaces have not moved); when it comes back, its
// full read reports only the links whose zone differs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <systemd/sd-bus.h>

#include "alopex/bus/follower.hpp"
#include "alopex/error.hpp"

namespace alopex::fwd {

// What fwd reads of one linkd link object.
struct LinkdLink {
    int32_t ifindex = 0;
    std::string name, zone;
    bool operator==(const LinkdLink &) const = default;
};

class LinkdZones {
public:
    // A link's zone changed: its ifindex and the zone now ("": none, or the link is gone).
    using Callback = std::function<void(int32_t ifindex, const std::string &zone)>;

    static Result<std::unique_ptr<LinkdZones>> start(sd_bus *bus, Callback cb);
    ~LinkdZones();
    LinkdZones(const LinkdZones &) = delete;
    LinkdZones &operator=(const LinkdZones &) = delete;

    // ifindex -> zone, links with a zone.
    const std::map<int32_t, std::string> &by_ifindex() const noexcept { return zones_; }
    // interface name -> zone as linkd names them (tests and diagnostics; O(links)).
    std::map<std::string, std::string> zones() const;
    // linkd's objects were read once, or linkd is not running, or reading failed: what
    // fwd's first ruleset waits for. `on_settled` runs once, then.
    bool settled() const noexcept { return settled_; }
    std::function<void()> on_settled;
    // Full reads of linkd's objects so far (tests and diagnostics).
    uint64_t full_reads() const noexcept { return follower_ ? follower_->full_reads() : 0; }

private:
    explicit LinkdZones(Callback cb) : cb_(std::move(cb)) {}
    void update(const LinkdLink &l);
    void remove(const LinkdLink &l);
    void settle();

    Callback cb_;
    std::unique_ptr<bus::Follower<LinkdLink>> follower_;
    std::map<int32_t, std::string> zones_;
    bool settled_ = false;
};

} // namespace alopex::fwd
