// SPDX-License-Identifier: GPL-2.0-or-later
// Session: the apply logic. A full apply dumps what of our table exists (never any other
// table), then sends one batch in this order:
//   NEWTABLE(owner|persist) ; DELRULE (all of ours) ; DELSET (all of ours) ; DELCHAIN
//   (unwanted or hook changed) ; NEWCHAIN (all) ; NEWSET (all) ; NEWSETELEM ; NEWOBJ (new
//   counters) / DELOBJ (unwanted) ; NEWRULE (all) ; END
// so the kernel switches from the old table to the new one in a single commit. Sets are
// made anew rather than flushed: 100,000 new elements inserted among 100,000 flushed ones
// still in the kernel's tree until the commit cost far more (like `nft -f` replacing a
// table). Existing counters are not sent again: they keep their values as they are.
// While the table is ours (flag owner: the kernel refuses every other socket's change to
// it) what the last committed batch made of it is known, so the dump is skipped; after a
// refused batch, a takeover or without the owner flag, it is dumped again.
#include "nft/session.hpp"

#include <linux/netfilter/nf_tables.h>

#include <ctime>
#include <optional>
#include <set>

#include "nft/dump.hpp"
#include "nft/encode.hpp"
#include "nft/socket.hpp"

namespace alopex::fwd::nft {

struct Session::Impl {
    detail::Socket sock;
    uint32_t seq = 0;
    bool persist_supported = true;   // until the kernel says otherwise
    std::map<std::string, SetShape, std::less<>> shapes;   // sets as last applied
    ApplyStats stats;
    // What of the table exists, as the last committed full apply left it, while no one
    // else can change it (it carries our owner flag); otherwise empty.
    std::optional<detail::Existing> known;
};

Result<std::unique_ptr<Session>> Session::open()
{
    ALOPEX_TRY(sock, detail::Socket::open());
    std::unique_ptr<Session> s(new Session());
    s->impl_ = std::make_unique<Impl>(Impl{std::move(sock), static_cast<uint32_t>(time(nullptr)),
                                          true, {}, {}, std::nullopt});
    return s;
}

Session::~Session() = default;

uint32_t Session::portid() const noexcept
{
    return impl_->sock.portid();
}

const ApplyStats &Session::last_stats() const noexcept
{
    return impl_->stats;
}

Result<TableInfo> Session::table()
{
    ALOPEX_TRY(t, detail::get_table(impl_->sock, impl_->seq));
    t.persist_supported = impl_->persist_supported;
    return t;
}

Result<std::map<std::string, CounterValue>> Session::counters()
{
    return detail::dump_counters(impl_->sock, impl_->seq);
}

namespace {

bool same_hook(const std::optional<BaseHook> &have, const std::optional<BaseHook> &want)
{
    if (have.has_value() != want.has_value())
        return false;
    if (!have)
        return true;
    return have->hooknum == want->hooknum && have->priority == want->priority &&
           have->type == want->type;
}

// What the table holds once `rs` is committed (counter values are not tracked).
detail::Existing known_after(const Ruleset &rs,
                             const std::map<std::string, SetShape, std::less<>> &shapes,
                             uint32_t flags)
{
    detail::Existing k;
    k.table.exists = true;
    k.table.flags = flags;
    k.table.ours = true;
    for (const Chain &c : rs.chains)
        k.chains[c.name].hook = c.hook;
    for (const auto &[name, shape] : shapes)
        k.sets.emplace(name, shape);
    for (const std::string &c : rs.counters)
        k.counters.emplace(c, CounterValue{});
    return k;
}

} // namespace

Result<> Session::apply(const Ruleset &rs)
{
    Impl &im = *impl_;
    detail::Existing ex;
    if (im.known) {
        ex = std::move(*im.known);
        im.known.reset();   // until this apply commits
    } else {
        ALOPEX_TRY(dumped, detail::dump_existing(im.sock, im.seq));
        ex = std::move(dumped);
    }

    std::map<std::string, SetShape, std::less<>> shapes;
    for (const Set &s : rs.sets)
        shapes.emplace(s.name, set_shape(s));
    std::set<std::string, std::less<>> want_chains, want_counters;
    for (const Chain &c : rs.chains)
        want_chains.insert(c.name);
    for (const std::string &c : rs.counters)
        want_counters.insert(c);

    for (int attempt = 0; attempt < 2; ++attempt) {
        ApplyStats st;
        uint32_t flags = im.persist_supported ? table_f_owner | table_f_persist : 0;
        Batch b(im.seq);
        b.table(flags);
        uint32_t table_seq = b.first_seq() + 1;
        if (ex.table.exists)
            b.del_rules();
        for (const auto &[name, have] : ex.sets) {
            auto it = shapes.find(name);
            // Even a set that stays is made anew (no rule refers to it any more).
            b.del_set(name);
            if (it == shapes.end() || !detail::same_definition(have, it->second))
                ++st.sets_deleted;
        }
        for (const Chain &c : rs.chains) {
            auto it = ex.chains.find(c.name);
            if (it != ex.chains.end() && !same_hook(it->second.hook, c.hook)) {
                b.del_chain(c.name);
                ++st.chains_deleted;
            }
        }
        for (const auto &[name, have] : ex.chains)
            if (!want_chains.contains(name)) {
                b.del_chain(name);
                ++st.chains_deleted;
            }
        for (const Chain &c : rs.chains)
            b.chain(c);
        uint32_t set_id = 1;
        for (const Set &s : rs.sets) {
            b.set(s, shapes.at(s.name), set_id++);
            auto have = ex.sets.find(s.name);
            if (have == ex.sets.end() || !detail::same_definition(have->second, shapes.at(s.name)))
                ++st.sets_created;
        }
        std::vector<const Element *> elems;
        for (const Set &s : rs.sets) {
            if (s.elements.empty())
                continue;
            elems.clear();
            for (const Element &e : s.elements)
                elems.push_back(&e);
            ALOPEX_TRY_VOID(b.elements(s.name, shapes.at(s.name), elems, false));
            st.elements += s.elements.size();
        }
        for (const std::string &c : rs.counters)
            if (!ex.counters.contains(c))   // an existing one keeps its values as it is
                b.counter(c);
        for (const auto &[name, v] : ex.counters)
            if (!want_counters.contains(name))
                b.del_obj(name);
        for (const Rule &r : rs.rules)
            ALOPEX_TRY_VOID(b.rule(r));
        st.rules = rs.rules.size();
        b.finish();
        st.messages = b.acked();
        im.seq = b.last_seq() + 1;

        ALOPEX_TRY(errors, im.sock.talk(b.raw(), b.first_seq(), b.last_seq(), b.acked()));
        if (errors.empty()) {
            if (flags & table_f_owner)
                im.known = known_after(rs, shapes, flags);
            im.shapes = std::move(shapes);
            im.stats = st;
            ++commits_;
            return {};
        }
        // A kernel before 6.9 knows no NFT_TABLE_F_PERSIST: without it an owned table
        // would vanish with us, so the table goes without owner and persist instead.
        bool persist_refused = false;
        for (const auto &a : errors)
            if (a.seq == table_seq && a.error == EOPNOTSUPP && flags & table_f_persist)
                persist_refused = true;
        if (persist_refused && attempt == 0) {
            im.persist_supported = false;
            continue;
        }
        return std::unexpected(b.refused(errors));
    }
    return fail(EIO, "unreachable");
}

Result<> Session::apply(std::span<const ElementOp> ops)
{
    Impl &im = *impl_;
    if (ops.empty())
        return {};
    Batch b(im.seq);
    std::vector<const Element *> run;
    size_t i = 0;
    while (i < ops.size()) {
        const ElementOp &op = ops[i];
        auto it = im.shapes.find(op.set);
        if (it == im.shapes.end()) {
            // Not applied by this session (yet): learn the definitions from the kernel.
            ALOPEX_TRY(sets, detail::dump_sets(im.sock, im.seq));
            for (auto &[name, sh] : sets)
                im.shapes.emplace(name, std::move(sh));
            it = im.shapes.find(op.set);
            if (it == im.shapes.end())
                return failf(ENOENT, "{}: no set {} in table inet {}", op.element.origin, op.set,
                             table_name);
        }
        run.clear();
        size_t j = i;
        while (j < ops.size() && ops[j].set == op.set && ops[j].kind == op.kind)
            run.push_back(&ops[j++].element);
        ALOPEX_TRY_VOID(b.elements(op.set, it->second, run, op.kind == ElementOp::Kind::remove));
        i = j;
    }
    b.finish();
    im.seq = b.last_seq() + 1;
    ALOPEX_TRY(errors, im.sock.talk(b.raw(), b.first_seq(), b.last_seq(), b.acked()));
    if (!errors.empty())
        return std::unexpected(b.refused(errors));
    ++commits_;
    return {};
}

} // namespace alopex::fwd::nft
