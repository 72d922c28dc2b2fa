// SPDX-License-Identifier: GPL-2.0-or-later
// The one object of alopex-linkd that owns the event-loop objects: the rtnetlink monitor,
// one LinkState per kernel link, the polkit authority and the D-Bus surface
// (org.alopex.Link1.Manager in manager_bus.cpp, org.alopex.Link1.Link in link_bus.cpp).
//
// The profile and DHCP parts plug in through Hooks and the state setters below; kernel
// changes go through an Executor (rtnl::Client in the daemon, a fake in unit tests).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus.hpp"
#include "alopex/error.hpp"
#include "alopex/netlink/monitor.hpp"
#include "alopex/polkit.hpp"
#include "alopex/sd.hpp"
#include "connectivity.hpp"
#include "link.hpp"
#include "rtnl/rtnl.hpp"

namespace alopex::linkd {

// Runs one rtnetlink request; an error carries the kernel's errno and message.
using Executor = std::function<Result<>(const rtnl::Request &)>;
// Reads one link's IFLA_STATS64 now (Statistics is read on demand, not followed).
using StatsReader = std::function<Result<netlink::LinkStats>(int ifindex)>;

struct Hooks {
    // Renew(i) / Release(i) over D-Bus, after validation and polkit. Unset: the call fails
    // with org.alopex.Error.Unavailable. An Error with bus_name set is passed through.
    std::function<Result<>(int ifindex)> renew;
    std::function<Result<>(int ifindex)> release;
    // Reload() over D-Bus and SIGHUP (then the result is only logged).
    std::function<Result<>()> reload;
    // A link appeared (after the initial sync too, once per link), changed, or went away.
    // For hotplug: apply a profile when a matching link appears or is renamed.
    std::function<void(const LinkState &)> link_added;
    std::function<void(const LinkState &, const netlink::Link &previous)> link_changed;
    std::function<void(int ifindex, const std::string &name)> link_removed;
    // A link's zone changed (SetZone or set_zone); for handing zones to fwd.
    std::function<void(int ifindex, const std::string &zone)> zone_changed;
    // The first full dump is in; `ready` is derived from this.
    std::function<void()> synced;
    // After every kernel event (link, address or route) has been folded in and the
    // connectivity recomputed; the connectivity probe re-checks its context (debounced).
    std::function<void()> state_changed;
};

struct ManagerOptions {
    netlink::MonitorOptions monitor;   // route_filter is set by the Manager
    bool start_monitor = true;         // false in unit tests: feed events with handle()
};

// Non-movable: `this` is userdata for sd-bus vtables and the monitor's callbacks.
class Manager {
public:
    // `bus` may be null (no D-Bus surface; unit tests).
    static Result<std::unique_ptr<Manager>> create(sd_event *event, sd_bus *bus,
                                                   ManagerOptions options, Executor executor,
                                                   StatsReader stats = {});
    ~Manager();
    Manager(const Manager &) = delete;
    Manager &operator=(const Manager &) = delete;

    Hooks hooks;

    // ---- state ---------------------------------------------------------------------
    bool synced() const noexcept { return synced_; }
    uint64_t generation() const noexcept { return generation_; }
    Connectivity connectivity() const noexcept { return connectivity_; }
    const std::map<int, std::unique_ptr<LinkState>> &links() const noexcept { return links_; }
    const LinkState *link(int ifindex) const;
    const LinkState *link_by_name(std::string_view name) const;
    const netlink::Snapshot &snapshot() const noexcept { return state_; }
    netlink::Monitor *monitor() noexcept { return monitor_.get(); }

    // Applies one monitor event (the monitor's callback; unit tests call it directly).
    void handle(const netlink::Event &e);
    void handle_synced(bool initial);

    // ---- hooks for the apply code (profiles, DHCP, D-Bus) ----------------------------
    // Records that linkd put (or is about to put) this address on the link: it is then
    // published with that origin until it disappears from the kernel.
    void note_owned_address(int ifindex, uint8_t family, const net::Address &address,
                            uint8_t prefixlen, Origin origin);
    void forget_owned_address(int ifindex, uint8_t family, const net::Address &address,
                              uint8_t prefixlen);
    // Routes of `table` are followed from now on (main is always followed).
    void manage_table(uint32_t table);
    // State linkd decides; false when the link is unknown.
    bool set_zone(int ifindex, std::string zone);
    // A profile applies to the link (alopex-wait-online waits for managed links).
    bool set_managed(int ifindex, bool managed);
    bool set_dns(int ifindex, std::vector<std::string> servers, std::vector<std::string> domains);
    bool set_dhcp_lease(int ifindex, std::optional<DhcpLease> lease);
    // A connectivity probe's result (probing is off by default: then never "full").
    void set_probe_result(std::optional<bool> ok);

