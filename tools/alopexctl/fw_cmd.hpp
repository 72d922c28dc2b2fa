// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl fw ...`: parse (pure, fw_cmd.cpp), format (pure, fw_format.cpp), and call
// org.alopex.Firewall1 (fw_cmd.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"
#include "args.hpp"
#include "context.hpp"
#include "firewall1_client.hpp"
#include "output.hpp"

namespace alopexctl {

struct FwRequest {
    enum class Op { status, zones, rules, add, remove, panic, reload, counters, set_zone };
    Op op = Op::status;
    std::string spec{};            // add: the rule spec sent to AddRule
    uint32_t expires_s = 0;        // add: 0 = never
    std::string comment{};         // add
    uint64_t id = 0;               // remove
    bool on = false;               // panic
    std::string interface_name{};  // set_zone
    std::string zone{};            // set_zone: "" removes the assignment
};

// Words after "fw" (options included: --from, --zone, --expires, --comment, --to,
// --reject, as "--opt VALUE" or "--opt=VALUE", anywhere). Errors name the offending word.
alopex::Result<FwRequest> parse_fw_args(std::span<const std::string_view> words);

// "90", "90s", "30m", "1h", "2d", "1h30m" (units d h m s, each at most once, largest
// first), "never" (0). 1 .. UINT32_MAX seconds.
alopex::Result<uint32_t> parse_duration(std::string_view text);
// 3552 -> "59m12s", 3600 -> "1h", 0 -> "0s".
std::string format_duration(uint64_t seconds);
// A runtime rule's expiry as seen at now_us (both CLOCK_REALTIME microseconds):
// "never" (0), "expired", or the time left rounded up to a second ("59m12s").
std::string format_expiry(uint64_t expires_us, uint64_t now_us);

// A quantile (0..1) of the latency histogram, interpolated linearly inside its bucket.
// In the last (unbounded) bucket it is that bucket's lower bound, flagged at_least.
// nullopt when the histogram holds no events.
struct Quantile {
    double us = 0;
    bool at_least = false;
};
std::optional<Quantile> latency_quantile(const std::vector<alopex::ipc::firewall1::LatencyBucket> &buckets,
                                         double q);
uint64_t latency_events(const std::vector<alopex::ipc::firewall1::LatencyBucket> &buckets);
// 850 -> "850µs", 1234 -> "1.23ms", 2500000 -> "2.50s"; at_least adds a leading ">=".
std::string format_latency(const Quantile &q);

// fw status: a record (JSON: panic, default_zone, generation, last_error, zones, rules,
// runtime_rules, interfaces, latency {events, p50_us, p99_us, buckets}).
alopex::cli::Document fw_status_document(const alopex::ipc::firewall1::State &s, size_t runtime_rules);
// fw zones: JSON {default_zone, zones: [...]}.
alopex::cli::Document fw_zones_document(const alopex::ipc::firewall1::State &s);
// fw rules: two sections, configured and runtime; JSON {rules: [...], runtime_rules: [...]}.
alopex::cli::Document fw_rules_document(const alopex::ipc::firewall1::State &s,
                                        const std::vector<alopex::ipc::firewall1::RuntimeRuleInfo> &runtime,
                                        uint64_t now_us);
// fw counters: JSON {counters: [...]}.
alopex::cli::Document fw_counters_document(const std::vector<alopex::ipc::firewall1::CounterInfo> &c);
// fw allow|deny|forward: the new rule's id; JSON {id}.
alopex::cli::Document fw_id_document(uint64_t id);

// Runs the request against fwd and prints the result; returns the exit status (0 ok,
// 3 failure: the D-Bus error's name and message are printed, 4 fwd does not run).
int run_fw(Context &ctx, const FwRequest &r);

std::span<const alopex::cli::OptionSpec> fw_options();
std::vector<alopex::cli::Command> fw_commands(Context &ctx);

} // namespace alopexctl
