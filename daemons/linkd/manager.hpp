// SPDX-License-Identifier: GPL-2.0-or-later
// The one object of alopex-linkd that owns the event-loop objects: the rtnetlink monitor,
// one LinkState per kernel link and the D-Bus surface: a bus::Service (polkit, coalesced
// PropertiesChanged) serving org.alopex.Link1.Manager (manager_bus.cpp) and
// org.alopex.Link1.Link (link_bus.cpp), both bound to the declarations generated from
// ipc/org.alopex.Link1.xml.
//
// The profile and DHCP parts plug in through Hooks and the state setters below; kernel
// changes go through an Executor (rtnl::AsyncClient in the daemon, a fake in unit tests).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus/object.hpp"
#include "alopex/bus/options.hpp"
#include "alopex/error.hpp"
#include "alopex/netlink/monitor.hpp"
#include "alopex/sd.hpp"
#include "alopex/subscribers.hpp"
#include "connectivity.hpp"
#include "link.hpp"
#include "rtnl/rtnl.hpp"

namespace alopex::linkd {

struct Participant;   // checkpoint.hpp

// Runs one rtnetlink request and calls `done` with its outcome (an error carries the
// kernel's errno and message), from the event loop in the daemon (rtnl::AsyncClient: no
// D-Bus handler waits for the kernel), possibly at once in unit tests.
using ExecDone = std::function<void(Result<>)>;
using Executor = std::function<void(const rtnl::Request &, ExecDone)>;
// Takes one record for the audit ledger (a broker1::Recorder in the daemon): an action
// name ("link.SetMtu") and its details as JSON text. Must return at once.
using RecordSink = std::function<void(std::string action, std::string details)>;
// Reads one link's IFLA_STATS64 now (Statistics is read on demand, not followed).
using StatsReader = std::function<Result<netlink::LinkStats>(int ifindex)>;

// What the Manager tells the other parts, and the three calls it hands on. Parts subscribe
// where they are constructed (Subscribers: nobody overwrites or wraps another's callback);
// renew, release and reload have one provider each, set once by main.cpp.
struct Hooks {
    // Renew(i) / Release(i) over D-Bus, after validation and polkit. Unset: the call fails
    // with org.alopex.Error.Unavailable. An Error with bus_name set is passed through.
    std::function<Result<>(int ifindex)> renew;
    std::function<Result<>(int ifindex)> release;
    // Reload() over D-Bus: calls its argument with the result once what was reloaded is in
    // force (the answer waits for it).
    std::function<void(std::function<void(Result<>)>)> reload;
    // A link appeared (after the initial sync too, once per link), changed, or went away.
    // For hotplug: apply a profile when a matching link appears or is renamed.
    Subscribers<const LinkState &> link_added;
    Subscribers<const LinkState &, const netlink::Link & /* previous */> link_changed;
    Subscribers<int /* ifindex */, const std::string & /* name */> link_removed;
    // A link's zone changed (SetZone or set_zone); for handing zones to fwd.
    Subscribers<int /* ifindex */, const std::string & /* zone */> zone_changed;
    // The initial links and addresses are in (the route dump follows): link objects are
    // served from here on, and profiles can be matched (linkd takes its name and says
    // READY=1 after this).
    Subscribers<> links_known;
    // The first full dump, routes too, is in: profile rounds, checkpoints and
    // connectivity start.
    Subscribers<> synced;
    // After every kernel event (link, address or route) has been folded in and the
    // connectivity recomputed; the connectivity probe re-checks its context (debounced).
    Subscribers<> state_changed;
    // A request a D-Bus method ran, after the kernel accepted it (checkpoints note the
    // netdevs created and deleted).
    Subscribers<const rtnl::Request &> request_done;
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
    bool links_known() const noexcept { return known_; }
    // Startup (org.alopex.Link1.Manager): true until end_startup(), which main.cpp calls
    // once the first profile round has its kernel answers.
    bool starting() const noexcept { return starting_; }
    void end_startup();
    // Runs `then` once Startup has ended (at once when it has): what must see the routes
    // and the profiles in force (checkpoint calls, bus::Call::postpone) waits here.
    void when_started(std::function<void()> then);
    uint64_t generation() const noexcept { return generation_; }
    Connectivity connectivity() const noexcept { return connectivity_; }
    const ConnectivityTracker &connectivity_tracker() const noexcept { return tracker_; }
    const std::map<int, std::unique_ptr<LinkState>> &links() const noexcept { return links_; }
    const LinkState *link(int ifindex) const;
    const LinkState *link_by_name(std::string_view name) const;
    // The kernel state: the monitor's own (no copy); without a monitor (unit tests), the
    // events fed to handle().
    const netlink::Snapshot &snapshot() const noexcept { return monitor_ ? monitor_->state() : fed_; }
    netlink::Monitor *monitor() noexcept { return monitor_.get(); }

