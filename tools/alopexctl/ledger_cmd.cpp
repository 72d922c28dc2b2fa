// SPDX-License-Identifier: GPL-2.0-or-later
#include "ledger_cmd.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/config.hpp"
#include "table.hpp"

namespace alopexctl {

using alopex::ledger::Record;
using alopex::ledger::Verdict;

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
