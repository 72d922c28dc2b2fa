// SPDX-License-Identifier: GPL-2.0-or-later
// The nf_tables objects of table `inet alopex`, as plain values: what compile/ produces
// and nft/ turns into one libnftnl batch. Expressions map 1:1 onto nf_tables expressions
// (the ones `nft --debug=netlink` prints), so the encoder is mechanical and all meaning
// lives in the compiler. Every rule, element and set carries an `origin`: the words an
// error message uses to name what the kernel refused ("zone wan rule 3 (management
// console)", "runtime rule 42", "zone lan address 10.0.0.1").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace alopex::fwd::nft {

using Bytes = std::vector<uint8_t>;

// Registers: 0 is the verdict register; 1..4 are the 16-byte registers NFT_REG_1..4
// (nft itself uses the 32-bit registers NFT_REG32_00.., numbered 8..; either is fine).
using Reg = uint32_t;

struct Meta { uint32_t key; Reg dreg; };                            // NFT_META_*
struct Payload { uint32_t base; uint32_t offset; uint32_t len; Reg dreg; };  // NFT_PAYLOAD_*_HEADER
struct Cmp { Reg sreg; uint32_t op; Bytes data; };                  // NFT_CMP_*
struct Range { Reg sreg; uint32_t op; Bytes from, to; };            // NFT_RANGE_EQ/NEQ, inclusive
struct Bitwise { Reg sreg; Reg dreg; uint32_t len; Bytes mask, xor_; };  // (reg & mask) ^ xor
struct Lookup { Reg sreg; std::string set; std::optional<Reg> dreg; bool invert = false; };  // dreg 0 = vmap
struct Ct { uint32_t key; Reg dreg; };                              // NFT_CT_*
struct Counter {};                                                   // anonymous counter
struct ObjRef { std::string counter; };                              // named counter object
struct Log { std::string prefix; };                                  // kernel log, default level
struct Limit { uint64_t rate; uint64_t unit_s; uint32_t burst; bool invert = false; };  // packets
struct Reject { uint32_t type; uint8_t code; };                      // NFT_REJECT_*, code per type
struct Nat { uint32_t type; uint32_t family; Reg addr_min; std::optional<Reg> proto_min; };  // NFT_NAT_DNAT/SNAT
struct Masq {};
struct Verdict { int32_t code; std::string chain; };                // NF_ACCEPT, NF_DROP, NFT_JUMP, NFT_GOTO, NFT_RETURN
struct Immediate { Reg dreg; Bytes data; };                         // dreg 0: use Verdict instead
using Expr = std::variant<Meta, Payload, Cmp, Range, Bitwise, Lookup, Ct, Counter, ObjRef, Log,
                          Limit, Reject, Nat, Masq, Verdict, Immediate>;

struct BaseHook {
    uint32_t hooknum;       // NF_INET_LOCAL_IN, ...
    int32_t priority;       // NF_IP_PRI_FILTER (0), dstnat -100, srcnat 100
    std::string type;       // "filter" or "nat"
    int32_t policy;         // NF_ACCEPT or NF_DROP
};

struct Chain {
    std::string name;
    std::optional<BaseHook> hook;   // unset: a regular chain (jump target)
    bool operator==(const Chain &) const = default;
};

// nft's datatype numbers, so `nft list` prints keys and data readably.
enum class DataType : uint32_t {
    verdict = 1, ipv4_addr = 7, ipv6_addr = 8, inet_proto = 12, inet_service = 13, ifname = 41,
};
// Length in bytes of one key field (concatenated fields are each padded to 4 bytes).
constexpr uint32_t field_len(DataType t)
{
    switch (t) {
    case DataType::ipv4_addr: return 4;
    case DataType::ipv6_addr: return 16;
    case DataType::inet_proto: return 1;
    case DataType::inet_service: return 2;
    case DataType::ifname: return 16;
    case DataType::verdict: return 0;
    }
    return 0;
}

struct Element {
    Bytes key;                       // all fields, each padded to a multiple of 4 bytes
    Bytes key_end;                   // interval sets: the inclusive last key; empty = key only
    std::optional<Verdict> verdict;  // verdict maps
    std::optional<uint64_t> timeout_ms;   // sets with timeouts; unset = the set's default (none)
    std::string comment;             // NFTA_SET_ELEM_USERDATA as nft writes comments
    std::string origin;              // names it in errors
};

struct Set {
    std::string name;
    std::vector<DataType> key;       // one field, or a concatenation
    std::optional<DataType> data;    // maps: DataType::verdict for verdict maps
    bool interval = false;           // ranges / prefixes (key_end used in elements)
    bool timeout = false;            // elements may carry timeouts
    std::string comment;
    std::vector<Element> elements;
    std::string origin;
};

struct Rule {
    std::string chain;
    std::vector<Expr> exprs;
    std::string comment;             // NFTA_RULE_USERDATA as nft writes comments
    std::string origin;
};

// The whole table. A full apply makes the kernel's table exactly this, in one batch.
struct Ruleset {
    std::vector<Chain> chains;       // base chains and jump targets
    std::vector<Set> sets;           // declared before the rules that use them
    std::vector<std::string> counters;  // named counter objects (kept across applies)
    std::vector<Rule> rules;         // in chain order
};

// An incremental change: only set elements (zone addresses, interface-to-zone maps,
// runtime rules with kernel timeouts).
struct ElementOp {
    enum class Kind : uint8_t { add, remove } kind = Kind::add;
    std::string set;
    Element element;
};

inline constexpr const char *table_name = "alopex";   // family NFPROTO_INET

} // namespace alopex::fwd::nft
