// SPDX-License-Identifier: GPL-2.0-or-later
// The agent on the event loop: the links the kernel has (the shared rtnetlink monitor,
// links only) and the database's bridge (the OVSDB connection) kept in step. Every link
// event and every database change schedules a reconcile: at once when the last one is
// debounce_ms ago (0, the default: always), else at the end of that window; events that
// come while a transaction is in flight are one reconcile after it, so a burst is a few
// transactions and the first event never waits. The reconcile plans (reconcile.hpp), builds the
// guarded transaction (port_ops.hpp) and runs it, one at a time. A transaction whose
// wait failed (the bridge changed under it) is built again at once on the fresh copy
// (the server sends the update before the reply); what happened meanwhile is reconciled
// after it. An attached port is reported once ovs-vswitchd applied the change and gave it
// an ofport (or failed, with its error). After every (re)connection and every netlink
// resync the whole bridge is reconciled.
//
// attach() and detach() are D-Bus's requests (reconcile.hpp's Requests): each answers
// once the copy of the database shows it done — the port on the bridge with an ofport
// (or its error), or off the bridge — or when the transaction failed, or after
// confirm_timeout (a link that never appeared, ovs-vswitchd not applying it).
//
// With enable_rename, an LXC container's veth<vmid>i<n> is renamed before it is
// attached: naming_template filled with the container's name (container_name_cmd's
// answer, else the VMID) and <n>, through Events::rename; the new name is then attached
// as requested. A rename that fails leaves the link as named (attached so).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "alopex/error.hpp"
#include "alopex/netlink/monitor.hpp"
#include "alopex/sd.hpp"
#include "command.hpp"
#include "ovsdb_connection.hpp"
#include "reconcile.hpp"
#include "settings.hpp"

namespace alopex::ovs {

struct AgentConfig {
    Settings settings;                       // the bridge, prefixes, debounce, [bridge], [ports]
    uint64_t confirm_timeout = 10'000'000;   // µs for ovs-vswitchd to apply a change
    uint64_t probe_interval = 5'000'000;     // µs, the OVSDB keepalive
};

struct AgentStats {
    uint64_t transactions = 0, retries = 0, failures = 0;
    uint64_t attached = 0, detached = 0, attach_failed = 0;
};

class Agent {
public:
    struct Events {
        std::function<void(const std::string &port, int64_t ofport)> attached;
        std::function<void(const std::string &port)> detached;
        std::function<void(const std::string &port, const std::string &why)> failed;
        // A reconcile found nothing to do: the bridge holds what it should (after the
        // first full sync, and after every change that settled).
        std::function<void()> converged;
        std::function<void(const std::string &bridge)> bridge_created;
        // Synced with ovsdb-server (true), or the connection lost (false).
        std::function<void(bool up)> connection;
        // enable_rename: renames link `ifindex` from `from` to `to` (through linkd).
        std::function<void(int ifindex, const std::string &from, const std::string &to,
                           std::function<void(Result<>)> done)>
            rename;
    };
    static Result<std::unique_ptr<Agent>> create(sd_event *event, AgentConfig config, OvsdbConnection::Connect connect,
                                                 Events events);
    ~Agent();
    Agent(const Agent &) = delete;
    Agent &operator=(const Agent &) = delete;

    using Attached = std::function<void(Result<int64_t> ofport)>;
    using Detached = std::function<void(Result<> done)>;
    // Attach the link spec.name (whatever its name) and keep it; `done` with its ofport.
    void attach(PortSpec spec, Attached done);
    // Gives up an attach() not done yet: its callbacks get `why`.
    void cancel_attach(const std::string &name, const Error &why) { fail_waiters({name}, {}, why); }
    // Leave the agent's port `name` off the bridge until attach() or its link goes.
    void detach(std::string name, Detached done);
    // The running settings: those that apply live (prefixes, debounce, [ports], naming)
    // are taken from `s`, the bridge's and the block's stay; the bridge is reconciled.
    void update_settings(const Settings &s);
    const Settings &settings() const noexcept { return config_.settings; }

    // What a reconcile would do now (the D-Bus Plan's dry run).
    Plan plan_now() const;
    // The database's copy (null until synced).
    const ovsdb::Replica *replica() const;
    // A link's ifindex by name (0: the kernel has none).
    int ifindex_of(std::string_view name) const;
    // What the kernel has: links, addresses, and the routes an administrator or DHCP
    // made (boot, static, dhcp, ra; not the kernel's own, no local table).
    const netlink::Snapshot &kernel() const noexcept { return monitor_->state(); }
    // Creates the bridge (with its internal port) when it is missing, whatever
    // [bridge] create says; `done(true)` when this call created it.
    void ensure_bridge(std::function<void(Result<bool> created)> done);
    // The links the kernel has, by name.
    std::set<std::string> links() const;
    // Connected, synced both ways, nothing in flight or waiting to be reconciled.
    bool settled() const noexcept;
    const AgentStats &stats() const noexcept { return stats_; }
    OvsdbConnection &ovsdb() noexcept { return *ovsdb_; }

private:
    Agent(sd_event *event, AgentConfig config, Events events)
        : event_(event), config_(std::move(config)), events_(std::move(events)) {}
    void schedule();
    void reconcile();
    void done(Result<nlohmann::json> result, std::vector<std::string> attached, std::vector<std::string> detached);
    void create_bridge();
    void arm_confirm_timer();
    void resolve_waiters();
    void hold_for_rename(Plan &p);
    void start_rename(const PortSpec &spec);
    void rename_as(const PortSpec &spec, const std::string &container);
    void fail_waiters(const std::vector<std::string> &attach, const std::vector<std::string> &detach, const Error &e);
    void expire_waiters(uint64_t now);
    uint64_t now() const;
    static int on_debounce(sd_event_source *, uint64_t, void *userdata) noexcept;
    static int on_confirm_timer(sd_event_source *, uint64_t, void *userdata) noexcept;

    sd_event *event_;
    AgentConfig config_;
    Events events_;
    std::unique_ptr<netlink::Monitor> monitor_;
    std::unique_ptr<OvsdbConnection> ovsdb_;
    EventSourcePtr debounce_, confirm_timer_;
    Confirmations confirm_;
    Requests requests_;
    struct AttachWaiter {
        uint64_t deadline;
        Attached done;
    };
    struct DetachWaiter {
        uint64_t deadline;
        Detached done;
    };
    std::multimap<std::string, AttachWaiter, std::less<>> attach_waiters_;
    std::multimap<std::string, DetachWaiter, std::less<>> detach_waiters_;
    // enable_rename: links being renamed (their container name asked of
    // container_name_cmd, or linkd renaming them), and links left as named.
    std::set<std::string, std::less<>> renaming_, keep_name_;
    std::map<std::string, std::unique_ptr<Command>, std::less<>> commands_;
    AgentStats stats_;
    bool scheduled_ = false, busy_ = false, again_ = false;
    uint64_t last_run_ = 0;   // the last reconcile (CLOCK_MONOTONIC µs)
    std::string last_problem_;   // logged once until it changes
};

} // namespace alopex::ovs
