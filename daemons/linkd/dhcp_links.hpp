// SPDX-License-Identifier: GPL-2.0-or-later
// One DHCPv4 client (dhcp::Runner) per link whose profile says `dhcp = true`, and what
// its leases do to the kernel: the address (with the lease's lifetime, so the kernel
// drops it by itself if linkd is gone when the lease runs out), option 121 / option 3
// routes (protocol dhcp, metric 1024, preferred source the leased address), the MTU of
// option 26, DNS servers and domain (unless the profile names its own), and the lease on
// the link's D-Bus object. Leases persist in the state directory by link name, so a
// restart goes through INIT-REBOOT.
//
// Putting a lease in and taking it out are jobs of the ChangeQueue: nothing waits for the
// kernel, and the lease is "bound" on D-Bus (DHCPState, DHCPAddress, DNS) only once the
// kernel has answered for its address and routes. A lease lost, replaced or stopped before
// its turn is never put in; one lost while its requests are in flight is taken out again
// right after (each bound lease has a serial number its answer must still match).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "dhcp/io.hpp"
#include "manager.hpp"
#include "change_queue.hpp"
#include "profile/plan.hpp"
#include "rtnl/rtnl.hpp"

namespace alopex::linkd {

class DhcpLinks {
public:
    DhcpLinks(sd_event *event, Manager &manager, ChangeQueue &queue, std::filesystem::path state_dir);
    ~DhcpLinks();
    DhcpLinks(const DhcpLinks &) = delete;
    DhcpLinks &operator=(const DhcpLinks &) = delete;

    // The planner's view of which links want DHCPv4; starts and stops clients.
    void update(const std::vector<profile::LinkIntent> &intents);
    // Carrier and administrative state changes; a link that went away.
    void link_changed(const LinkState &l, const netlink::Link &previous);
    void link_removed(int ifindex);

    // D-Bus Renew()/Release(). Errors name the argument.
    Result<> renew(int ifindex);
    Result<> release(int ifindex);

    // The Runner's callbacks (public for tests): a lease acquired or renewed, or lost.
    void bound(int ifindex, const dhcp::Lease &lease);
    void lost(int ifindex);
    // The lease in the kernel on `ifindex` (its requests answered), null if none.
    const dhcp::Lease *applied_lease(int ifindex) const
    {
        auto it = entries_.find(ifindex);
        return it == entries_.end() || !it->second.applied ? nullptr : &*it->second.applied;
    }

private:
    struct Entry {
        std::string name;
        profile::LinkIntent intent;
        std::unique_ptr<dhcp::Runner> runner;
        std::optional<dhcp::Lease> applied;    // in the kernel (its requests answered)
        std::optional<dhcp::Lease> applying;   // queued or in flight
        uint64_t serial = 0;                   // of `applying`; 0 when none
        std::string state;
        bool released = false;   // after Release(): not restarted until Renew() or a reload
    };
    void start(int ifindex, Entry &e);
    void stop(int ifindex, Entry &e);
    bool in_flight(int ifindex, uint64_t serial) const;
    void applied(int ifindex, uint64_t serial, const std::string &name, const Result<std::vector<Result<>>> &results);
    void publish(int ifindex);
    std::vector<rtnl::Request> requests(int ifindex, const dhcp::Lease &lease, bool add) const;

    sd_event *event_;
    Manager &manager_;
    ChangeQueue &queue_;
    std::filesystem::path state_dir_;
    std::map<int, Entry> entries_;
    uint64_t next_serial_ = 1;
};

} // namespace alopex::linkd
