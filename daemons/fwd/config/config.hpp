// SPDX-License-Identifier: GPL-2.0-or-later
// /etc/alopex/firewall.toml and one-line rule specs -> Model / RuntimeRule, every value
// checked. Pure (the loader reads one file). Errors: "file:line:col: what" for files,
// "<key>: what" for specs. See alopex-firewall.toml(5).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "alopex/error.hpp"
#include "model.hpp"

namespace alopex::fwd::config {

Result<Model> parse(std::string_view text, std::string file);
// Reads and parses `file`. The last file that loaded is remembered by name and contents:
// loading the same bytes again returns a copy of its Model without parsing (the daemon
// reads firewall.toml twice per Reload, and 10,000 rules take tens of ms to parse).
Result<Model> load(const std::filesystem::path &file);

// "zone=wan proto=tcp dport=80,443 saddr=192.0.2.0/24 action=accept log=yes" — the keys
// of a zone rule in firewall.toml (lists comma-separated, no spaces inside values),
// plus zone= (default: the model's default zone) and to= (makes it a port forward).
// Unknown zones and sets are refused. The result has id 0, no expiry, no comment.
Result<RuntimeRule> parse_spec(std::string_view spec, const Model &model);
// The canonical spec of a runtime rule / a configured rule: parse_spec(format_spec(r))
// gives r back (without id, expiry and comment).
std::string format_spec(const RuntimeRule &r);
std::string format_rule(const std::string &zone, const Rule &r);
std::string format_forward(const std::string &zone, const Forward &f);

// "192.0.2.0/24", "2001:db8::1" (a host), refusing host bits beyond the prefix
// (net::Prefix::parse_network; the message starts with the quoted text).
Result<net::Prefix> parse_cidr(std::string_view text);
// "192.0.2.0/24"; a host prefix without its length: "2001:db8::1".
std::string to_string(const net::Prefix &c);
// Valid interface name (1..15 bytes, no '/', ':', whitespace) or glob of one.
bool valid_interface_pattern(std::string_view p);

// A zone or set name: 1..20 characters of [A-Za-z0-9_-].
bool valid_name(std::string_view name);

std::string_view to_string(Verdict v);
std::string_view to_string(Hook h);
std::string_view to_string(Proto p);
std::string_view to_string(Family f);
std::string_view to_string(RejectWith r);

} // namespace alopex::fwd::config
