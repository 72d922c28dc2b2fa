// SPDX-License-Identifier: GPL-2.0-or-later
// The state of one compile(): the ruleset under construction, with rules collected per
// chain (so each chain's rules stay in order however they are produced) and every set
// and chain name checked for uniqueness.
#pragma once

#include <unordered_map>
#include <unordered_set>

#include "compile/internal.hpp"

namespace alopex::fwd::compile::detail {

struct Builder {
    const Model &model;
    const Dynamic &dyn;
    nft::Ruleset rs;
    std::unordered_set<std::string> sets;
    std::unordered_map<std::string, std::vector<nft::Rule>> chain_rules;

    Builder(const Model &m, const Dynamic &d) : model(m), dyn(d) {}

    Result<> chain(std::string name, std::optional<nft::BaseHook> hook = std::nullopt);
    Result<> set(nft::Set s);
    nft::Set *find_set(const std::string &name);
    void rule(const std::string &chain, Exprs exprs, std::string comment = {},
              std::string origin = {});
    nft::Ruleset finish();
};

// Where a filter rule goes and what names it.
struct RuleCtx {
    std::string chain;        // the zone chain of the rule's hook
    std::string set_prefix;   // rule-local set names: "<prefix>_saddr4", "<prefix>_dport"
    std::string counter;      // named counter to reference; "" = none
    std::string comment;
    std::string origin;
};

Result<> emit_rule(Builder &b, const Rule &r, const RuleCtx &ctx);
// A port forward: its DNAT rule into `<zone>_dnat` at once, the forward-chain accept into
// `accepts` (the caller places them after the zone's runtime rules).
Result<> emit_forward(Builder &b, const Forward &f, const std::string &zone,
                      const std::string &set_prefix, const std::string &origin,
                      std::vector<nft::Rule> &accepts);

} // namespace alopex::fwd::compile::detail
