// SPDX-License-Identifier: GPL-2.0-or-later
// One DHCPv4 client (dhcp::Runner) per link whose profile says `dhcp = true`, and what
// its leases do to the kernel: the address (with the lease's lifetime, so the kernel
// drops it by itself if linkd is gone when the lease runs out), option 121 / option 3
// routes (protocol dhcp, metric 1024, preferred source the leased address), the MTU of
// option 26, DNS servers and domain (unless the profile names its own), and the lease on
// the link's D-Bus object. Leases persist in the state directory by link name, so a
// restart goes through INIT-REBOOT.
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
#include "profile/plan.hpp"
#include "rtnl/rtnl.hpp"

namespace alopex::linkd {

class DhcpLinks {
public:
    DhcpLinks(sd_event *event, Manager &manager, rtnl::Client &client, std::filesystem::path state_dir);
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

private:
    struct Entry {
        std::string name;
        profile::LinkIntent intent;
        std::unique_ptr<dhcp::Runner> runner;
        std::optional<dhcp::Lease> applied;
        std::string state;
        bool released = false;   // after Release(): not restarted until Renew() or a reload
    };
    void start(int ifindex, Entry &e);
    void stop(int ifindex, Entry &e);
    void bound(int ifindex, const dhcp::Lease &lease);
    void lost(int ifindex);
    void publish(int ifindex);
    std::vector<rtnl::Request> requests(int ifindex, const dhcp::Lease &lease, bool add) const;

    sd_event *event_;
    Manager &manager_;
    rtnl::Client &client_;
    std::filesystem::path state_dir_;
    std::map<int, Entry> entries_;
};

} // namespace alopex::linkd
