// SPDX-License-Identifier: GPL-2.0-or-later
// Shared inside config/: the value parsers and the rule/forward builder that both the TOML
// reader (toml.cpp) and the one-line spec reader (spec.cpp) feed, so a key means the same
// thing in both. Errors here are a Problem (key, optional list index, what); each front
// end turns it into its own message form ("file:line:col: key: what" / "key: what").
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config.hpp"
#include "model.hpp"

namespace alopex::fwd::config::detail {

using alopex::fwd::config::to_string;

struct Problem {
    std::string key;                 // the key the problem is about ("" = the whole rule)
    std::optional<size_t> index;     // element of a list value, when it is about one
    std::string what;
};
template <typename T = void> using Checked = std::expected<T, Problem>;

inline std::unexpected<Problem> problem(std::string key, std::string what,
                                        std::optional<size_t> index = std::nullopt)
{
    return std::unexpected<Problem>(Problem{std::move(key), index, std::move(what)});
}

// One value as a front end saw it: TOML values keep their type; spec values are strings.
using Item = std::variant<std::string, int64_t, bool>;
struct Raw {
    std::vector<Item> items;         // a scalar is one item
    bool list = false;               // a TOML array / a spec list key
    bool typed = false;              // from TOML: strings are not converted to numbers/bools
    std::string type_name;           // TOML kind when it is not an item type ("table", ...)
};
using RawRule = std::map<std::string, Raw, std::less<>>;

// What names a rule may refer to.
struct Context {
    std::string zone;                                // "@self"
    const std::map<std::string, NamedSet> *sets = nullptr;
    std::set<std::string> zones;                     // "@zone:NAME"
};

inline constexpr std::string_view rule_keys[] = {
    "family", "proto", "hook", "dport", "sport", "saddr", "daddr", "icmp_type", "ct_state",
    "action", "reject_with", "log", "log_prefix", "log_limit", "limit", "burst", "counter",
    "comment"};
inline constexpr std::string_view forward_keys[] = {"proto", "dport", "to", "saddr", "comment"};
// Keys whose spec value is a comma-separated list.
bool is_list_key(std::string_view key);

Checked<Rule> build_rule(const RawRule &raw, const Context &ctx);
Checked<Forward> build_forward(const RawRule &raw, const Context &ctx);

// ---- values (names.cpp) --------------------------------------------------------------
// Errors are the "what" part only.
std::expected<void, std::string> check_name(std::string_view name);      // zones, sets
std::expected<void, std::string> check_comment(std::string_view text);   // <= 127, printable UTF-8
std::expected<void, std::string> check_log_prefix(std::string_view text); // <= 127, printable ASCII
std::expected<RateLimit, std::string> parse_rate(std::string_view text); // "10/second"
std::string format_rate(const RateLimit &r);                              // without burst
std::expected<PortRange, std::string> parse_port_text(std::string_view text);
std::expected<PortRange, std::string> port_from_int(int64_t v);
std::expected<int64_t, std::string> parse_decimal(std::string_view text, int64_t max);
std::expected<bool, std::string> parse_bool_text(std::string_view text);
std::optional<uint8_t> icmp_type_by_name(Proto p, std::string_view name);
std::optional<std::string_view> icmp_type_name(Proto p, uint8_t type); // canonical name
std::optional<uint32_t> ct_bit_by_name(std::string_view name);
std::vector<std::string_view> ct_names(uint32_t bits);                     // in a fixed order
std::optional<Family> family_from(std::string_view s);
std::optional<Proto> proto_from(std::string_view s);
std::optional<Hook> hook_from(std::string_view s);
std::optional<Verdict> verdict_from(std::string_view s);
std::optional<RejectWith> reject_with_from(std::string_view s);

// ---- addresses (cidr.cpp) ------------------------------------------------------------
// A unicast host address (not unspecified, multicast or broadcast) with an optional
// port: "10.1.0.5:80", "[2001:db8::5]:80", "2001:db8::5".
struct HostPort {
    net::Address host;
    std::optional<uint16_t> port;
};
std::expected<HostPort, std::string> parse_host_port(std::string_view text);
std::string format_host_port(const net::Address &host, std::optional<uint16_t> port);
// Sorted, duplicates and networks inside another one removed.
std::vector<net::Prefix> normalize_cidrs(std::vector<net::Prefix> v);
// Sorted, overlapping and adjacent ranges merged.
std::vector<PortRange> normalize_ports(std::vector<PortRange> v);

} // namespace alopex::fwd::config::detail
