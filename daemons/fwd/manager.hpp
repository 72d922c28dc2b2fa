// SPDX-License-Identifier: GPL-2.0-or-later
// The one object of alopex-fwd that owns the event-loop state: the last good model
// (firewall.toml), the runtime state (runtime.hpp, persisted), the nf_tables Session, the
// rtnetlink Monitor (links and addresses only; its state is the only copy), what the
// kernel's zone sets hold now (per link and per zone), the
// state generation, the event-to-commit latency histogram and the last apply error.
//
// Every change is one nf_tables batch:
//   - start, Reload, Panic, rule-shaped runtime rules, expiry of rule-shaped rules:
//     a full rebuild (compile::compile + Session::apply(Ruleset));
//   - link and address events, linkd's zones, SetInterfaceZone: element operations only
//     (interfaces.cpp) for the links they touch (by ifindex), read from the monitor's
//     state, one batch per loop iteration however many events it had;
//   - element-shaped runtime rules: element operations only.
// Runtime rules are kept incrementally: adding, removing or expiring an element-shaped
// rule parses and places that rule only (compile::Placer, indexed), sends its elements
// and appends one line to the journal (runtime.hpp), O(log n) in the rules held. Start,
// Reload, Panic and rule-shaped runtime rules rebuild everything, O(n).
//
// Nothing waits for the kernel: the Session answers through callbacks. Operations that
// touch the kernel go through one queue (operations.cpp), one in flight at a time, in
// order; each computes its batch from the state as it is when its turn comes, and the
// state changes only once the kernel has acked it (then the journal line is written; if
// that fails, the change is undone in the kernel too). Events that arrive while a batch
// is in flight mark their links and go in the next batch. D-Bus methods that change the
// kernel answer (bus::PendingReply) when their operation is done.
// A change the kernel refuses (or does not answer within the Session's deadline) leaves
// the previous in-memory state in place; LastError says why (and a D-Bus caller gets
// org.alopex.Error.KernelRefused).
//
// Files: manager.cpp (state, rebuilds, expiry, reload), operations.cpp (the queue,
// runtime rules), interfaces.cpp (netlink events -> zone membership and zone addresses),
// manager_bus.cpp (org.alopex.Firewall1).
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus/call.hpp"
#include "alopex/bus/object.hpp"
#include "alopex/bus/spec.hpp"
#include "alopex/config.hpp"
#include "alopex/error.hpp"
#include "alopex/job_queue.hpp"
#include "alopex/netlink/monitor.hpp"
#include "alopex/sd.hpp"
#include "histogram.hpp"
#include "ledger.hpp"
#include "compile/compile.hpp"
#include "model.hpp"
#include "nft/ir.hpp"
#include "nft/session.hpp"
#include "runtime.hpp"

