// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl fw` output: tables for people, JSON for programs. Pure functions.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fw_cmd.hpp"
#include "table.hpp"

namespace alopexctl {
namespace fw1 = alopex::ipc::firewall1;
using nlohmann::json;

namespace {

std::string dump(const json &j) { return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }

std::string or_dash(std::string_view s) { return s.empty() ? "-" : printable(s); }

std::string joined(const std::vector<std::string> &v, std::string_view sep)
{
    std::string out;
    for (const auto &s : v)
        out += (out.empty() ? "" : std::string(sep)) + s;
    return out;
}

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

std::string format_fw_status(const fw1::State &s, size_t runtime_rules)
{
    std::string out;
    auto line = [&](std::string_view k, std::string_view v) { out += fmt::format("{:<15}{}\n", k, v); };
    line("panic", s.panic ? "ON (only loopback and established traffic passes)" : "off");
    line("default zone", or_dash(s.default_zone));
    line("generation", std::to_string(s.generation));
    line("last error", or_dash(s.last_error));
    line("zones", std::to_string(s.zones.size()));
    line("rules", std::to_string(s.rules.size()));
    line("runtime rules", std::to_string(runtime_rules));
    std::vector<std::string> ifaces;
    for (const auto &[iface, zone] : s.interfaces)
        ifaces.push_back(fmt::format("{} ({})", printable(iface), printable(zone)));
    line("interfaces", ifaces.empty() ? "-" : joined(ifaces, ", "));
    uint64_t events = latency_events(s.latency);
    auto p50 = latency_quantile(s.latency, 0.5), p99 = latency_quantile(s.latency, 0.99);
    if (!p50 || !p99)
        line("latency", "no events yet");
    else
        line("latency", fmt::format("p50 {}, p99 {} over {} event{}", format_latency(*p50), format_latency(*p99),
                                    events, events == 1 ? "" : "s"));
    return out;
}

std::string format_fw_status_json(const fw1::State &s, size_t runtime_rules)
{
    auto buckets = json::array();
    for (const auto &b : sorted(s.latency))
        // The open last bucket has no bound: null (2^64-1 is beyond what JSON readers such
        // as jq hold exactly).
        buckets.push_back({{"le_us", b.upper_us == std::numeric_limits<uint64_t>::max()
                                         ? json(nullptr)
                                         : json(b.upper_us)},
                           {"count", b.count}});
    auto p50 = latency_quantile(s.latency, 0.5), p99 = latency_quantile(s.latency, 0.99);
    json latency{{"events", latency_events(s.latency)},
                 {"p50_us", quantile_json(p50)},
                 {"p99_us", quantile_json(p99)},
                 {"buckets", buckets}};
    return dump({{"panic", s.panic},
                 {"default_zone", s.default_zone},
                 {"generation", s.generation},
                 {"last_error", s.last_error},
                 {"zones", s.zones.size()},
                 {"rules", s.rules.size()},
                 {"runtime_rules", runtime_rules},
                 {"interfaces", s.interfaces},
                 {"latency", latency}});
}

std::string format_fw_zones(const fw1::State &s)
{
    std::vector<Row> rows;
    for (const auto &z : s.zones) {
        std::string name = printable(z.name) + (z.name == s.default_zone ? " *" : "");
        rows.push_back({name, or_dash(joined(members(s, z.name), ",")), or_dash(joined(z.interfaces, ",")),
                        or_dash(z.input), or_dash(z.forward), or_dash(z.output), z.masquerade ? "yes" : "no",
                        or_dash(joined(addresses(s, z.name), ","))});
    }
    std::string out =
        format_table({"ZONE", "INTERFACES", "PATTERNS", "INPUT", "FORWARD", "OUTPUT", "MASQ", "ADDRESSES"}, rows);
    if (!s.default_zone.empty())
        out += fmt::format("* default zone: interfaces nothing else puts in a zone\n");
    return out;
}

std::string format_fw_zones_json(const fw1::State &s)
{
    auto arr = json::array();
    for (const auto &z : s.zones)
        arr.push_back({{"name", z.name},
                       {"interfaces", members(s, z.name)},
                       {"patterns", z.interfaces},
                       {"input", z.input},
                       {"forward", z.forward},
                       {"output", z.output},
                       {"masquerade", z.masquerade},
                       {"addresses", addresses(s, z.name)},
                       {"default", z.name == s.default_zone}});
    return dump({{"default_zone", s.default_zone}, {"zones", arr}});
}

std::string format_fw_rules(const fw1::State &s, const std::vector<fw1::RuntimeRuleInfo> &runtime, uint64_t now_us)
{
    std::string out = "Configured rules:\n";
    if (s.rules.empty()) {
        out += "(none)\n";
    } else {
        std::vector<Row> rows;
        for (const auto &r : s.rules)
            rows.push_back({printable(r.zone), printable(r.spec), or_dash(r.comment)});
        out += format_table({"ZONE", "SPEC", "COMMENT"}, rows);
    }
    out += "\nRuntime rules:\n";
    if (runtime.empty()) {
        out += "(none)\n";
    } else {
        std::vector<Row> rows;
        for (const auto &r : runtime)
            rows.push_back({std::to_string(r.id), printable(r.zone), printable(r.spec),
                            format_expiry(r.expires_us, now_us), or_dash(r.where), or_dash(r.comment)});
        out += format_table({"ID", "ZONE", "SPEC", "EXPIRES", "WHERE", "COMMENT"}, rows);
    }
    return out;
}

std::string format_fw_rules_json(const fw1::State &s, const std::vector<fw1::RuntimeRuleInfo> &runtime,
                                 uint64_t now_us)
{
    auto rules = json::array();
    for (const auto &r : s.rules)
        rules.push_back({{"zone", r.zone}, {"spec", r.spec}, {"comment", r.comment}});
    auto rt = json::array();
    for (const auto &r : runtime) {
        json left = nullptr;
        if (r.expires_us != 0)
            left = r.expires_us > now_us ? (r.expires_us - now_us + 999999) / 1000000 : 0;
        rt.push_back({{"id", r.id},
                      {"zone", r.zone},
                      {"spec", r.spec},
                      {"comment", r.comment},
                      {"expires_us", r.expires_us},
                      {"expires_in_s", left},
                      {"where", r.where}});
    }
    return dump({{"rules", rules}, {"runtime_rules", rt}});
}

std::string format_fw_counters(const std::vector<fw1::CounterInfo> &c)
{
    std::vector<Row> rows;
    for (const auto &x : c)
        rows.push_back({printable(x.kind), printable(x.name), std::to_string(x.packets), std::to_string(x.bytes),
                        std::to_string(x.drops)});
    return format_table({"KIND", "NAME", "PACKETS", "BYTES", "DROPS"}, rows);
}

std::string format_fw_counters_json(const std::vector<fw1::CounterInfo> &c)
{
    auto arr = json::array();
    for (const auto &x : c)
        arr.push_back(
            {{"kind", x.kind}, {"name", x.name}, {"packets", x.packets}, {"bytes", x.bytes}, {"drops", x.drops}});
    return dump({{"counters", arr}});
}

} // namespace alopexctl
