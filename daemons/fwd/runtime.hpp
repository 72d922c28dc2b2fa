// SPDX-License-Identifier: GPL-2.0-or-later
// Runtime state of alopex-fwd that the kernel cannot give back on a restart: runtime rules
// (AddRule) with their ids and deadlines, SetInterfaceZone assignments and the panic flag.
// Kept in $STATE_DIRECTORY by libcommon's snapshot-plus-journal store (alopex/store.hpp)
// with the record format below: runtime.json, the snapshot (one JSON document), and
// runtime.journal, one JSON line per change since the snapshot (AddRule, RemoveRule,
// expiry, SetInterfaceZone, Panic), so a change costs O(1) bytes written however many
// rules are held.
//
// A rule is stored as its canonical spec (config::format_spec) and resolved against the
// model when the daemon starts or reloads (resolve()), so the file stays readable and
// survives changes of the model's representation. A rule whose spec no longer resolves
// (its zone or set was removed from firewall.toml) stays stored but inactive until it is
// removed or the model has its zone again.
//
// Damaged files fail closed (recover(), alopex-fwd(8) FILES): the snapshot and the
// journal's good prefix are kept, and panic mode stays on, or is turned on when the
// snapshot itself cannot be read.
//
// Pure: parse/format, apply, recover and the expiry helpers are unit tested and fuzzed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/net.hpp"
#include "alopex/store.hpp"
#include "model.hpp"

namespace alopex::fwd::runtime {

inline constexpr size_t max_file_size = 64 << 20;    // bytes (100,000 rules of ~600 bytes)
inline constexpr size_t max_rules = 100000;
inline constexpr size_t max_spec = 4096;             // bytes of one spec
inline constexpr size_t max_comment = 127;           // bytes (nft's comment limit)
inline constexpr size_t max_interfaces = 65536;
inline constexpr size_t max_journal_size = 64 << 20;  // bytes; compaction keeps it smaller
inline constexpr size_t min_compact_size = 64 << 10;  // the journal may grow to this at least
// Numbers read back are bounded (a bad line otherwise): ids, seqs and deadlines stay
// exact in any JSON reader and never wrap (next_id <= max_id + 1).
inline constexpr uint64_t max_id = store::max_seq;
inline constexpr uint64_t max_time_us = store::max_seq;   // CLOCK_REALTIME µs: year 2255

struct StoredRule {
    uint64_t id = 0;              // 1..max_id, unique, < State::next_id
    std::string zone;             // as resolved when added (for listing inactive rules)
    std::string spec;             // canonical spec
    uint64_t expires_at_us = 0;   // CLOCK_REALTIME microseconds, <= max_time_us; 0 = never
    std::string comment;
    bool operator==(const StoredRule &) const = default;
};

struct State {
    uint64_t next_id = 1;                              // ids are never reused; <= max_id + 1
    bool panic = false;
    uint64_t seq = 0;                                  // the last journal change included
    std::map<std::string, std::string> interfaces;     // SetInterfaceZone: ifname -> zone
    std::map<uint64_t, StoredRule> rules;              // id -> rule
    bool operator==(const State &) const = default;
};

// Strict: exactly the known keys with the right types and bounds; ids ascending and
// unique; interface names valid; comments and specs bounded. Errors "file: what".
Result<State> parse(std::string_view json, std::string_view file);
std::string format(const State &s);   // one JSON document, keys sorted, final newline

// One change since the snapshot: one journal line.
struct Change {
    enum class Kind : uint8_t { add, remove, interface, panic };
    Kind kind = Kind::add;
    uint64_t seq = 0;              // > 0, ascending in the journal (Store::record sets it)
    StoredRule rule;               // add
    std::vector<uint64_t> ids;     // remove (ids not held are ignored)
    std::string ifname, zone;      // interface (zone "": the assignment goes)
    bool panic = false;            // panic
    bool operator==(const Change &) const = default;
};
// {"op":"add","seq":..,"id":..,"zone":..,"spec":..,"expires_at_us":..,"comment":..}
// {"op":"remove","seq":..,"ids":[..]}  {"op":"interface","seq":..,"name":..,"zone":..}
// {"op":"panic","seq":..,"on":..}
std::string format_change(const Change &c);   // one line, final newline
// Strict, like parse(): exactly the keys of the op, checked as in runtime.json. Errors
// "where: what".
Result<Change> parse_change(std::string_view line, std::string_view where = "journal");
// Applies one change (an add of an id held replaces it; an add raises next_id above its
// id; seq becomes the change's if higher). Refuses, changing nothing, a change past
// max_rules or max_interfaces.
Result<> apply(State &s, const Change &c);

// The record format for alopex/store.hpp.
struct Codec {
    using State = runtime::State;
    using Change = runtime::Change;
    static Result<State> parse_snapshot(std::string_view t, std::string_view file) { return parse(t, file); }
    static std::string format_snapshot(const State &s) { return format(s); }
    static Result<Change> parse_change(std::string_view l, std::string_view where)
    {
        return runtime::parse_change(l, where);
    }
    static std::string format_change(const Change &c) { return runtime::format_change(c); }
    static Result<> apply(State &s, const Change &c) { return runtime::apply(s, c); }
};
using Store = store::Store<Codec>;
using Loaded = store::Loaded<State, Change>;

// runtime.json (runtime.journal beside it) with fwd's limits.
store::Options store_options(const std::filesystem::path &state_file);

// After a damaged load, what fwd keeps, failing closed:
//   - a bad journal line: the snapshot and the journal's lines before it (l.state as
//     loaded); panic mode is on when that state has it on or a readable line past the
//     damage turns it on (those lines are not trusted for anything else);
//   - an unreadable snapshot: its rules and panic flag are unknown, so panic mode is
//     turned on (until an administrator turns it off) over the journal's good lines.
// Adjusts l.state and returns the text for LastError: "<file:line: what>; kept ...".
// Nothing to do (empty text) when the load was clean.
std::string recover(Loaded &l);

// Interface names in the runtime state and SetInterfaceZone: libcommon's check.
using net::valid_ifname;

// A comment for AddRule: <= 127 bytes, no control characters. Error names `comment`.
Result<> check_comment(std::string_view c);

// Expiry. `expired` lists the ids of rules whose deadline is <= now (in id order);
// `next_deadline` the earliest deadline still ahead (none when no rule expires). O(n):
// the daemon keeps a Deadlines index instead.
std::vector<uint64_t> expired(const State &s, uint64_t now_us);
std::optional<uint64_t> next_deadline(const State &s, uint64_t now_us);
// Removes the given ids; returns how many were there.
size_t remove(State &s, const std::vector<uint64_t> &ids);
const StoredRule *find(const State &s, uint64_t id);

// The rules' deadlines, ordered: O(log n) per change.
class Deadlines {
public:
    void add(const StoredRule &r);      // rules without a deadline are ignored
    void remove(const StoredRule &r);
    void rebuild(const State &s);
    std::vector<uint64_t> expired(uint64_t now_us) const;    // in id order
    std::optional<uint64_t> next(uint64_t now_us) const;
    size_t size() const noexcept { return by_time_.size(); }

private:
    std::set<std::pair<uint64_t, uint64_t>> by_time_;   // (expires_at_us, id)
};

} // namespace alopex::fwd::runtime
