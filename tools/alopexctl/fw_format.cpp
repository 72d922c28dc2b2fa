// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl fw` output: documents of fwd's state (tables and records for people, terse
// rows for scripts, JSON for programs). Pure functions.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fw_cmd.hpp"

namespace alopexctl {
namespace fw1 = alopex::ipc::firewall1;
namespace cli = alopex::cli;
using nlohmann::json;

namespace {

// The interfaces in each zone now, from the Interfaces property (interface -> zone).
std::vector<std::string> members(const fw1::State &s, const std::string &zone)
{
    std::vector<std::string> out;
    for (const auto &[iface, z] : s.interfaces)
        if (z == zone)
            out.push_back(iface);
    return out;
}

std::vector<std::string> addresses(const fw1::State &s, const std::string &zone)
{
    auto it = s.zone_addresses.find(zone);
    return it == s.zone_addresses.end() ? std::vector<std::string>{} : it->second;
}

std::vector<fw1::LatencyBucket> sorted(std::vector<fw1::LatencyBucket> b)
{
    std::sort(b.begin(), b.end(), [](const auto &x, const auto &y) { return x.upper_us < y.upper_us; });
    return b;
}

json quantile_json(const std::optional<Quantile> &q)
{
    if (!q)
        return nullptr;
    return std::llround(q->us);
}

} // namespace

std::string format_duration(uint64_t seconds)
{
    if (seconds == 0)
        return "0s";
    std::string out;
    constexpr std::array<std::pair<uint64_t, char>, 4> units{{{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}}};
    for (auto [size, unit] : units) {
        if (seconds >= size) {
            out += fmt::format("{}{}", seconds / size, unit);
            seconds %= size;
        }
    }
    return out;
}

std::string format_expiry(uint64_t expires_us, uint64_t now_us)
{
    if (expires_us == 0)
        return "never";
    if (expires_us <= now_us)
        return "expired";
    uint64_t left = expires_us - now_us;
    return format_duration(left / 1000000 + (left % 1000000 ? 1 : 0));
}

uint64_t latency_events(const std::vector<fw1::LatencyBucket> &buckets)
{
    uint64_t n = 0;
    for (const auto &b : buckets)
        n = b.count > std::numeric_limits<uint64_t>::max() - n ? std::numeric_limits<uint64_t>::max() : n + b.count;
    return n;
}

std::optional<Quantile> latency_quantile(const std::vector<fw1::LatencyBucket> &unsorted, double q)
{
    auto buckets = sorted(unsorted);
    uint64_t total = latency_events(buckets);
    if (total == 0)
        return std::nullopt;
    q = std::clamp(q, 0.0, 1.0);
    double rank = q * static_cast<double>(total);
    double below = 0;
    uint64_t lower = 0;
    for (const auto &b : buckets) {
        if (b.count > 0 && below + static_cast<double>(b.count) >= rank) {
            if (b.upper_us == std::numeric_limits<uint64_t>::max())
                return Quantile{static_cast<double>(lower), true};
            double within = std::max(0.0, rank - below) / static_cast<double>(b.count);
            return Quantile{static_cast<double>(lower) + within * static_cast<double>(b.upper_us - lower), false};
        }
        below += static_cast<double>(b.count);
        lower = b.upper_us;
    }
    return Quantile{static_cast<double>(lower), true};
}

std::string format_latency(const Quantile &q)
{
    std::string v;
    if (q.us < 999.5)
        v = fmt::format("{:.0f}µs", q.us);
    else if (q.us < 999500)
        v = fmt::format("{:.2f}ms", q.us / 1000);
    else
        v = fmt::format("{:.2f}s", q.us / 1000000);
    return q.at_least ? ">=" + v : v;
}

namespace {

cli::Document one(cli::Section s)
{
    cli::Document doc;
    doc.sections.push_back(std::move(s));
    return doc;
}

json latency_json(const std::vector<fw1::LatencyBucket> &latency)
{
    auto buckets = json::array();
    for (const auto &b : sorted(latency))
        // The open last bucket has no bound: null (2^64-1 is beyond what JSON readers such
        // as jq hold exactly).
        buckets.push_back({{"le_us", b.upper_us == std::numeric_limits<uint64_t>::max() ? json(nullptr)
                                                                                         : json(b.upper_us)},
                           {"count", b.count}});
    return {{"events", latency_events(latency)},
            {"p50_us", quantile_json(latency_quantile(latency, 0.5))},
            {"p99_us", quantile_json(latency_quantile(latency, 0.99))},
            {"buckets", buckets}};
}

cli::Cell quantile_cell(const std::optional<Quantile> &q) { return q ? cli::Cell(format_latency(*q)) : cli::Cell(); }

} // namespace

cli::Document fw_status_document(const fw1::State &s, size_t runtime_rules)
{
    cli::Section sec({"panic", "default zone", "generation", "last error", "zones", "rules", "runtime rules",
                      "interfaces", "latency", {"p50", false}, {"p99", false}, {"events", false}},
                     cli::Section::Layout::record);
    sec.json_shape = cli::Section::Json::object;
    std::vector<std::string> ifaces;
    for (const auto &[iface, zone] : s.interfaces)
        ifaces.push_back(fmt::format("{} ({})", iface, zone));
    uint64_t events = latency_events(s.latency);
    auto p50 = latency_quantile(s.latency, 0.5), p99 = latency_quantile(s.latency, 0.99);
    std::string latency = !p50 || !p99 ? std::string("no events yet")
                                       : fmt::format("p50 {}, p99 {} over {} event{}", format_latency(*p50),
                                                     format_latency(*p99), events, events == 1 ? "" : "s");
    sec.add({cli::Cell::yes_no(s.panic).shown_as(s.panic ? "ON (only loopback and established traffic passes)"
                                                         : "off"),
             s.default_zone, s.generation, s.last_error, s.zones.size(), s.rules.size(), runtime_rules,
             cli::Cell::list(ifaces, ", "), latency, quantile_cell(p50), quantile_cell(p99), events},
            {{"panic", s.panic},
             {"default_zone", s.default_zone},
             {"generation", s.generation},
             {"last_error", s.last_error},
             {"zones", s.zones.size()},
             {"rules", s.rules.size()},
             {"runtime_rules", runtime_rules},
             {"interfaces", s.interfaces},
             {"latency", latency_json(s.latency)}});
    return one(std::move(sec));
}

cli::Document fw_zones_document(const fw1::State &s)
{
    cli::Section sec({"ZONE", "INTERFACES", "PATTERNS", "INPUT", "FORWARD", "OUTPUT", "MASQ", "ADDRESSES",
                      {"DEFAULT", false}});
    sec.json_key = "zones";
    if (!s.default_zone.empty())
        sec.footer = "* default zone: interfaces nothing else puts in a zone";
    for (const auto &z : s.zones) {
        bool is_default = z.name == s.default_zone;
        cli::Cell name(z.name);
        if (is_default)
            name.shown_as(z.name + " *");
        sec.add({std::move(name), cli::Cell::list(members(s, z.name), ","), cli::Cell::list(z.interfaces, ","),
                 z.input, z.forward, z.output, cli::Cell::yes_no(z.masquerade),
                 cli::Cell::list(addresses(s, z.name), ","), cli::Cell::yes_no(is_default)},
                {{"name", z.name},
                 {"interfaces", members(s, z.name)},
                 {"patterns", z.interfaces},
                 {"input", z.input},
                 {"forward", z.forward},
                 {"output", z.output},
                 {"masquerade", z.masquerade},
                 {"addresses", addresses(s, z.name)},
                 {"default", is_default}});
    }
    cli::Document doc = one(std::move(sec));
    doc.set_json("default_zone", s.default_zone);
    return doc;
}

cli::Document fw_rules_document(const fw1::State &s, const std::vector<fw1::RuntimeRuleInfo> &runtime,
                                uint64_t now_us)
{
    cli::Section configured({"ZONE", "SPEC", "COMMENT"});
    configured.title = "Configured rules:";
    configured.when_empty = "(none)";
    configured.json_key = "rules";
    for (const auto &r : s.rules)
        configured.add({r.zone, r.spec, r.comment}, {{"zone", r.zone}, {"spec", r.spec}, {"comment", r.comment}});

    cli::Section rt({"ID", "ZONE", "SPEC", "EXPIRES", "WHERE", "COMMENT"});
    rt.title = "Runtime rules:";
    rt.when_empty = "(none)";
    rt.json_key = "runtime_rules";
    for (const auto &r : runtime) {
        json left = nullptr;
        if (r.expires_us != 0)
            left = r.expires_us > now_us ? (r.expires_us - now_us + 999999) / 1000000 : 0;
        rt.add({r.id, r.zone, r.spec, format_expiry(r.expires_us, now_us), r.where, r.comment},
               {{"id", r.id},
                {"zone", r.zone},
                {"spec", r.spec},
                {"comment", r.comment},
                {"expires_us", r.expires_us},
                {"expires_in_s", left},
                {"where", r.where}});
    }
    cli::Document doc;
    doc.sections.push_back(std::move(configured));
    doc.sections.push_back(std::move(rt));
    return doc;
}

cli::Document fw_counters_document(const std::vector<fw1::CounterInfo> &c)
{
    cli::Section sec({"KIND", "NAME", "PACKETS", "BYTES", "DROPS"});
    sec.json_key = "counters";
    for (const auto &x : c)
        sec.add({x.kind, x.name, x.packets, x.bytes, x.drops},
                {{"kind", x.kind}, {"name", x.name}, {"packets", x.packets}, {"bytes", x.bytes}, {"drops", x.drops}});
    return one(std::move(sec));
}

cli::Document fw_id_document(uint64_t id)
{
    // A table of one cell: `alopexctl -t fw allow ...` prints the id alone.
    cli::Section sec({"ID"});
    sec.json_shape = cli::Section::Json::object;
    sec.text = std::to_string(id);
    sec.add({id}, {{"id", id}});
    return one(std::move(sec));
}

} // namespace alopexctl
