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
// Each step (the dumps one after the other, the batch, a retry without the persist flag)
// starts from the completion of the one before; nothing waits in recv().
#include "nft/session.hpp"

#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>
#include <set>

#include "alopex/netlink/requester.hpp"
#include "nft/dump.hpp"
#include "nft/encode.hpp"

namespace alopex::fwd::nft {

namespace {

constexpr int initial_rcvbuf = 4 << 20;   // 4 MiB, like nft's batch talk; grown per batch

using Shapes = std::map<std::string, SetShape, std::less<>>;

// The port id the kernel gave the socket (0: not a netlink socket, a test's peer).
uint32_t portid_of(int fd)
{
    sockaddr_nl a{};
    socklen_t len = sizeof a;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) < 0 || len < sizeof a || a.nl_family != AF_NETLINK)
        return 0;
    return a.nl_pid;
}

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
detail::Existing known_after(const Ruleset &rs, const Shapes &shapes, uint32_t flags)
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

std::vector<netlink::Ack> errors_of(std::vector<netlink::Ack> answers)
{
    std::erase_if(answers, [](const netlink::Ack &a) { return a.error == 0; });
    return answers;
}

} // namespace

struct Session::Impl {
    std::unique_ptr<netlink::Requester> req;
    uint32_t portid = 0;
    bool persist_supported = true;   // until the kernel says otherwise
    bool busy = false;               // an apply is under way
    Shapes shapes;                   // sets as last applied
    ApplyStats stats;
    // What of the table exists, as the last committed full apply left it, while no one
    // else can change it (it carries our owner flag); otherwise empty.
    std::optional<detail::Existing> known;

    // Numbers a batch built by `build(first)` from the Requester's sequence: built once
    // more should the numbers wrap in between.
    template <class F> auto numbered(F build) -> decltype(build(0u))
    {
        uint32_t first = req->reserve(0);
        auto b = build(first);
        if (!b)
            return b;
        uint32_t got = req->reserve((*b)->last_seq() - first + 1);
        if (got == first)
            return b;
        return build(got);
    }
};

// One full apply on its way: the wanted ruleset and what exists.
struct Session::Full {
    Ruleset rs;
    Shapes shapes;
    detail::Existing ex;
    int attempt = 0;
    Done done;
};

Result<std::unique_ptr<Session>> Session::open(sd_event *event)
{
    ALOPEX_TRY(channel, netlink::open_request_channel(NETLINK_NETFILTER, initial_rcvbuf));
    return create(event, std::move(channel));
}

Result<std::unique_ptr<Session>> Session::create(sd_event *event, std::unique_ptr<netlink::RequestChannel> channel,
                                                 std::chrono::microseconds timeout)
{
    std::unique_ptr<Session> s(new Session());
    s->impl_ = std::make_unique<Impl>();
    s->impl_->portid = portid_of(channel->fd());
    // nf_tables batches go out whole (max_send 0): the kernel takes BEGIN .. END from one
    // sendmsg() only.
    ALOPEX_TRY(req, netlink::Requester::create(event, std::move(channel), {.timeout = timeout, .max_send = 0}));
    s->impl_->req = std::move(req);
    return s;
}

Session::~Session() = default;

uint32_t Session::portid() const noexcept
{
    return impl_->portid;
}

const ApplyStats &Session::last_stats() const noexcept
{
    return impl_->stats;
}

void Session::later(Result<> r, Done done)
{
    // An empty batch completes with no answers, from the loop, after what is pending.
    impl_->req->submit({}, [r = std::move(r), done = std::move(done)](auto) mutable { done(std::move(r)); });
}

void Session::table(std::function<void(Result<TableInfo>)> done)
{
    detail::get_table(*impl_->req, impl_->portid, [this, done = std::move(done)](Result<TableInfo> t) {
        if (t)
            t->persist_supported = impl_->persist_supported;
        done(std::move(t));
    });
}

void Session::counters(CountersDone done)
{
    detail::dump_counters(*impl_->req, std::move(done));
}

void Session::apply(Ruleset rs, Done done)
{
    Impl &im = *impl_;
    if (im.busy)
        return later(fail(EBUSY, "nf_tables: an apply is under way already"), std::move(done));
    im.busy = true;
    auto f = std::make_shared<Full>();
    for (const Set &s : rs.sets)
        f->shapes.emplace(s.name, set_shape(s));
    f->rs = std::move(rs);
    f->done = [this, done = std::move(done)](Result<> r) {
        impl_->busy = false;
        done(std::move(r));
    };
    if (im.known) {
        f->ex = std::move(*im.known);
        im.known.reset();   // until this apply commits
        return send_full(std::move(f));
    }
    start_full(std::move(f));
}

void Session::start_full(std::shared_ptr<Full> f)
{
    detail::dump_existing(*impl_->req, impl_->portid, [this, f](Result<detail::Existing> ex) {
        if (!ex)
            return f->done(std::unexpected(ex.error()));
        f->ex = std::move(*ex);
        send_full(f);
    });
}

