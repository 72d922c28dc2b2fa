// SPDX-License-Identifier: GPL-2.0-or-later
// Follows the zones alopex-linkd gives its links (a profile's `zone =`, linkd's SetZone):
// the `Zone` and `Name` properties of org.alopex.Link1's link objects. fwd only reads:
// no authorization is needed, and fwd works the same without linkd (the map stays
// empty). Re-reads linkd's objects (one GetManagedObjects) when linkd appears, when a
// link object comes or goes, and when a link's Zone or Name changes; other property
// changes (addresses, counters) are ignored. When linkd goes away the last map is kept:
// the interfaces have not moved.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::fwd {

class LinkdZones {
public:
    // interface name -> zone, only links with a non-empty zone; called on every change.
    using Callback = std::function<void(const std::map<std::string, std::string> &)>;

    static Result<std::unique_ptr<LinkdZones>> start(sd_bus *bus, Callback cb);
    // One blocking read of linkd's zones, at most `timeout_us` (never starting linkd): for
    // fwd's start, so that its first ruleset already has them. An error when linkd does
    // not run or does not answer in time.
    static Result<std::map<std::string, std::string>> read_once(sd_bus *bus, uint64_t timeout_us);
    ~LinkdZones();
    LinkdZones(const LinkdZones &) = delete;
    LinkdZones &operator=(const LinkdZones &) = delete;

    const std::map<std::string, std::string> &zones() const noexcept { return zones_; }
    // Reads received so far (tests and diagnostics).
    uint64_t reads() const noexcept { return reads_; }

private:
    LinkdZones(sd_bus *bus, Callback cb) : bus_(bus), cb_(std::move(cb)) {}
    Result<> subscribe();
    void request_read();
    static Result<std::map<std::string, std::string>> zones_of(sd_bus_message *reply);

    static int on_owner(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_objects(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_properties(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;

    sd_bus *bus_;
    Callback cb_;
    SlotPtr owner_slot_, added_slot_, removed_slot_, props_slot_, call_slot_;
    bool again_ = false;   // a change arrived while a read was in flight
    std::map<std::string, std::string> zones_;
    uint64_t reads_ = 0;
};

} // namespace alopex::fwd
