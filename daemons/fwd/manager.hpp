// SPDX-License-Identifier: GPL-2.0-or-later
// The one object of alopex-fwd that owns the event-loop state: the last good model
// (firewall.toml), the runtime state (runtime.hpp, persisted), the nf_tables Session, the
// rtnetlink Monitor (links and addresses only), what the kernel's zone sets hold now, the
// state generation, the event-to-commit latency histogram and the last apply error.
//
// Every change is one nf_tables batch:
//   - start, Reload, Panic, rule-shaped runtime rules, expiry of rule-shaped rules:
//     a full rebuild (compile::compile + Session::apply(Ruleset));
//   - link and address events, SetInterfaceZone, element-shaped runtime rules: element
//     operations only (interfaces.cpp), one batch per event.
// Runtime rules are kept incrementally: adding, removing or expiring an element-shaped
// rule parses and places that rule only (compile::Placer, indexed), sends its elements
// and appends one line to the journal (runtime.hpp), O(log n) in the rules held. Start,
// Reload, Panic and rule-shaped runtime rules rebuild everything, O(n).
// A change the kernel refuses leaves the previous in-memory state in place; LastError
// says why (and a D-Bus caller gets org.alopex.Error.KernelRefused).
//
// Files: manager.cpp (state, rebuilds, runtime rules, expiry), interfaces.cpp (netlink
// events -> zone membership and zone addresses), manager_bus.cpp (org.alopex.Firewall1).
#pragma once

#include <cstdint>
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

#include "alopex/bus.hpp"
#include "alopex/config.hpp"
#include "alopex/error.hpp"
#include "alopex/netlink/monitor.hpp"
#include "alopex/polkit.hpp"
#include "alopex/sd.hpp"
#include "histogram.hpp"
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
};

// What the kernel's interface maps and zone address sets hold (or should hold).
struct Membership {
    std::map<std::string, std::string> interfaces;              // ifname -> zone
    std::map<std::string, std::map<net::Address, unsigned>> addresses;  // zone -> host -> references
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
    static Result<std::unique_ptr<Manager>> create(sd_event *event, sd_bus *bus, Model model,
                                                   std::unique_ptr<nft::Session> session,
                                                   ManagerOptions options);
    ~Manager();
    Manager(const Manager &) = delete;
    Manager &operator=(const Manager &) = delete;

    std::function<void()> on_ready;
    std::function<void(const Error &)> on_fatal;
    // After a full rebuild or a change of the runtime rules (not after every element
    // batch of a netlink event): for STATUS= lines.
    std::function<void()> on_changed;

    // The zones alopex-linkd gives its links (linkd/linkd_zones.hpp): ifname -> zone.
    // They rank below SetInterfaceZone and above firewall.toml's patterns; zones the
    // model does not have are ignored. Applied as element operations once ready.
    void set_linkd_zones(std::map<std::string, std::string> zones);

    // Reads firewall.toml again and rebuilds; an invalid file or a refused batch keeps
    // everything as it was (the error says which).
    Result<> reload();
    std::string status_line() const;

    bool ready() const noexcept { return ready_; }
    uint64_t generation() const noexcept { return generation_; }
    const Histogram &histogram() const noexcept { return histogram_; }
    const std::string &last_error() const noexcept { return last_error_; }
    const Model &model() const { return *model_; }
    const runtime::State &state() const noexcept { return state_; }
    const Membership &membership() const noexcept { return applied_; }

    // ---- D-Bus (manager_bus.cpp) -------------------------------------------------------
    int bus_version(sd_bus_message *m, sd_bus_error *ret);
    int bus_add_rule(sd_bus_message *m, sd_bus_error *ret);
    int bus_remove_rule(sd_bus_message *m, sd_bus_error *ret);
    int bus_list_runtime_rules(sd_bus_message *m, sd_bus_error *ret);
    int bus_set_interface_zone(sd_bus_message *m, sd_bus_error *ret);
    int bus_panic(sd_bus_message *m, sd_bus_error *ret);
    int bus_reload(sd_bus_message *m, sd_bus_error *ret);
    int bus_get_counters(sd_bus_message *m, sd_bus_error *ret);
    int prop_zones(sd_bus_message *reply, sd_bus_error *ret);
    int prop_rules(sd_bus_message *reply, sd_bus_error *ret);
    int prop_interfaces(sd_bus_message *reply, sd_bus_error *ret);
    int prop_zone_addresses(sd_bus_message *reply, sd_bus_error *ret);
    int prop_panic(sd_bus_message *reply, sd_bus_error *ret);
    int prop_default_zone(sd_bus_message *reply, sd_bus_error *ret);
    int prop_generation(sd_bus_message *reply, sd_bus_error *ret);
    int prop_latency(sd_bus_message *reply, sd_bus_error *ret);
    int prop_last_error(sd_bus_message *reply, sd_bus_error *ret);

private:
    Manager(sd_event *event, sd_bus *bus, std::unique_ptr<nft::Session> session,
            ManagerOptions options);
    Result<> attach_bus();
    int authorize(sd_bus_message *m, sd_bus_error *ret);