namespace alopex::fwd {

struct ManagerOptions {
    std::filesystem::path config_file;   // firewall.toml (Reload reads it again)
    std::filesystem::path state_file;    // runtime.json
    netlink::MonitorOptions monitor;     // routes are switched off by the Manager
    // The longest link and address events wait for their batch while more keep arriving
    // (the batch goes when the netlink socket is drained, or after this).
    uint64_t max_coalesce_us = 100'000;
};

// What one link contributes to the zones: its name in the zone's interface maps and its
// addresses (with how many of its kernel addresses each stands for) in the zone's sets.
struct LinkMember {
    std::string name, zone;                       // zone "": it contributes nothing
    std::map<net::Address, unsigned> hosts;
    bool operator==(const LinkMember &) const = default;
};

// What the kernel's interface maps and zone address sets hold (or should hold).
struct Membership {
    std::map<std::string, std::string> interfaces;              // ifname -> zone
    std::map<std::string, std::map<net::Address, unsigned>> addresses;  // zone -> host -> references
    std::map<int, LinkMember> links;                             // ifindex -> its part (links in a zone)
    bool operator==(const Membership &) const = default;
};

// Runtime rules resolved against a model, placed as compile() places them (in id order).
struct ActiveRule {
    RuntimeRule rule;
    bool element = false;                 // lives as set elements (else as a rule)
};
struct Resolved {
    std::map<uint64_t, ActiveRule> active;   // id -> resolved rule (until expiry drops it)
    std::set<uint64_t> inactive;             // stored ids whose spec does not resolve now
    compile::Placer placer;                  // the elements of the element rules
    std::set<uint64_t> blocked;              // element-shaped, but an earlier element rule
                                             // overlaps: placed as rules
};

// Non-movable: `this` is userdata for sd-bus, sd-event and the monitor's callbacks.
class Manager {
public:
    // Loads the runtime state (expired rules dropped; damage is recovered from as
    // load_state() says and reported in LastError) and starts the monitor. The
    // first full apply happens on the monitor's first sync; then `on_ready` runs, or
    // `on_fatal` when the kernel refused it. `bus` may be null (no D-Bus surface).
    // `transport`: the monitor's rtnetlink transport (null: the kernel's; tests inject
    // one); `session`: nf_tables (nft::Session, or a test's Backend).
    static Result<std::unique_ptr<Manager>> create(sd_event *event, sd_bus *bus, Model model,
                                                   std::unique_ptr<nft::Backend> session,
                                                   ManagerOptions options,
                                                   std::unique_ptr<netlink::Transport> transport = nullptr);
    ~Manager();
    Manager(const Manager &) = delete;
    Manager &operator=(const Manager &) = delete;

    std::function<void()> on_ready;
    std::function<void(const Error &)> on_fatal;
    // After a full rebuild or a change of the runtime rules (not after every element
    // batch of a netlink event): for STATUS= lines.
    std::function<void()> on_changed;

    // The zone alopex-linkd gives the link `ifindex` ("": none; linkd/linkd_zones.hpp).
    // It ranks below SetInterfaceZone and above firewall.toml's patterns; zones the model
    // does not have are ignored. Applied as element operations once ready.
    void set_linkd_zone(int ifindex, const std::string &zone);
    // The first apply waits for release_start() too (main.cpp: until alopex-linkd's zones
    // are read or known to be absent), at most `max_us`, so that a restarted fwd does not
    // put an interface into its pattern's zone first and move it back a moment later.
    // Nothing blocks meanwhile.
    void hold_start(uint64_t max_us);
    void release_start();

    // Reads firewall.toml again and rebuilds, in its turn; an invalid file or a refused
    // batch keeps everything as it was (the error says which). `done` runs when it is over.
    void reload(std::function<void(Result<>)> done);
    // Records an action of fwd's own in the audit ledger (ledger.hpp); without a bus,
    // nothing.
    void record(std::string action, LedgerFields fields);
    const Ledger *ledger() const noexcept { return ledger_.get(); }
    std::string status_line() const;

    bool ready() const noexcept { return ready_; }
    uint64_t generation() const noexcept { return generation_; }
    const Histogram &histogram() const noexcept { return histogram_; }
    const std::string &last_error() const noexcept { return last_error_; }
    const Model &model() const { return *model_; }
    const runtime::State &state() const noexcept { return state_; }
    const Membership &membership() const noexcept { return applied_; }

    // ---- D-Bus (manager_bus.cpp) -------------------------------------------------------
    void bus_version(bus::Call &c);
    void bus_add_rule(bus::Call &c, std::string spec, uint32_t expires_s, std::string comment);
    void bus_remove_rule(bus::Call &c, uint64_t id);
    void bus_list_runtime_rules(bus::Call &c);
    void bus_set_interface_zone(bus::Call &c, std::string ifname, std::string zone);
    void bus_panic(bus::Call &c, bool on);
    void bus_reload(bus::Call &c);
    void bus_get_counters(bus::Call &c);

private:
    Manager(sd_event *event, sd_bus *bus, std::unique_ptr<nft::Backend> session,
            ManagerOptions options);
    Result<> attach_bus();
    bool authorize_ready(bus::Call &c);
    // Who called which method (kept for the reply that comes after the kernel's answer).
    struct Caller {
        std::string sender, member;
        std::string name() const { return sender.empty() ? std::string("?") : sender; }   // for logs
    };
    static Caller caller_of(const bus::Call &c);
    // Records a successful mutating call (before its reply goes: the caller is still on
    // the bus when its uid is asked).
    void record_call(const Caller &c, LedgerFields fields);

