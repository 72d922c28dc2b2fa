// SPDX-License-Identifier: GPL-2.0-or-later
// What the kernel tests share: a fresh table state (our table gone, the foreign table
// `table ip foreign` created anew), sessions, and checks through nft.
//
// SessionLoop: a Session on an event loop of its own, each call run until it completes
// (the tests check the kernel's state after each step; the Session itself never waits).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "alopex/sd.hpp"
#include "nft/session.hpp"
#include "rulesets.hpp"

namespace alopex::fwd::nft::test {

class SessionLoop {
public:
    static Result<std::unique_ptr<SessionLoop>> open();
    Result<> apply(const Ruleset &rs);
    Result<> apply(const std::vector<ElementOp> &ops);
    Result<std::map<std::string, CounterValue>> counters();
    Result<TableInfo> table();
    uint32_t portid() const noexcept { return session_->portid(); }
    const ApplyStats &last_stats() const noexcept { return session_->last_stats(); }
    uint64_t commits() const noexcept { return session_->commits(); }

private:
    // Runs the loop until `start`'s callback has the result.
    template <class T, class Start> Result<T> wait(Start start);
    EventPtr event_;
    std::unique_ptr<Session> session_;
};

void fresh();
std::string foreign();   // `nft -j list table ip foreign`
// `nft -j list table inet alopex` without what changes by itself while nothing is applied:
// an element's remaining lifetime ("expires"), which ticks down in whole seconds.
std::string our_table_still();
std::unique_ptr<SessionLoop> open_session();
void apply_ok(SessionLoop &s, const Ruleset &rs);
std::vector<std::string> table_flags(const nlohmann::json &j);
bool has(const std::vector<std::string> &v, const std::string &x);
bool nft_has(const std::string &what, const std::string &needle);   // in `nft list <what>`
ElementOp op(ElementOp::Kind k, std::string set, Element e);
// Whether this kernel takes NFT_TABLE_F_PERSIST (>= 6.9); learnt by one apply.
bool kernel_has_persist();

} // namespace alopex::fwd::nft::test
