// SPDX-License-Identifier: GPL-2.0-or-later
// Runtime state of alopex-fwd that the kernel cannot give back on a restart: runtime rules
// (AddRule) with their ids and deadlines, SetInterfaceZone assignments and the panic flag.
// Kept as JSON in $STATE_DIRECTORY/runtime.json, written atomically (temp file, fsync,
// rename, fsync of the directory).
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
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "model.hpp"

namespace alopex::fwd::runtime {

inline constexpr size_t max_file_size = 16 << 20;    // bytes
inline constexpr size_t max_rules = 100000;
inline constexpr size_t max_spec = 4096;             // bytes of one spec
inline constexpr size_t max_comment = 127;           // bytes (nft's comment limit)
inline constexpr size_t max_interfaces = 65536;

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
    std::map<std::string, std::string> interfaces;     // SetInterfaceZone: ifname -> zone
    std::vector<StoredRule> rules;                     // ordered by id
    bool operator==(const State &) const = default;
};

// Strict: exactly the known keys with the right types and bounds; ids ascending and
// unique; interface names valid; comments and specs bounded. Errors "file: what".
Result<State> parse(std::string_view json, std::string_view file);
std::string format(const State &s);   // one JSON document, keys sorted, final newline

// A missing file is an empty State.
Result<State> load(const std::filesystem::path &p);
Result<> save(const std::filesystem::path &p, const State &s);

// A comment for AddRule: <= 127 bytes, no control characters. Error names `comment`.
Result<> check_comment(std::string_view c);

// Expiry. `expired` lists the ids of rules whose deadline is <= now (in id order);
// `next_deadline` the earliest deadline still ahead (none when no rule expires).
std::vector<uint64_t> expired(const State &s, uint64_t now_us);
std::optional<uint64_t> next_deadline(const State &s, uint64_t now_us);
// Removes the given ids; returns how many were there.
size_t remove(State &s, const std::vector<uint64_t> &ids);
const StoredRule *find(const State &s, uint64_t id);

} // namespace alopex::fwd::runtime