    // Applies one monitor event (the monitor's callback; unit tests call it directly).
    // Connectivity is recomputed once per loop iteration for the links the events touched
    // (at once without an event loop), and not before the first dump is in.
    void handle(const netlink::Event &e);
    void handle_synced(bool initial);
    // The monitor's on_links_synced (and the start of handle_synced(true) without it).
    void handle_links_known();

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
    // The DNS a profile or a DHCP lease gives the link (published unless SetDNS's apply).
    bool set_dns(int ifindex, std::vector<std::string> servers, std::vector<std::string> domains);
    // SetDNS/RevertDNS (link_dns.cpp): run-time DNS that replaces set_dns's until
    // reverted (nullopt) or the link goes.
    struct Dns {
        std::vector<std::string> servers, domains;
        bool operator==(const Dns &) const = default;
    };
    bool set_runtime_dns(int ifindex, std::optional<Dns> dns);
    // The checkpoint participant "run-time DNS": a rollback puts every link's SetDNS
    // back as it was (a link whose index is gone is left).
    Participant runtime_dns_participant();
    bool set_dhcp_lease(int ifindex, std::optional<DhcpLease> lease);
    // A connectivity probe's result (probing is off by default: then never "full").
    void set_probe_result(std::optional<bool> ok);

    // ---- the audit ledger ----------------------------------------------------------
    // Every mutating action of linkd is recorded through here (unset: nowhere).
    void set_record_sink(RecordSink sink) { record_ = std::move(sink); }
    void record(std::string action, std::string details);
    // A D-Bus method that changed something, after it succeeded and before its reply (the
    // caller is still connected, so the bus can tell its uid; asked without waiting):
    // "link.<Method>" with the caller's uid and the arguments (bus::call_details_async),
    // and `result_json` if given.
    void audit(const bus::Call &c, std::string_view result_json = {});
    // The same for a method that answers later: the caller's uid is asked for now, while
    // it is connected; the record is made when the returned function is called (after
    // the action succeeded), never if it is not.
    std::function<void()> begin_audit(const bus::Call &c, std::string_view result_json = {});

    // ---- D-Bus (manager_bus.cpp, link_bus.cpp) ---------------------------------------
    // Null without a bus (unit tests). Checkpoints register on the same Service.
    bus::Service *service() noexcept { return service_.get(); }
    // org.alopex.Link1.Manager's methods: arguments checked (InvalidArgument naming the
    // argument, NoSuchLink), then polkit, then the kernel request.
    void bus_version(bus::Call &c);
    void bus_set_link_up(bus::Call &c, int32_t ifindex);
    void bus_set_link_down(bus::Call &c, int32_t ifindex);
    void bus_set_mtu(bus::Call &c, int32_t ifindex, uint32_t mtu);
    void bus_add_address(bus::Call &c, int32_t ifindex, std::string address);
    void bus_remove_address(bus::Call &c, int32_t ifindex, std::string address);
    void bus_add_route(bus::Call &c, std::string to, std::string via, int32_t ifindex, uint32_t metric,
                       uint32_t table);
    void bus_remove_route(bus::Call &c, std::string to, std::string via, int32_t ifindex, uint32_t metric,
                          uint32_t table);
    void bus_renew(bus::Call &c, int32_t ifindex);
    void bus_release(bus::Call &c, int32_t ifindex);
    void bus_reload(bus::Call &c);
    void bus_create_netdev(bus::Call &c, std::string name, std::string kind, bus::Options options);
    void bus_delete_netdev(bus::Call &c, std::string name);
    void bus_rename_link(bus::Call &c, int32_t ifindex, std::string name);
    void bus_set_zone(bus::Call &c, int32_t ifindex, std::string zone);
    void bus_set_dns(bus::Call &c, int32_t ifindex, std::vector<std::string> servers,
                     std::vector<std::string> domains);
    void bus_revert_dns(bus::Call &c, int32_t ifindex);