    Executor &executor() noexcept { return executor_; }

    // ---- D-Bus (manager_bus.cpp, link_bus.cpp) ---------------------------------------
    sd_bus *bus() const noexcept { return bus_; }
    int bus_set_link_up(sd_bus_message *m, sd_bus_error *ret);
    int bus_set_link_down(sd_bus_message *m, sd_bus_error *ret);
    int bus_set_mtu(sd_bus_message *m, sd_bus_error *ret);
    int bus_add_address(sd_bus_message *m, sd_bus_error *ret);
    int bus_remove_address(sd_bus_message *m, sd_bus_error *ret);
    int bus_add_route(sd_bus_message *m, sd_bus_error *ret);
    int bus_remove_route(sd_bus_message *m, sd_bus_error *ret);
    int bus_renew(sd_bus_message *m, sd_bus_error *ret);
    int bus_release(sd_bus_message *m, sd_bus_error *ret);
    int bus_reload(sd_bus_message *m, sd_bus_error *ret);
    int bus_create_netdev(sd_bus_message *m, sd_bus_error *ret);
    int bus_delete_netdev(sd_bus_message *m, sd_bus_error *ret);
    int bus_rename_link(sd_bus_message *m, sd_bus_error *ret);
    int bus_set_zone(sd_bus_message *m, sd_bus_error *ret);
    int bus_version(sd_bus_message *m, sd_bus_error *ret);
    int prop_links(sd_bus_message *reply, sd_bus_error *ret);
    int prop_connectivity(sd_bus_message *reply, sd_bus_error *ret);
    int prop_generation(sd_bus_message *reply, sd_bus_error *ret);

    static std::string link_path(int ifindex);
    // Link objects: sd-bus fallback lookup and node enumeration (link_bus.cpp).
    static int find_link(sd_bus *, const char *path, const char *iface, void *userdata,
                         void **found, sd_bus_error *) noexcept;
    static int enumerate_links(sd_bus *, const char *prefix, void *userdata, char ***nodes,
                               sd_bus_error *) noexcept;
    Result<netlink::LinkStats> read_stats(int ifindex);
    // polkit for another action (checkpoints): 1 authorized, 0 asked (the handler runs
    // again when polkit answers), < 0 refused with `ret` set.
    int authorize_action(sd_bus_message *m, const char *action, sd_bus_error *ret);
    // The same for several actions, all required (asked in order, the first refused named).
    int authorize_actions(sd_bus_message *m, std::initializer_list<const char *> actions,
                          sd_bus_error *ret);
    // polkit, then `before` (if set), then the request; for the method helpers.
    int authorize_and_run(sd_bus_message *m, sd_bus_error *ret, const rtnl::Request &req,
                          const std::function<void()> &before = {});

private:
    Manager(sd_event *event, sd_bus *bus, Executor executor, StatsReader stats);
    Result<> attach_bus();
    static const sd_bus_vtable *link_vtable();
    bool wanted_route(const netlink::Route &r) const;
    void refresh_addresses(int ifindex);
    void link_properties_changed(int ifindex, const std::vector<std::string> &props);
    void manager_property_changed(const char *prop);
    void bump();
    void recompute_connectivity();
    Origin origin_of(const netlink::Address &a) const;

    // Validation, polkit and the kernel request shared by the mutating methods.
    int authorize(sd_bus_message *m, sd_bus_error *ret);
    Result<const LinkState *> require_link(int32_t ifindex, std::string_view arg = "ifindex");
    int run(sd_bus_message *m, sd_bus_error *ret, const rtnl::Request &req);
    int run_link_hook(sd_bus_message *m, sd_bus_error *ret, const std::function<Result<>(int)> &hook,
                      const char *method);

    sd_event *event_;
    sd_bus *bus_;
    Executor executor_;
    StatsReader stats_;
    std::unique_ptr<netlink::Monitor> monitor_;
    std::unique_ptr<polkit::Authority> authority_;
    std::unique_ptr<bus::PropertiesCoalescer> coalescer_;
    SlotPtr manager_slot_, link_slot_, enum_slot_, objman_slot_;

    netlink::Snapshot state_;   // the monitor's state, folded from its events
    std::map<int, std::unique_ptr<LinkState>> links_;
    std::map<netlink::AddressKey, Origin> owned_;
    std::set<uint32_t> tables_{254};
    std::optional<bool> probe_;
    std::string resync_reason_;   // why the next resync happens, when linkd asked for it
    Connectivity connectivity_ = Connectivity::None;
    uint64_t generation_ = 0;
    bool synced_ = false;
};

} // namespace alopex::linkd
