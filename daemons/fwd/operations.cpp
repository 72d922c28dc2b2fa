// SPDX-License-Identifier: GPL-2.0-or-later
// The queue of alopex-fwd's kernel operations (libcommon's JobQueue), and runtime rules
// added and removed through it. A step runs when the one before it is over; it reads the
// state as it is then, sends its batch, and changes the state only in the batch's
// completion, once the kernel has acked it. The journal line comes after that; when it cannot be written, the step
// undoes its change in the kernel before it lets the next one run.
#include <algorithm>

#include <fmt/format.h>

#include "alopex/log.hpp"
#include "compile/compile.hpp"
#include "manager.hpp"

namespace alopex::fwd {

void Manager::enqueue(Step step)
{
    ops_->enqueue(std::move(step));
}

void Manager::hold(const runtime::StoredRule &s, std::optional<RuntimeRule> parsed)
{
    state_.rules.insert_or_assign(s.id, s);
    deadlines_.add(s);
    if (!parsed) {
        resolved_.inactive.insert(s.id);
        return;
    }
    parsed->id = s.id;
    parsed->expires_at_us = s.expires_at_us;
    parsed->comment = s.comment;
    bool element = resolved_.placer.place(*parsed);
    if (!element && compile::Placer::shaped(*parsed))
        resolved_.blocked.insert(s.id);
    resolved_.active.insert_or_assign(s.id, ActiveRule{std::move(*parsed), element});
}

void Manager::drop(uint64_t id)
{
    auto st = state_.rules.find(id);
    if (st == state_.rules.end())
        return;
    deadlines_.remove(st->second);
    if (auto a = resolved_.active.find(id); a != resolved_.active.end()) {
        if (a->second.element)
            resolved_.placer.unplace(a->second.rule);
        resolved_.active.erase(a);
    }
    resolved_.blocked.erase(id);
    resolved_.inactive.erase(id);
    state_.rules.erase(st);
}

bool Manager::unblocks(const RuntimeRule &r) const
{
    if (resolved_.blocked.empty())
        return false;
    compile::Placer only;
    only.place(r);
    // Only later rules were placed after r (an earlier blocked one overlaps an earlier rule).
    for (auto it = resolved_.blocked.upper_bound(r.id); it != resolved_.blocked.end(); ++it)
        if (auto a = resolved_.active.find(*it); a != resolved_.active.end() && !only.fits(a->second.rule))
            return true;
    return false;
}

void Manager::restore(const std::vector<runtime::StoredRule> &gone)
{
    for (const auto &s : gone) {
        state_.rules.insert_or_assign(s.id, s);
        deadlines_.add(s);
    }
    resolved_ = resolve(*model_, state_);
}

void Manager::undo(Error cause, std::function<void(Result<>)> done)
{
    rebuild(Target{&*model_, std::nullopt, std::nullopt}, "undo", [this, cause, done](Result<> u) {
        if (!u)
            log::err("undo failed: {}", u.error().to_string());
        // The runtime state could not be saved: that stays the last error, however well
        // the undo went (a rebuild that succeeds clears LastError).
        set_last_error(cause.to_string());
        done(std::unexpected(cause));
    });
}

void Manager::add_rule(runtime::StoredRule s, RuntimeRule parsed, const char *why,
                       std::function<void(Result<>)> done)
{
    const auto now = realtime_us();
    const uint64_t next_before = state_.next_id;
    parsed.id = s.id;
    parsed.expires_at_us = s.expires_at_us;
    parsed.comment = s.comment;
    // A full rebuild with the rule (it says which rule the kernel refuses).
    auto full = [this, s, why, next_before, done](bool element) {
        runtime::State next = state_;
        next.rules.insert_or_assign(s.id, s);
        next.next_id = std::max(next.next_id, s.id + 1);
        Target t;
        t.model = &*model_;
        t.resolved = resolve(*model_, next);
        t.state = std::move(next);
        rebuild(std::move(t), why, [this, s, element, next_before, why, done](Result<> r) {
            if (!r)
                return done(std::move(r));
            persist_add(s, element, next_before, why, done);
        });
    };
    if (!resolved_.placer.fits(parsed))
        return full(false);
    auto ops = compile::runtime_ops(parsed, true, now);
    apply_elements(std::move(ops), why,
                   [this, s, parsed = std::move(parsed), next_before, why, full, done](Result<> r) {
                       if (!r)
                           return full(true);
                       state_.next_id = std::max(state_.next_id, s.id + 1);
                       hold(s, parsed);
                       persist_add(s, true, next_before, why, done);
                   });
}

void Manager::persist_add(const runtime::StoredRule &s, bool element, uint64_t next_before, const char *why,
                          std::function<void(Result<>)> done)
{
    runtime::Change c;
    c.kind = runtime::Change::Kind::add;
    c.rule = s;
    if (auto p = persist(std::move(c)); !p) {
        log::err("{}: cannot save the runtime state, undoing the change: {}", why, p.error().to_string());
        std::optional<RuntimeRule> rule;
        if (auto a = resolved_.active.find(s.id); a != resolved_.active.end())
            rule = a->second.rule;
        drop(s.id);
        state_.next_id = next_before;
        if (!element || !rule)
            return undo(p.error(), done);
        apply_elements(compile::runtime_ops(*rule, false, realtime_us()), "undo", [this, p, done](Result<> u) {
            if (!u)
                return undo(p.error(), done);
            set_last_error(p.error().to_string());   // as undo() does
            done(std::unexpected(p.error()));
        });
        return;
    }
    arm_expiry();
    if (on_changed)
        on_changed();
    done({});
}

void Manager::remove_rules(const std::vector<uint64_t> &ids, const char *why, std::function<void(Result<>)> done)
{
    const auto now = realtime_us();
    bool full = false;
    std::vector<nft::ElementOp> ops;
    std::vector<runtime::StoredRule> gone;
    for (uint64_t id : ids) {
        auto st = state_.rules.find(id);
        if (st == state_.rules.end())
            continue;
        gone.push_back(st->second);
        auto a = resolved_.active.find(id);
        if (a == resolved_.active.end())
            continue;   // inactive: nothing of it in the kernel
        const auto &[rule, element] = a->second;
        // A rule goes from a chain, or a blocked rule becomes elements: a full rebuild.
        if (!element || unblocks(rule)) {
            full = true;
            continue;
        }
        // Past its deadline the kernel's timeout removed the elements already.
        if (rule.expires_at_us == 0 || rule.expires_at_us > now) {
            auto mine = compile::runtime_ops(rule, false, now);
            ops.insert(ops.end(), mine.begin(), mine.end());
        }
    }
    if (gone.empty())
        return done({});
    auto rebuild_without = [this, gone, why, done] {
        runtime::State next = state_;
        for (const auto &s : gone)
            next.rules.erase(s.id);
        Target t;
        t.model = &*model_;
        t.resolved = resolve(*model_, next);
        t.state = std::move(next);
        rebuild(std::move(t), why, [this, gone, why, done](Result<> r) {
            if (!r)
                return done(std::move(r));
            persist_remove(gone, why, done);
        });
    };
    if (full)
        return rebuild_without();
    apply_elements(std::move(ops), why, [this, gone, why, done, rebuild_without](Result<> r) {
        // An element the kernel did not have (a timeout raced us) or refused: the full
        // rebuild makes the table exactly right, or says which rule is refused.
        if (!r)
            return rebuild_without();
        for (const auto &s : gone)
            drop(s.id);
        persist_remove(gone, why, done);
    });
}

void Manager::persist_remove(std::vector<runtime::StoredRule> gone, const char *why,
                             std::function<void(Result<>)> done)
{
    runtime::Change c;
    c.kind = runtime::Change::Kind::remove;
    for (const auto &s : gone)
        c.ids.push_back(s.id);
    if (auto p = persist(std::move(c)); !p) {
        log::err("{}: cannot save the runtime state, undoing the change: {}", why, p.error().to_string());
        restore(gone);
        return undo(p.error(), done);
    }
    arm_expiry();
    if (on_changed)
        on_changed();
    done({});
}

} // namespace alopex::fwd
