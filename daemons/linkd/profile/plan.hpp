// SPDX-License-Identifier: GPL-2.0-or-later
// The pure planner: profiles + the kernel's state (a netlink::Snapshot) + what linkd
// created before (Owned) -> the rtnl requests that converge the kernel, in a safe order.
//
// Rules (see plan.cpp for the details):
// - Only what linkd owns is ever removed: netdevs it created, addresses and routes it
//   added. Foreign links, addresses and routes are never changed; where one is in the
//   way (a foreign device with a profile's name and another kind, a foreign route in
//   the kernel's slot for ours) the plan leaves it alone and says so in `notes`.
// - A netdev or a link that does not exist yet cannot be configured: creating a netdev
//   is one round, configuring it (up, addresses, ports) the next one, when the daemon
//   plans again after the kernel announced the device. A converged system plans nothing.
// - Order: delete owned netdevs, create netdevs, set links (a link that must be down for
//   a MAC change or to join a bond gets a down request first), remove routes, remove
//   addresses, add addresses, add/replace routes.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "alopex/netlink/state.hpp"
#include "profile.hpp"
#include "rtnl.hpp"

namespace alopex::linkd::profile {

// What linkd created: netdev names, and addresses/routes (kernel keys, so per link).
struct Owned {
    std::set<std::string> netdevs;
    std::set<netlink::AddressKey> addresses;
    std::set<netlink::RouteKey> routes;
    bool operator==(const Owned &) const = default;
};

// Per link: what the rest of the daemon does itself (DHCP client, SLAAC sysctls, DNS and
// zone hand-off to dnsd/fwd).
struct LinkIntent {
    int ifindex = 0;
    std::string name;
    std::string file;                      // the profile that applies
    bool up = true;
    std::string zone;
    bool dhcp4 = false;
    std::optional<bool> slaac;
    std::vector<net::Address> dns_servers;
    std::vector<std::string> dns_domains;
    bool operator==(const LinkIntent &) const = default;
};

struct Plan {
    std::vector<rtnl::Request> requests;
    std::vector<LinkIntent> links;         // every existing link a profile applies to
    // Desired objects that already exist in the right shape and are not in Owned
    // (netdevs with the profile's name and kind, addresses, static routes with the
    // right gateway). A daemon that lost its records (first start, crash) may adopt
    // them into Owned; the plan itself treats them as satisfied either way.
    Owned present;
    std::vector<std::string> notes;        // what was left alone, and why
};

Plan plan(const Profiles &profiles, const netlink::Snapshot &kernel, const Owned &owned);

// Record the effect of a request the kernel acknowledged. `kernel` is the state the plan
// was made from (DeleteLink needs the link's name).
void note_success(Owned &owned, const rtnl::Request &r, const netlink::Snapshot &kernel);

// Drops owned addresses and routes the kernel no longer has (someone removed them), so
// a later identical foreign object is never mistaken for ours. Call only when `kernel`
// is in step with every acknowledged request.
void forget_absent(Owned &owned, const netlink::Snapshot &kernel);

netlink::AddressKey key_of(const rtnl::AddressSpec &a);
netlink::RouteKey key_of(const rtnl::RouteSpec &r);

} // namespace alopex::linkd::profile