    // ---- interfaces.cpp ----------------------------------------------------------------
    void handle(const netlink::Event &e);
    void handle_synced(bool initial);
    void first_apply();
    // The monitor's links and addresses (empty before it exists).
    const netlink::Snapshot &kernel() const;
    // The zone of the link `ifindex` named `name` (empty: none).
    std::string zone_for(const Model &model, const std::map<std::string, std::string> &assigned,
                         int ifindex, const std::string &name) const;
    // What the link `ifindex` contributes under `model` and the SetInterfaceZone
    // assignments `assigned`: O(its addresses).
    LinkMember member_of(const Model &model, const std::map<std::string, std::string> &assigned,
                         int ifindex) const;
    // The whole membership (for full rebuilds): O(links + addresses).
    Membership desired(const Model &model, const std::map<std::string, std::string> &assigned) const;
    // Marks a link to be looked at again at the end of this loop iteration.
    void mark(int ifindex);
    void mark_name(const std::string &name);
    // Brings the kernel's membership of the marked links to what the monitor's state
    // implies under the assignments `assigned` (which become state_.interfaces on
    // success): one element batch for all of them, or a full rebuild when the batch is
    // refused (the kernel then says why once more). `done` gets whether a batch went.
    // Links marked while it is in flight stay marked for the next one; on failure the
    // links it took are marked again.
    void flush_membership(std::map<std::string, std::string> assigned,
                          std::function<void(Result<>, bool batch)> done);
    // What the links `links` contribute under `assigned`, against what the kernel holds
    // (applied_), and the element operations that take it there: O(those links).
    struct MembershipChange {
        std::map<int, LinkMember> changed;                            // ifindex -> its part now
        std::map<std::string, std::string> names;                     // ifname -> zone ("": none)
        std::map<std::pair<std::string, net::Address>, long> delta;   // (zone, host) -> references
        std::vector<nft::ElementOp> ops;
    };
    MembershipChange plan_membership(const std::map<std::string, std::string> &assigned,
                                     const std::set<int> &links) const;
    // applied_ once the kernel has `c`.
    void commit_membership(MembershipChange &c);
    // The marked links, taken for a batch (and when the first of them was marked).
    std::pair<std::set<int>, uint64_t> take_dirty();
    void give_back(const std::set<int> &links);
    Result<> start_flushing();
    void flush_pending();
    static int on_flush(sd_event_source *, void *userdata) noexcept;

    // ---- manager.cpp -------------------------------------------------------------------
    // runtime.json + runtime.journal -> state_ (never fails on damage: runtime::recover).
    void load_state();
    // Every stored rule parsed under `model` and placed in id order: O(n log n).
    Resolved resolve(const Model &model, const runtime::State &state) const;
    // What a full rebuild makes the kernel hold: `model` (model_, or a new one the caller
    // keeps alive until done), `state` (nullopt: state_ as it is) and the rules of that
    // state resolved under that model (nullopt: resolved_, when it is still right for them).
    struct Target {
        const Model *model = nullptr;
        std::optional<runtime::State> state;
        std::optional<Resolved> resolved;
    };
    // A full rebuild of the table to `t`; on success its values become current (the
    // caller installs a new model). `done` may run before rebuild() returns (an
    // uncompilable target).
    void rebuild(Target t, const char *why, std::function<void(Result<>)> done);
    // An element batch; counts a generation on success.
    void apply_elements(std::vector<nft::ElementOp> ops, const char *why, std::function<void(Result<>)> done);
    // Records one change in the journal (state_ has it applied already); on failure the
    // caller undoes its change.
    Result<> persist(runtime::Change c);
    void committed();                        // generation, properties
    void set_last_error(std::string e);
    void property_changed(const bus::PropertySpec &prop);
    void arm_expiry();
    void expire();
    static int on_expiry(sd_event_source *, uint64_t, void *userdata) noexcept;

