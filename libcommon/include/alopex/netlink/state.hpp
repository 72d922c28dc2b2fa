// SPDX-License-Identifier: GPL-2.0-or-later
// A snapshot of links, addresses and routes, and the pure functions that move it:
// apply() one message (returning the events it causes) and diff() two snapshots.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alopex/netlink/types.hpp"

namespace alopex::netlink {

struct AddressKey {
    int ifindex = 0;
    uint8_t family = 0;
    net::Address address;
    uint8_t prefixlen = 0;
    auto operator<=>(const AddressKey &) const = default;
};

// What makes two kernel routes distinct: the kernel's own key (table, prefix, tos,
// metric) plus the output device and type, so per-device routes such as IPv6's
// `multicast ff00::/8` on every link stay apart.
struct RouteKey {
    uint8_t family = 0;
    uint32_t table = 0;
    net::Address dst;
    uint8_t dst_len = 0;
    uint8_t tos = 0;
    uint32_t priority = 0;
    int oif = 0;
    uint8_t type = 0;
    auto operator<=>(const RouteKey &) const = default;
};

AddressKey key_of(const Address &a);
RouteKey key_of(const Route &r);

struct Snapshot {
    std::map<int, Link> links;
    std::map<AddressKey, Address> addresses;
    std::map<RouteKey, Route> routes;
    bool operator==(const Snapshot &) const = default;
};

enum class Change : uint8_t { New, Changed, Removed };
std::string_view to_string(Change c);

struct Event {
    Change change = Change::New;
    Object object;                   // the new value; for Removed, the last known one
    std::optional<Object> previous;  // for Changed: the value before
};

// Decides which routes are kept at all (the rest are never cached). Empty = keep all.
using RouteFilter = std::function<bool(const Route &)>;

// Applies one message and returns the events it causes (none when nothing changed).
// Mirrors what the kernel does without telling: a removed link takes its addresses and
// the routes through it along; a link going down loses its IPv4 routes but the local
// ones; a link losing its last IPv4 address loses all its IPv4 routes; an IPv4 address
// that is gone takes the routes preferring it along.
std::vector<Event> apply(Snapshot &s, const Message &m, const RouteFilter &filter = {});

// What a consumer does with an event: folds it into its own copy of the state (New and
// Changed replace the object, Removed erases it). A consumer that folds every event it
// is given holds the monitor's state.
void fold(Snapshot &s, const Event &e);

// Exactly the differences that turn `from` into `to`, ordered so that a consumer never
// sees a dangling reference: removals first (routes, addresses, links), then new and
// changed links, addresses, routes.
std::vector<Event> diff(const Snapshot &from, const Snapshot &to);

} // namespace alopex::netlink
