// SPDX-License-Identifier: GPL-2.0-or-later
// Model + runtime state -> the nf_tables objects of `inet alopex` (nft/ir.hpp). Pure:
// no sockets, no clocks (the caller passes `now`), so unit tests and the fuzzer reach it.
//
// Shape (rules scale with services, not zones x interfaces):
//   base chains input/forward/output (filter), prerouting (nat, dstnat), postrouting
//   (nat, srcnat); a fixed prologue (loopback, ct established/related accept, invalid
//   drop); then `iifname vmap @<hook>_zones` (`oifname` for output) jumping to the
//   zone's chain `<zone>_<hook>`, which holds the zone's rules, its runtime rules and
//   ends in the zone's policy (counted per zone, logged when log_policy).
//   Interfaces join zones as elements of those verdict maps; zone addresses are the
//   elements of `<zone>_addr4` / `<zone>_addr6`; named sets `set_<name>4/6` (intervals).
//   Runtime rules of the shape (saddr CIDRs or any) x (tcp|udp) x dport ranges with a
//   verdict, in the input hook, become elements with kernel timeouts of
//   `<zone>_rt4_<verdict>` / `<zone>_rt6_<verdict>`; every other shape is a rule.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "alopex/error.hpp"
#include "model.hpp"
#include "nft/ir.hpp"

namespace alopex::fwd::compile {

struct Dynamic {
    std::map<std::string, std::string> interfaces;          // ifname -> zone (resolved)
    std::map<std::string, std::vector<Cidr>> zone_addresses; // zone -> host addresses
    std::vector<RuntimeRule> runtime;                       // not yet expired
    uint64_t now_us = 0;                                    // CLOCK_REALTIME
    bool panic = false;
};

// The whole table. Errors (an unknown zone or set in a runtime rule, which config/ should
// have refused) name the rule.
Result<nft::Ruleset> compile(const Model &model, const Dynamic &dyn);

// Which zone an interface is in: a runtime assignment, else the first zone (file order)
// with an exact name, else the first with a matching glob, else the default zone ("" if
// none).
std::string zone_of(const Model &model, const std::map<std::string, std::string> &assigned,
                    const std::string &ifname);

// Incremental changes, each a list of element operations for one batch.
std::vector<nft::ElementOp> address_ops(const std::string &zone, const Cidr &host, bool add);
// Moves an interface between zones ("" = none) in every per-hook map and the masquerade set.
std::vector<nft::ElementOp> interface_ops(const Model &model, const std::string &ifname,
                                          const std::string &from_zone, const std::string &to_zone);
// Whether a runtime rule lives as kernel set elements (given the rules already placed);
// when true, runtime_ops gives its elements, with timeouts computed from `now_us`.
bool element_shaped(const RuntimeRule &r, const std::vector<RuntimeRule> &placed);
std::vector<nft::ElementOp> runtime_ops(const RuntimeRule &r, bool add, uint64_t now_us);

// Named counter objects: "z:<zone>:<hook>", "zd:<zone>:<hook>" (policy drops),
// "r:<zone>:<index>", "rt:<id>".
struct CounterId {
    enum class Kind : uint8_t { zone, zone_drop, rule, runtime } kind;
    std::string zone;
    std::string hook;
    uint64_t index = 0;   // rule index in the zone (0-based) or runtime id
};
std::string counter_name(const CounterId &id);
std::optional<CounterId> parse_counter_name(std::string_view name);

} // namespace alopex::fwd::compile
