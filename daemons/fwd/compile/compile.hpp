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
//   Input also accepts IPv6 neighbour discovery (icmpv6 133-136, hop limit 255; conntrack
//   leaves it untracked) before the zone vmap; unzoned input/forward packets are counted
//   ("unzoned"), logged (5/minute) and dropped by the chain policy.
//
// IR conventions the nft/ encoder relies on:
//   - expressions are what nft sends for the equivalent text (golden-tested), except
//     that nft's `byteorder` of the 1-byte l4proto in `saddr . l4proto . dport` lookups
//     is left out (len 1, size 2: the kernel converts nothing);
//   - registers are nft's numbers (1 = NFT_REG_1; 9, 10, 13 = NFT_REG32_01/02/05 in
//     concatenations);
//   - Nat with proto_min set needs NFTA_NAT_FLAGS = NF_NAT_RANGE_PROTO_SPECIFIED (0x2);
//   - keys of one-field sets are that field's length (inet_service 2 bytes, ifname 16);
//     concatenated keys pad each field to 4 bytes (ipv4 . proto . port = 12 bytes);
//   - interval sets always carry key_end (inclusive, == key for a single value);
//   - element ops that remove vmap entries carry no verdict;
//   - rule-local sets (CIDR or port lists of one rule) are named sets:
//     `<zone>_r<index>_{saddr4,saddr6,daddr4,daddr6,sport,dport}`, `<zone>_f<index>_*`
//     for forwards, `rt<id>_*` for runtime rules.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "model.hpp"
#include "nft/ir.hpp"

namespace alopex::fwd::compile {

struct Dynamic {
    std::map<std::string, std::string> interfaces;          // ifname -> zone (resolved)
    std::map<std::string, std::vector<net::Address>> zone_addresses; // zone -> host addresses
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
std::vector<nft::ElementOp> address_ops(const std::string &zone, const net::Address &host, bool add);
// Moves an interface between zones ("" = none) in every per-hook map and the masquerade set.
std::vector<nft::ElementOp> interface_ops(const Model &model, const std::string &ifname,
                                          const std::string &from_zone, const std::string &to_zone);
// Whether a runtime rule lives as kernel set elements (given the rules already placed):
// hook input, tcp or udp, dport set, saddr any or CIDRs, nothing else matched, no
// limit/log, a verdict (reject only with port-unreachable), and none of its elements
// equal to or overlapping an element of a rule in `placed` (same zone, family and
// verdict: pipapo refuses overlaps). compile() places dyn.runtime in its order with this
// same function, so the daemon must keep that order (by id) to agree with it, and
// `placed` must hold only the earlier rules for which element_shaped returned true (an
// earlier rule that became a rule must not block a later one; compile ignores it too).
// runtime_ops gives the elements (set <zone>_rt4|6_<verdict>, comment "rt:<id>", origin
// "runtime rule <id>"), with timeout_ms = max(1, ceil((expires_at_us - now_us)/1000))
// when expires_at_us != 0; for a rule that is not element-shaped it returns nothing.
bool element_shaped(const RuntimeRule &r, const std::vector<RuntimeRule> &placed);

// The same decision made incrementally, for a whole list of runtime rules in order:
// place() answers element_shaped(r, <the earlier rules it said true for>) and, when true,
// records r's elements; the placed elements are indexed, so place() costs O(log n) in the
// rules placed for host or equal-prefix source addresses (a rule whose source range covers
// many placed ranges visits those until the first overlap). unplace() takes back a rule
// place() said true for (the daemon's RemoveRule and expiry): the rules placed after it
// keep their answers, but a later shaped rule place() refused because it overlapped r
// would now fit; the caller checks that (fits() on a Placer holding only r).
class Placer {
public:
    Placer();
    ~Placer();
    Placer(Placer &&) noexcept;
    Placer &operator=(Placer &&) noexcept;
    bool place(const RuntimeRule &r);
    // What place() would answer, changing nothing.
    bool fits(const RuntimeRule &r) const;
    void unplace(const RuntimeRule &r);
    // The shape test alone (no overlap check): element_shaped(r, {}).
    static bool shaped(const RuntimeRule &r);

private:
    struct Boxes;
    std::unique_ptr<Boxes> boxes_;
};
std::vector<nft::ElementOp> runtime_ops(const RuntimeRule &r, bool add, uint64_t now_us);

// Named counter objects: "z.<zone>.<hook>" (packets entering the zone chain),
// "zd.<zone>.<hook>" (reaching the zone's policy), "r.<zone>.<index>" (config rules with
// counter = true), "rt.<id>" (runtime rules placed as rules, with counter = true),
// "unzoned" (input/forward packets from interfaces in no zone, dropped by the policy).
// ("." not ":": nft -f refuses ":" in object names, so `nft list ruleset` would not
// load back.) Origins name things 1-based for people: "zone wan rule 1 (comment)" is rules[0]
// (counter r.wan.0), "zone wan forward 1", "runtime rule 42", "zone wan address
// 192.0.2.1", "set management", "interface eth0".
struct CounterId {
    enum class Kind : uint8_t { zone, zone_drop, rule, runtime, unzoned } kind;
    std::string zone;
    std::string hook;
    uint64_t index = 0;   // rule index in the zone (0-based) or runtime id
};
std::string counter_name(const CounterId &id);
std::optional<CounterId> parse_counter_name(std::string_view name);

} // namespace alopex::fwd::compile