    static std::string link_path(int ifindex);
    Result<netlink::LinkStats> read_stats(int ifindex);

private:
    Manager(sd_event *event, Executor executor, StatsReader stats);
    Result<> attach_bus();
    // org.alopex.Link1.Link's getters (link_bus.cpp); one per Manager, since Statistics
    // reads through this Manager's StatsReader.
    static std::unique_ptr<bus::Vtable<LinkState>> make_link_vtable(Manager &m);
    LinkState *find_link(std::string_view path);
    bool wanted_route(const netlink::RouteHeader &r) const;
    void refresh_addresses(int ifindex);
    void link_properties_changed(int ifindex, const Changed &props);
    void manager_property_changed(const bus::PropertySpec &prop);
    void bump();
    void recompute_connectivity();
    void schedule_connectivity();
    static int on_connectivity(sd_event_source *s, void *userdata) noexcept;
    Origin origin_of(const netlink::Address &a) const;

    // Validation and the kernel request shared by the mutating methods.
    Result<const LinkState *> require_link(int32_t ifindex, std::string_view arg = "ifindex");
    // Runs `req` and answers the call once the kernel has (the call is deferred); on
    // success `then` runs first, the request is published (request_done) and recorded.
    void run(bus::Call &c, const rtnl::Request &req, std::function<void()> then = {});
    void set_link_updown(bus::Call &c, int32_t ifindex, bool up);
    void route_method(bus::Call &c, const std::string &to, const std::string &via, int32_t ifindex,
                      uint32_t metric, uint32_t table, bool add);
    void run_link_hook(bus::Call &c, int32_t ifindex, const std::function<Result<>(int)> &hook);
    // CreateNetdev's arguments checked and turned into a request (errors name the argument).
    Result<rtnl::NetdevSpec> netdev_spec(const std::string &name, const std::string &kind,
                                         const bus::Options &options) const;

    sd_event *event_;
    Executor executor_;
    StatsReader stats_;
    RecordSink record_;
    std::unique_ptr<netlink::Monitor> monitor_;
    std::unique_ptr<bus::Service> service_;
    std::unique_ptr<bus::Vtable<LinkState>> link_vtable_;
    bus::Registration manager_reg_, link_reg_;
    SlotPtr objman_slot_;

    netlink::Snapshot fed_;     // without a monitor only: the events handle() was fed
    ConnectivityTracker tracker_;
    EventSourcePtr connectivity_defer_;
    std::map<int, std::unique_ptr<LinkState>> links_;
    std::map<netlink::AddressKey, Origin> owned_;
    std::map<int, Dns> learned_dns_, runtime_dns_;   // by ifindex
    void publish_dns(int ifindex);
    std::set<uint32_t> tables_{254};
    std::optional<bool> probe_;
    std::string resync_reason_;   // why the next resync happens, when linkd asked for it
    Connectivity connectivity_ = Connectivity::None;
    uint64_t generation_ = 0;
    bool synced_ = false;
    bool known_ = false;
    bool starting_ = true;
    std::vector<std::function<void()>> started_waiters_;
};

} // namespace alopex::linkd