namespace {

// The batch of a full apply (the order is the one at the top of this file).
Result<std::unique_ptr<Batch>> full_batch(uint32_t first, const Ruleset &rs, const Shapes &shapes,
                                          const detail::Existing &ex, uint32_t flags, ApplyStats &st)
{
    st = ApplyStats{};
    auto b = std::make_unique<Batch>(first);
    b->table(flags);
    if (ex.table.exists)
        b->del_rules();
    for (const auto &[name, have] : ex.sets) {
        auto it = shapes.find(name);
        // Even a set that stays is made anew (no rule refers to it any more).
        b->del_set(name);
        if (it == shapes.end() || !detail::same_definition(have, it->second))
            ++st.sets_deleted;
    }
    std::set<std::string, std::less<>> want_chains, want_counters;
    for (const Chain &c : rs.chains)
        want_chains.insert(c.name);
    for (const std::string &c : rs.counters)
        want_counters.insert(c);
    for (const Chain &c : rs.chains) {
        auto it = ex.chains.find(c.name);
        if (it != ex.chains.end() && !same_hook(it->second.hook, c.hook)) {
            b->del_chain(c.name);
            ++st.chains_deleted;
        }
    }
    for (const auto &[name, have] : ex.chains)
        if (!want_chains.contains(name)) {
            b->del_chain(name);
            ++st.chains_deleted;
        }
    for (const Chain &c : rs.chains)
        b->chain(c);
    uint32_t set_id = 1;
    for (const Set &s : rs.sets) {
        b->set(s, shapes.at(s.name), set_id++);
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
        ALOPEX_TRY_VOID(b->elements(s.name, shapes.at(s.name), elems, false));
        st.elements += s.elements.size();
    }
    for (const std::string &c : rs.counters)
        if (!ex.counters.contains(c))   // an existing one keeps its values as it is
            b->counter(c);
    for (const auto &[name, v] : ex.counters)
        if (!want_counters.contains(name))
            b->del_obj(name);
    for (const Rule &r : rs.rules)
        ALOPEX_TRY_VOID(b->rule(r));
    st.rules = rs.rules.size();
    b->finish();
    st.messages = b->acked();
    return b;
}

} // namespace

void Session::send_full(std::shared_ptr<Full> f)
{
    Impl &im = *impl_;
    const uint32_t flags = im.persist_supported ? table_f_owner | table_f_persist : 0;
    ApplyStats st;
    auto b = im.numbered([&](uint32_t first) { return full_batch(first, f->rs, f->shapes, f->ex, flags, st); });
    if (!b)
        return later(std::unexpected(b.error()), f->done);
    std::shared_ptr<Batch> batch = std::move(*b);
    const uint32_t table_seq = batch->first_seq() + 1;
    im.req->submit(batch->bytes(), [this, f, batch, flags, table_seq, st](Result<std::vector<netlink::Ack>> r) {
        Impl &im = *impl_;
        if (!r)
            return f->done(std::unexpected(r.error()));
        auto errors = errors_of(std::move(*r));
        if (errors.empty()) {
            if (flags & table_f_owner)
                im.known = known_after(f->rs, f->shapes, flags);
            im.shapes = std::move(f->shapes);
            im.stats = st;
            ++commits_;
            return f->done({});
        }
        // A kernel before 6.9 knows no NFT_TABLE_F_PERSIST: without it an owned table
        // would vanish with us, so the table goes without owner and persist instead.
        bool persist_refused = std::any_of(errors.begin(), errors.end(), [&](const netlink::Ack &a) {
            return a.seq == table_seq && a.error == EOPNOTSUPP && (flags & table_f_persist);
        });
        if (persist_refused && f->attempt == 0) {
            im.persist_supported = false;
            ++f->attempt;
            return send_full(f);
        }
        f->done(std::unexpected(batch->refused(errors)));
    });
}

void Session::apply(std::vector<ElementOp> ops, Done done)
{
    Impl &im = *impl_;
    if (im.busy)
        return later(fail(EBUSY, "nf_tables: an apply is under way already"), std::move(done));
    if (ops.empty())
        return later({}, std::move(done));
    im.busy = true;
    Done finish = [this, done = std::move(done)](Result<> r) {
        impl_->busy = false;
        done(std::move(r));
    };
    auto list = std::make_shared<std::vector<ElementOp>>(std::move(ops));
    bool unknown = std::any_of(list->begin(), list->end(), [&](const ElementOp &op) { return !im.shapes.contains(op.set); });
    if (!unknown)
        return send_elements(std::move(list), std::move(finish));
    // Not applied by this session (yet): learn the definitions from the kernel.
    detail::dump_sets(*im.req, [this, list, finish = std::move(finish)](auto sets) mutable {
        if (!sets)
            return finish(std::unexpected(sets.error()));
        for (auto &[name, sh] : *sets)
            impl_->shapes.emplace(name, std::move(sh));
        send_elements(std::move(list), std::move(finish));
    });
}

void Session::send_elements(std::shared_ptr<std::vector<ElementOp>> list, Done done)
{
    Impl &im = *impl_;
    const auto &ops = *list;
    auto b = im.numbered([&](uint32_t first) -> Result<std::unique_ptr<Batch>> {
        auto b = std::make_unique<Batch>(first);
        std::vector<const Element *> run;
        for (size_t i = 0; i < ops.size();) {
            const ElementOp &op = ops[i];
            auto it = im.shapes.find(op.set);
            if (it == im.shapes.end())
                return failf(ENOENT, "{}: no set {} in table inet {}", op.element.origin, op.set, table_name);
            run.clear();
            size_t j = i;
            while (j < ops.size() && ops[j].set == op.set && ops[j].kind == op.kind)
                run.push_back(&ops[j++].element);
            ALOPEX_TRY_VOID(b->elements(op.set, it->second, run, op.kind == ElementOp::Kind::remove));
            i = j;
        }
        b->finish();
        return b;
    });
    if (!b)
        return later(std::unexpected(b.error()), std::move(done));
    std::shared_ptr<Batch> batch = std::move(*b);
    // The ops stay alive with the batch: its origins point into them.
    im.req->submit(batch->bytes(), [this, list, batch, done = std::move(done)](Result<std::vector<netlink::Ack>> r) {
        if (!r)
            return done(std::unexpected(r.error()));
        auto errors = errors_of(std::move(*r));
        if (!errors.empty())
            return done(std::unexpected(batch->refused(errors)));
        ++commits_;
        done({});
    });
}

} // namespace alopex::fwd::nft
