// SPDX-License-Identifier: GPL-2.0-or-later
// Runtime state of alopex-fwd that the kernel cannot give back on a restart: runtime rules
// (AddRule) with their ids and deadlines, SetInterfaceZone assignments and the panic flag.
// Kept in $STATE_DIRECTORY as a snapshot, runtime.json (one JSON document, written
// atomically: temp file, fsync, rename, fsync of the directory), plus a journal,
// runtime.journal: one JSON line per change since the snapshot (AddRule, RemoveRule,
// expiry, SetInterfaceZone, Panic), appended with an fsync each, so a change costs O(1)
// bytes written however many rules are held. The state is the snapshot with the journal
// replayed in order. Store::compact writes a new snapshot and then empties the journal;
// replaying a change twice gives the same state (ids are never reused), so a crash
// between those two steps loses nothing. A last journal line without its newline is a
// torn write (a crash mid-append): it is ignored and cut off before the next append.
//
// A rule is stored as its canonical spec (config::format_spec) and resolved against the
// model when the daemon starts or reloads (resolve()), so the file stays readable and
// survives changes of the model's representation. A rule whose spec no longer resolves
// (its zone or set was removed from firewall.toml) stays stored but inactive until it is
// removed or the model has its zone again.
//
// Pure apart from load/save: parse/format and the expiry helpers are unit tested.
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
#include "alopex/fd.hpp"
#include "model.hpp"

namespace alopex::fwd::runtime {

inline constexpr size_t max_file_size = 64 << 20;    // bytes (100,000 rules of ~600 bytes)
inline constexpr size_t max_rules = 100000;
inline constexpr size_t max_spec = 4096;             // bytes of one spec
inline constexpr size_t max_comment = 127;           // bytes (nft's comment limit)
inline constexpr size_t max_interfaces = 65536;
inline constexpr size_t max_journal_size = 64 << 20;  // bytes; compaction keeps it smaller
inline constexpr size_t min_compact_size = 64 << 10;  // the journal may grow to this at least

struct StoredRule {
    uint64_t id = 0;              // > 0, unique, < State::next_id
    std::string zone;             // as resolved when added (for listing inactive rules)
    std::string spec;             // canonical spec
    uint64_t expires_at_us = 0;   // CLOCK_REALTIME microseconds; 0 = never
    std::string comment;
    bool operator==(const StoredRule &) const = default;
};

struct State {
    uint64_t next_id = 1;                              // ids are never reused
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
// id; seq becomes the change's if higher).
void apply(State &s, const Change &c);
// Replays journal text onto `s`: changes with seq <= s.seq are in the snapshot already
// and skipped; seqs must ascend. A last line without '\n' is a torn write: ignored, and
// `*valid_bytes` (when given) ends before it. Any other bad line, or more than max_rules
// rules afterwards, is an error "file:line: what" and leaves `s` unspecified.
Result<> replay(State &s, std::string_view journal, std::string_view file,
                size_t *valid_bytes = nullptr);

// runtime.json -> runtime.journal beside it.
std::filesystem::path journal_path(const std::filesystem::path &state_file);

// The snapshot alone: a missing file is an empty State.
Result<State> load(const std::filesystem::path &p);
// Writes the snapshot atomically (the journal is not touched).
Result<> save(const std::filesystem::path &p, const State &s);

// runtime.json + runtime.journal. Not copyable (owns the journal's fd).
class Store {
public:
    explicit Store(std::filesystem::path state_file = {});   // empty: nothing persisted
    Store(Store &&) noexcept = default;
    Store &operator=(Store &&) noexcept = default;

    // The snapshot with the journal replayed (a missing file is empty). Remembers where
    // the journal's valid part ends, so the next append cuts off a torn tail first.
    Result<State> load();
    // `s` becomes the snapshot and the journal is emptied.
    Result<> compact(const State &s);
    // Appends one change (fsync), numbered after.seq + 1; `after` is the state with the
    // change applied and takes that seq. It is written as a new snapshot instead when the
    // journal would outgrow the snapshot (and min_compact_size), which keeps the cost
    // O(1) amortised per change. On failure after.seq is as it was.
    Result<> record(Change c, State &after);
    uint64_t journal_bytes() const noexcept { return journal_bytes_; }
    const std::filesystem::path &file() const noexcept { return file_; }
    const std::filesystem::path &journal() const noexcept { return journal_; }

private:
    Result<> append(const std::string &line);
    std::filesystem::path file_, journal_;
    Fd fd_;                          // the journal, O_APPEND, opened on the first append
    uint64_t journal_bytes_ = 0;     // valid bytes in the journal
    uint64_t snapshot_bytes_ = 0;
};

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
