// SPDX-License-Identifier: GPL-2.0-or-later
#include "ledger_cmd.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "table.hpp"

namespace alopexctl {

using alopex::ledger::Record;
using alopex::ledger::Verdict;

alopex::Result<std::optional<std::string>> ledger_path_from_toml(std::string_view text,
                                                                 std::string_view source)
{
    // Debian's toml++ is built with exceptions: a syntax error is a toml::parse_error.
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error &e) {
        return alopex::failf(EINVAL, "{}:{}:{}: {}", source, e.source().begin.line,
                             e.source().begin.column, e.description());
    }
    const toml::node *ledger = root.get("ledger");
    if (!ledger)
        return std::optional<std::string>();
    const toml::table *t = ledger->as_table();
    if (!t)
        return alopex::failf(EINVAL, "{}:{}:{}: [ledger] must be a table", source,
                             ledger->source().begin.line, ledger->source().begin.column);
    const toml::node *path = t->get("path");
    if (!path)
        return std::optional<std::string>();
    const auto *s = path->as_string();
    if (!s || s->get().empty())
        return alopex::failf(EINVAL, "{}:{}:{}: [ledger] path must be a non-empty string",
                             source, path->source().begin.line, path->source().begin.column);
    return std::optional<std::string>(s->get());
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
    return fmt::format("ledger BROKEN at record seq {} (line {}): {}", seq, v.bad_line,
                       printable(v.reason));
}

std::string format_verdict_json(const Verdict &v, const std::filesystem::path &p)
{
    nlohmann::json j{{"path", p.string()}, {"ok", v.ok}, {"records", v.records}};
    if (!v.ok) {
        j["bad_line"] = v.bad_line;
        j["bad_seq"] = v.bad_seq != 0 ? v.bad_seq : v.records + 1;
        j["reason"] = v.reason;
    }
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::vector<Record> tail_of(std::vector<Record> all, std::optional<uint64_t> tail)
{
    if (tail && *tail < all.size())
        all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(*tail));
    return all;
}

std::string format_records_table(const std::vector<Record> &records)
{
    std::vector<Row> rows;
    rows.reserve(records.size());
    for (const auto &r : records)
        rows.push_back({std::to_string(r.seq), printable(r.time), printable(r.actor),
                        printable(r.action), printable(r.details)});
    return format_table({"SEQ", "TIME", "ACTOR", "ACTION", "DETAILS"}, rows);
}

std::string format_records_json(const std::vector<Record> &records)
{
    auto arr = nlohmann::json::array();
    for (const auto &r : records)
        arr.push_back({{"seq", r.seq},
                       {"time", r.time},
                       {"actor", r.actor},
                       {"action", r.action},
                       {"details", r.details},
                       {"prev", r.prev},
                       {"hash", r.hash}});
    return arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace alopexctl
