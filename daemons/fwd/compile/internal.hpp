// SPDX-License-Identifier: GPL-2.0-or-later
// Shared helpers of the compiler (not a public interface): expression builders that
// produce exactly what nft sends for the same text, set/element encoding, names.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compile/compile.hpp"

namespace alopex::fwd::compile::detail {

using nft::Bytes;
using nft::Expr;
using Exprs = std::vector<Expr>;

// ---- names ------------------------------------------------------------------------
const char *hook_name(Hook h);
std::string zone_chain(const std::string &zone, Hook h);       // "<zone>_input"
std::string dnat_chain(const std::string &zone);               // "<zone>_dnat"
std::string addr_set(const std::string &zone, uint8_t family); // "<zone>_addr4"
std::string named_set(const std::string &name, uint8_t family);// "set_<name>4"
std::string rt_set(const std::string &zone, uint8_t family, Verdict v);  // "<zone>_rt4_accept"
// A zone/set name as the model allows it: [A-Za-z0-9_-]{1,20}.
bool valid_name(std::string_view s);

// ---- byte encodings (nf_tables registers hold network order for packet data, host
// order for meta/ct values) ------------------------------------------------------------
Bytes be16(uint16_t v);
Bytes host32(uint32_t v);
Bytes ifname_key(const std::string &ifname);   // 16 bytes, zero-padded
size_t addr_len(uint8_t family);               // 4 or 16 (0 otherwise)

// ---- intervals ---------------------------------------------------------------------
struct AddrRange {
    std::array<uint8_t, 16> first{}, last{};
    auto operator<=>(const AddrRange &) const = default;
};
// The CIDRs of one family as sorted, disjoint, non-adjacent inclusive ranges.
std::vector<AddrRange> merge_cidrs(const std::vector<net::Prefix> &cidrs, uint8_t family);
// Port ranges sorted, merged when they overlap or touch.
std::vector<PortRange> merge_ports(std::vector<PortRange> ports);
bool has_family(const std::vector<net::Prefix> &cidrs, uint8_t family);

// ---- expressions (nft's register numbering: 1 = NFT_REG_1) ----------------------------
Exprs match_nfproto(uint8_t family);                  // meta nfproto ipv4|ipv6
Exprs match_l4proto(uint8_t proto);                   // meta l4proto X
Exprs match_ct_bits(uint32_t key, uint32_t mask);     // ct state/status & mask != 0
Exprs match_meta_ifindex(uint32_t meta_key, uint32_t ifindex);
// ip/ip6 saddr or daddr == one CIDR, as nft shortens it (byte-aligned prefixes load
// fewer bytes, others go through bitwise).
Exprs match_cidr(const net::Prefix &c, bool source);
Exprs match_addr_lookup(uint8_t family, bool source, const std::string &set);
Exprs match_port(const PortRange &p, uint32_t offset);   // th sport (0) / dport (2)
Expr verdict(int32_t code, std::string chain = {});
Expr reject(RejectWith w);
Expr limit(const RateLimit &r);
uint8_t proto_number(Proto p);

// ---- sets --------------------------------------------------------------------------
nft::Set make_set(std::string name, std::vector<nft::DataType> key, bool interval,
                  std::string origin);
void add_addr_ranges(nft::Set &s, uint8_t family, const std::vector<AddrRange> &ranges,
                     const std::string &origin);
void add_port_ranges(nft::Set &s, const std::vector<PortRange> &ports,
                     const std::string &origin);
// One runtime-set key: addr . proto . port, each field padded to 4 bytes.
Bytes rt_key(uint8_t family, const uint8_t *addr, uint8_t proto, uint16_t port);

// ---- runtime rules -----------------------------------------------------------------
// Shape test without the overlap check.
bool element_shape(const RuntimeRule &r);
struct RtBox {                 // one element of a runtime set, as ranges
    uint8_t family;
    AddrRange addr;
    uint8_t proto;
    PortRange port;
};
std::vector<RtBox> rt_boxes(const RuntimeRule &r);
bool boxes_overlap(const RtBox &a, const RtBox &b);

// ---- zones -------------------------------------------------------------------------
// Zones in file order (zone_order), then any the order does not list, each once.
std::vector<const Zone *> ordered_zones(const Model &m);
// The verdict-map and masquerade elements of one interface in one zone.
std::vector<nft::ElementOp> interface_elements(const Zone &z, const std::string &ifname,
                                               bool add);

} // namespace alopex::fwd::compile::detail