    // ---- the queue of kernel operations (operations.cpp) --------------------------------
    // A step gets `next`, to be called once when it is over (possibly before it returns).
    using Next = JobQueue::Finish;
    using Step = JobQueue::Job;
    void enqueue(Step step);

    // ---- runtime rules, incrementally (operations.cpp) -----------------------------------
    // Adds one rule (parsed under model_; s.id == state_.next_id): elements when it is
    // placed as such, else a full rebuild; then one journal line. O(log n) for elements.
    void add_rule(runtime::StoredRule s, RuntimeRule parsed, const char *why, std::function<void(Result<>)> done);
    // Removes rules held (ids not held are skipped): element removals, or a full rebuild
    // when a rule-shaped rule goes or a removal lets a blocked rule become elements.
    void remove_rules(const std::vector<uint64_t> &ids, const char *why, std::function<void(Result<>)> done);
    // After the kernel took the change: its journal line, or the change undone.
    void persist_add(const runtime::StoredRule &s, bool element, uint64_t next_before, const char *why,
                     std::function<void(Result<>)> done);
    void persist_remove(std::vector<runtime::StoredRule> gone, const char *why,
                        std::function<void(Result<>)> done);
    // After a journal write failed and the change was taken back in memory: a full
    // rebuild to the state in memory; `done` gets `cause`.
    void undo(Error cause, std::function<void(Result<>)> done);
    // In memory only: state_, deadlines_ and resolved_ (placed after every rule held).
    void hold(const runtime::StoredRule &s, std::optional<RuntimeRule> parsed);
    void drop(uint64_t id);
    // Whether removing the element rule `r` would let a later blocked rule be elements.
    bool unblocks(const RuntimeRule &r) const;
    // Puts removed rules back after a failure and resolves everything again.
    void restore(const std::vector<runtime::StoredRule> &gone);

    sd_event *event_;
    sd_bus *bus_;
    std::unique_ptr<nft::Backend> session_;
    ManagerOptions options_;
    std::unique_ptr<netlink::Monitor> monitor_;
    std::unique_ptr<bus::Service> service_;
    bus::Registration registration_;
    std::unique_ptr<Ledger> ledger_;
    EventSourcePtr expiry_;

    alopex::config::LastGood<Model> model_;
    runtime::State state_;          // as persisted
    runtime::Store store_;          // runtime.json + runtime.journal
    runtime::Deadlines deadlines_;  // of state_'s rules
    Resolved resolved_;             // state_ under model_, as applied
    Membership applied_;            // what the kernel's sets hold
    std::set<int> dirty_;           // links to look at again (mark())
    uint64_t pending_since_us_ = 0; // when the first event of those was read
    EventSourcePtr flush_;          // defer: flush_membership() once per iteration
    std::map<int, std::string> linkd_zones_;   // ifindex -> zone alopex-linkd gives it
    EventSourcePtr hold_timer_;
    bool held_ = false, starting_ = false;
    std::unique_ptr<JobQueue> ops_; // kernel operations, one at a time, in order
    bool flush_queued_ = false, expiry_queued_ = false;
    uint64_t generation_ = 0;
    Histogram histogram_;
    std::string last_error_;
    std::string load_error_;        // a damaged runtime state: LastError after the start
    bool synced_ = false, ready_ = false;

    friend struct ManagerTestAccess;
};

// CLOCK_REALTIME / CLOCK_MONOTONIC now, microseconds.
uint64_t realtime_us();
uint64_t monotonic_us();

} // namespace alopex::fwd
