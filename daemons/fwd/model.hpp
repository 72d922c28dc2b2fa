// SPDX-License-Identifier: GPL-2.0-or-later
// The firewall model: what /etc/alopex/firewall.toml and runtime rule specs mean, with
// every name resolved and every value checked. Pure values, no I/O. Produced by config/
// (TOML and the one-line rule specs of AddRule), consumed by compile/ (to nf_tables
// objects) and by the daemon. See alopex-firewall.toml(5).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alopex/net.hpp"

namespace alopex::fwd {

enum class Family : uint8_t { both, ipv4, ipv6 };
// `any` matches every protocol; icmp is IPv4-only and icmpv6 IPv6-only.
enum class Proto : uint8_t { any, tcp, udp, icmp, icmpv6 };
// A zone policy and a rule's terminal verdict.
enum class Verdict : uint8_t { accept, drop, reject };
// Which hook a zone rule sits in: traffic arriving from the zone for this host (input),
// arriving from the zone to be routed elsewhere (forward), or leaving through it (output).
enum class Hook : uint8_t { input, forward, output };
// `reject` answers: the default is ICMP(v6) port unreachable (nft's `icmpx port-unreachable`).
enum class RejectWith : uint8_t { port_unreachable, admin_prohibited, host_unreachable, no_route, tcp_reset };

// ct state bits (nf_conntrack's IP_CT_* as nft's ct state mask uses them).
namespace ct {
inline constexpr uint32_t invalid = 1u << 0, established = 1u << 1, related = 1u << 2,
                          new_ = 1u << 3, untracked = 1u << 6;
}

struct PortRange {
    uint16_t first = 0, last = 0;    // inclusive, first <= last, first >= 1
    auto operator<=>(const PortRange &) const = default;
};

// Where an address match comes from.
struct AddrMatch {
    enum class Kind : uint8_t { any, cidrs, set, zone };
    Kind kind = Kind::any;
    std::vector<net::Prefix> cidrs;  // Kind::cidrs: networks (no host bits) of either family
    std::string name;                // Kind::set: a [sets] name; Kind::zone: a zone name
                                     // ("@self" in a zone's rule is resolved to that zone)
    bool operator==(const AddrMatch &) const = default;
};

struct RateLimit {
    uint64_t rate = 0;               // packets per `unit_s` seconds, >= 1
    uint64_t unit_s = 60;            // 1, 60, 3600, 86400
    uint32_t burst = 5;              // packets
    bool operator==(const RateLimit &) const = default;
};

struct Log {
    std::string prefix;              // <= 127 bytes, printable
    std::optional<RateLimit> limit;  // limits the log lines only
    bool operator==(const Log &) const = default;
};

// One filter rule. A rule with `verdict` unset only logs (and counts) and continues.
struct Rule {
    Family family = Family::both;
    Proto proto = Proto::any;
    Hook hook = Hook::input;
    std::vector<PortRange> dport, sport;     // tcp/udp only
    AddrMatch saddr, daddr;
    std::vector<uint8_t> icmp_types;         // icmp or icmpv6 only (numbers for that proto)
    uint32_t ct_state = 0;                   // ct:: bits; 0 = not matched
    std::optional<RateLimit> limit;          // the rule matches only within this rate
    std::optional<Log> log;                  // log matching packets (before the verdict)
    std::optional<Verdict> verdict;          // unset: log-only ("action = \"log\"")
    RejectWith reject_with = RejectWith::port_unreachable;
    bool counter = true;
    std::string comment;                     // <= 127 bytes
    bool operator==(const Rule &) const = default;
};

// A port forward: DNAT of traffic arriving from the zone, plus the forward-chain accept
// that lets the translated connection through.
struct Forward {
    Proto proto = Proto::tcp;                // tcp or udp
    std::vector<PortRange> dport;            // one port or one range, non-empty
    AddrMatch saddr;                         // who may use it (any by default)
    net::Address to;                         // a unicast host; its family is the forward's
    std::optional<uint16_t> to_port;         // unset: the same port(s)
    std::string comment;
    bool operator==(const Forward &) const = default;
};

struct Zone {
    std::string name;                        // [A-Za-z0-9_-]{1,20}
    std::vector<std::string> interfaces;     // names and globs (fnmatch: * ? [...]), in order
    Verdict input = Verdict::drop, forward = Verdict::drop, output = Verdict::accept;
    bool masquerade = false;                 // masquerade traffic leaving through this zone
    bool log_policy = false;                 // log packets the zone's policy drops/rejects
    std::string log_prefix;                  // default "alopex <zone> <hook>: "
    RateLimit log_limit{5, 60, 5};
    std::vector<Rule> rules;
    std::vector<Forward> forwards;
    bool operator==(const Zone &) const = default;
};

// A named set of networks usable as "@name" in saddr/daddr.
struct NamedSet {
    std::string name;                        // [A-Za-z0-9_-]{1,20}
    std::vector<net::Prefix> cidrs;          // networks, IPv4 and IPv6 mixed; may overlap
    bool operator==(const NamedSet &) const = default;
};

struct Model {
    std::map<std::string, NamedSet> sets;
    std::map<std::string, Zone> zones;       // at least one zone
    std::vector<std::string> zone_order;     // zones in file order (glob precedence)
    std::string default_zone;                // zone of interfaces no pattern matches; "" = none
    bool operator==(const Model &) const = default;
};

// A rule added at run time (AddRule): a filter rule or a port forward in one zone.
struct RuntimeRule {
    uint64_t id = 0;                         // > 0, never reused within a state directory
    std::string zone;
    std::optional<Rule> rule;                // exactly one of rule / forward
    std::optional<Forward> forward;
    uint64_t expires_at_us = 0;              // CLOCK_REALTIME microseconds; 0 = never
    std::string comment;
    bool operator==(const RuntimeRule &) const = default;
};

} // namespace alopex::fwd
