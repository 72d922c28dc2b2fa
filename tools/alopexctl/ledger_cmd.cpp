// SPDX-License-Identifier: GPL-2.0-or-later
#include "ledger_cmd.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/config.hpp"
#include "alopex/paths.hpp"

namespace alopexctl {

using alopex::ledger::Record;
using alopex::ledger::Verdict;
using alopex::cli::Document;
namespace cli = alopex::cli;

alopex::Result<std::optional<std::string>> ledger_path_from_toml(std::string_view text,
                                                                 std::string_view source)
{
    // Only [ledger] path matters here; the broker itself validates the rest of the file.
    auto doc = alopex::config::Document::parse(text, std::string(source));
    if (!doc)
        return std::unexpected(doc.error());
    auto ledger = doc->root().optional_table("ledger");
    if (!ledger)
        return std::unexpected(ledger.error());
    if (!*ledger)
        return std::optional<std::string>();
    auto path = (*ledger)->optional_string("path");
    if (!path)
        return std::unexpected(path.error());
    if (*path && (*path)->empty())
        return std::unexpected((*ledger)->get("path")->error("[ledger] path must not be empty"));
    return *path;
}

alopex::Result<std::filesystem::path> resolve_ledger_path(
    const std::optional<std::string> &file, const char *env_ledger,
    const std::filesystem::path &config_dir)
{
    if (file)
        return std::filesystem::path(*file);
    if (env_ledger && *env_ledger)
        return std::filesystem::path(env_ledger);

    std::filesystem::path toml_path = config_dir / "broker.toml";
    std::ifstream in(toml_path, std::ios::binary);
    if (!in) {
        std::error_code ec;
        if (std::filesystem::exists(toml_path, ec))
            return alopex::failf(EACCES, "cannot read {} (use --file)", toml_path.string());
        return std::filesystem::path(default_ledger_path);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    auto configured = ledger_path_from_toml(ss.str(), toml_path.string());
    if (!configured)
        return std::unexpected(configured.error());
    if (*configured)
        return std::filesystem::path(**configured);
    return std::filesystem::path(default_ledger_path);
}

std::string format_verdict(const Verdict &v)
{
    if (v.ok)
        return fmt::format("ledger OK: {} record{}", v.records, v.records == 1 ? "" : "s");
    uint64_t seq = v.bad_seq != 0 ? v.bad_seq : v.records + 1;
    return fmt::format("ledger BROKEN at record seq {} (line {}): {}", seq, v.bad_line, v.reason);
}

std::vector<Record> tail_of(std::vector<Record> all, std::optional<uint64_t> tail)
{
    if (tail && *tail < all.size())
        all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(*tail));
    return all;
}

Document records_document(const std::vector<Record> &records)
{
    cli::Section s({"SEQ", "TIME", "ACTOR", "ACTION", "DETAILS", {"PREV", false}, {"HASH", false}});
    for (const auto &r : records)
        s.add({r.seq, r.time, r.actor, r.action, r.details, r.prev, r.hash},
              {{"seq", r.seq},
               {"time", r.time},
               {"actor", r.actor},
               {"action", r.action},
               {"details", r.details},
               {"prev", r.prev},
               {"hash", r.hash}});
    Document doc;
    doc.sections.push_back(std::move(s));
    return doc;
}

Document verdict_document(const Verdict &v, const std::filesystem::path &p)
{
    uint64_t seq = v.bad_seq != 0 ? v.bad_seq : v.records + 1;
    nlohmann::json j{{"path", p.string()}, {"ok", v.ok}, {"records", v.records}};
    if (!v.ok) {
        j["bad_line"] = v.bad_line;
        j["bad_seq"] = seq;
        j["reason"] = v.reason;
    }
    cli::Section s({"path", "ok", "records", "bad line", "bad seq", "reason"}, cli::Section::Layout::record);
    s.json_shape = cli::Section::Json::object;
    s.text = format_verdict(v);
    s.add({p.string(), cli::Cell::yes_no(v.ok), v.records, v.ok ? cli::Cell::none() : cli::Cell(v.bad_line),
           v.ok ? cli::Cell::none() : cli::Cell(seq), v.ok ? cli::Cell::none() : cli::Cell(v.reason)},
          j);
    Document doc;
    doc.sections.push_back(std::move(s));
    return doc;
}

namespace {

constexpr std::string_view file_opt = "--file", tail_opt = "--tail";

const cli::OptionSpec options[] = {
    {file_opt, 0, "PATH",
     "ledger file (default: $ALOPEX_LEDGER, else [ledger] path\nof broker.toml, else "
     "/var/lib/alopex/broker/ledger.jsonl)"},
    {tail_opt, 'n', "N", "only the last N records"},
};

alopex::Result<uint64_t> parse_count(std::string_view s)
{
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        return alopex::failf(EINVAL, "--tail: not a non-negative integer: '{}'", cli::printable(s));
    return v;
}

alopex::Result<LedgerRequest> parse_request(const cli::Args &a, bool show)
{
    LedgerRequest r;
    r.show = show;
    if (!a.words.empty())
        return alopex::failf(EINVAL, "ledger {}: unexpected argument '{}'", show ? "show" : "verify",
                             cli::printable(a.words[0]));
    if (auto f = a.value(file_opt)) {
        if (f->empty())
            return alopex::failf(EINVAL, "--file: empty path");
        r.file = std::string(*f);
    }
    if (auto t = a.value(tail_opt)) {
        ALOPEX_TRY(n, parse_count(*t));
        r.tail = n;
    }
    return r;
}

const cli::Verb<LedgerRequest> verbs[] = {
    {{"verify"},
     "[--file PATH]",
     "recompute the audit ledger's hash chain; exit 1 and\nname the first broken record if it does not hold",
     +[](const cli::Args &a) { return parse_request(a, false); },
     {file_opt}},
    {{"show"},
     "[--file PATH] [--tail N]",
     "print the ledger's records (the last N with --tail)",
     +[](const cli::Args &a) { return parse_request(a, true); },
     {file_opt, tail_opt}},
};

int run_ledger(Context &ctx, const LedgerRequest &r)
{
    auto path = resolve_ledger_path(r.file, getenv("ALOPEX_LEDGER"), alopex::paths::config_dir());
    if (!path)
        return Context::fail(path.error());
    if (r.show) {
        auto records = alopex::ledger::read_file(*path);
        if (!records)
            return Context::fail({records.error().code, fmt::format("{}: {}", path->string(), records.error().to_string()), {}});
        return ctx.print(records_document(tail_of(std::move(*records), r.tail)));
    }
    auto verdict = alopex::ledger::verify_file(*path);
    if (!verdict)
        return Context::fail({verdict.error().code, fmt::format("{}: {}", path->string(), verdict.error().to_string()), {}});
    int printed = ctx.print(verdict_document(*verdict, *path));
    return printed != exit_ok ? printed : verdict->ok ? exit_ok : exit_broken;
}

} // namespace

alopex::Result<LedgerRequest> parse_ledger_args(std::span<const std::string_view> words)
{
    ALOPEX_TRY(args, cli::parse_args(words, options, "ledger"));
    return cli::parse_verb<LedgerRequest>("ledger", verbs, args);
}

std::span<const cli::OptionSpec> ledger_options() { return options; }

std::vector<cli::Command> ledger_commands(Context &ctx)
{
    return cli::verb_commands<LedgerRequest>("ledger", verbs, [&ctx](alopex::Result<LedgerRequest> r) {
        return r ? run_ledger(ctx, *r) : Context::usage_error(r.error());
    });
}

} // namespace alopexctl