    // ---- interfaces.cpp ----------------------------------------------------------------
    void handle(const netlink::Event &e);
    void handle_synced(bool initial);
    // The membership the snapshot implies under `model` and the SetInterfaceZone
    // assignments `assigned`.
    Membership desired(const Model &model, const std::map<std::string, std::string> &assigned) const;
    // Element operations turning `from` into `to` (removals first).
    static std::vector<nft::ElementOp> membership_ops(const Model &model, const Membership &from,
                                                      const Membership &to);
    // Brings the kernel's membership to what the snapshot implies under the assignments
    // `assigned` (which become state_.interfaces on success): one element batch, or a
    // full rebuild when the batch is refused (the kernel then says why once more).
    // `committed` tells whether a batch went.
    Result<> sync_membership(const std::map<std::string, std::string> &assigned,
                             bool *committed = nullptr);

    // ---- manager.cpp -------------------------------------------------------------------
    // runtime.json + runtime.journal -> state_ (never fails on damage: runtime::recover).
    void load_state();
    // Every stored rule parsed under `model` and placed in id order: O(n log n).
    Resolved resolve(const Model &model, const runtime::State &state) const;
    // A full rebuild of the table from these values; on success they become current.
    // `given`: the rules of `state` resolved under `model` already (e.g. &resolved_ after
    // an incremental change), else they are resolved here.
    Result<> rebuild(const Model &model, const runtime::State &state, const char *why,
                     Resolved *given = nullptr);
    // An element batch; counts a generation on success.
    Result<> apply_elements(std::span<const nft::ElementOp> ops, const char *why);
    // Records one change in the journal (state_ has it applied already); on failure the
    // caller undoes its change.
    Result<> persist(runtime::Change c);
    void committed();                        // generation, properties
    void set_last_error(std::string e);
    void property_changed(const char *prop);
    void arm_expiry();
    void expire();
    static int on_expiry(sd_event_source *, uint64_t, void *userdata) noexcept;

    // ---- runtime rules, incrementally (manager.cpp) --------------------------------------
    // Adds one rule (parsed under model_; s.id == state_.next_id): elements when it is
    // placed as such, else a full rebuild; then one journal line. O(log n) for elements.
    Result<> add_rule(const runtime::StoredRule &s, RuntimeRule parsed, const char *why);
    // Removes rules held (ids not held are skipped): element removals, or a full rebuild
    // when a rule-shaped rule goes or a removal lets a blocked rule become elements.
    Result<> remove_rules(const std::vector<uint64_t> &ids, const char *why);
    // In memory only: state_, deadlines_ and resolved_ (placed after every rule held).
    void hold(const runtime::StoredRule &s, std::optional<RuntimeRule> parsed);
    void drop(uint64_t id);
    // Whether removing the element rule `r` would let a later blocked rule be elements.
    bool unblocks(const RuntimeRule &r) const;
    // Places every active rule again, in id order (after such an unblocking).
    void replace_all();
    // Puts removed rules back after a failure and resolves everything again.
    void restore(const std::vector<runtime::StoredRule> &gone);

    sd_event *event_;
    sd_bus *bus_;
    std::unique_ptr<nft::Session> session_;
    ManagerOptions options_;
    std::unique_ptr<netlink::Monitor> monitor_;
    std::unique_ptr<polkit::Authority> authority_;
    std::unique_ptr<bus::PropertiesCoalescer> coalescer_;
    SlotPtr slot_;
    EventSourcePtr expiry_;

    alopex::config::LastGood<Model> model_;
    runtime::State state_;          // as persisted
    runtime::Store store_;          // runtime.json + runtime.journal
    runtime::Deadlines deadlines_;  // of state_'s rules
    Resolved resolved_;             // state_ under model_, as applied
    netlink::Snapshot kernel_;      // links and addresses, folded from the monitor
    Membership applied_;            // what the kernel's sets hold
    std::map<std::string, std::string> linkd_zones_;
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
