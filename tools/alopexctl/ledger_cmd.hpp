// SPDX-License-Identifier: GPL-2.0-or-later
// alopexctl ledger verify|show: reading the broker's audit ledger.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/ledger.hpp"
#include "args.hpp"
#include "context.hpp"
#include "output.hpp"

namespace alopexctl {

// Where the broker writes its ledger when broker.toml does not say (its StateDirectory=).
inline constexpr std::string_view default_ledger_path = "/var/lib/alopex/broker/ledger.jsonl";

// The [ledger] path of a broker.toml text, if it sets one. A text that does not parse
// or a path that is not a non-empty string is an error naming source:line:col.
alopex::Result<std::optional<std::string>> ledger_path_from_toml(std::string_view text,
                                                                 std::string_view source);

// --file, else $ALOPEX_LEDGER (env_ledger), else [ledger] path of
// <config_dir>/broker.toml when that file exists, else default_ledger_path.
alopex::Result<std::filesystem::path> resolve_ledger_path(
    const std::optional<std::string> &file, const char *env_ledger,
    const std::filesystem::path &config_dir);

// "ledger OK: N records" or "ledger BROKEN at record seq S (line L): reason". For a line
// that does not parse, S is the position the record holds in the chain (records + 1).
std::string format_verdict(const alopex::ledger::Verdict &v);
// The verdict line for people; fields PATH, OK, RECORDS, BAD-LINE, BAD-SEQ, REASON; JSON
// {path, ok, records, and when broken bad_line, bad_seq, reason}.
alopex::cli::Document verdict_document(const alopex::ledger::Verdict &v, const std::filesystem::path &p);

// The last `tail` records (all when unset).
std::vector<alopex::ledger::Record> tail_of(std::vector<alopex::ledger::Record> all,
                                            std::optional<uint64_t> tail);
// Columns SEQ, TIME, ACTOR, ACTION, DETAILS (and PREV, HASH with -f); JSON: the array
// of records with all their fields.
alopex::cli::Document records_document(const std::vector<alopex::ledger::Record> &records);

// ledger verify [--file PATH], ledger show [--file PATH] [--tail N].
struct LedgerRequest {
    bool show = false;
    std::optional<std::string> file;
    std::optional<uint64_t> tail;
};
alopex::Result<LedgerRequest> parse_ledger_args(std::span<const std::string_view> words);
std::vector<alopex::cli::Command> ledger_commands(Context &ctx);
std::span<const alopex::cli::OptionSpec> ledger_options();

} // namespace alopexctl
