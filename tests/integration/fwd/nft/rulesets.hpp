// SPDX-License-Identifier: GPL-2.0-or-later
// Hand-built IR for the kernel tests (what compile/ would produce, written out here so
// the nf_tables side is tested on its own), and readers of `nft -j` output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nft/ir.hpp"

namespace alopex::fwd::nft::test {

Bytes ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
Bytes port(uint16_t p);   // 2 bytes, network order
Element cidr4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, int len, std::string comment = {});

// Version 1: base chain `input` (tcp dport 22 with counter c_ssh, comment "ssh"; iifname
// vmap @ifzone; ip saddr @addr4 accept; ip saddr . l4proto . th dport @rt accept),
// regular chains zone_wan and zone_lan, interval set addr4 (10.0.0.0/8, 192.168.1.1,
// 172.16.0.0/12 "rfc1918"), vmap ifzone ("eth0" : jump zone_wan), concat timeout set rt
// (1.2.3.4 . tcp . 80, 2000 ms), concat interval set cc (10.0.0.0/8 . 20-30).
Ruleset version1();
// Version 2: zone_lan removed, addr4 redefined (a comment), one rule fewer, an extra
// counter c_extra; rt and ifzone unchanged.
Ruleset version2();
// Two rulesets that differ in rule count and element count, for the observer.
Ruleset observed(bool b);

// `nft -j list table inet alopex` (throws when nft fails).
nlohmann::json list_table();
// How many objects of `kind` ("rule", "chain", "set", "counter") the listing holds.
size_t count(const nlohmann::json &j, const std::string &kind, const std::string &chain = {});
// The "elem" array of a set (empty when none).
nlohmann::json elements(const nlohmann::json &j, const std::string &set);
const nlohmann::json *find(const nlohmann::json &j, const std::string &kind, const std::string &name);

} // namespace alopex::fwd::nft::test
