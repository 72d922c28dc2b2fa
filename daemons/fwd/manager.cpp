// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-fwd's state: the model, runtime rules and their expiry, full rebuilds and element
// batches, the generation and the last error.
#include "manager.hpp"

#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "alopex/ipc/firewall1.hpp"
#include "alopex/log.hpp"
#include "compile/compile.hpp"
#include "config/config.hpp"

namespace alopex::fwd {

namespace f1 = ipc::firewall1;

uint64_t realtime_us()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
}

uint64_t monotonic_us()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
}

Manager::Manager(sd_event *event, sd_bus *bus, std::unique_ptr<nft::Session> session,
                 ManagerOptions options)
    : event_(event), bus_(bus), session_(std::move(session)), options_(std::move(options))
{
}

Manager::~Manager() = default;

Result<std::unique_ptr<Manager>> Manager::create(sd_event *event, sd_bus *bus, Model model,
                                                 std::unique_ptr<nft::Session> session,
                                                 ManagerOptions options)
{
    std::unique_ptr<Manager> m(new Manager(event, bus, std::move(session), std::move(options)));
    (void)m->model_.update(Result<Model>(std::move(model)));

    m->load_state();
    m->deadlines_.rebuild(m->state_);
    m->resolved_ = m->resolve(*m->model_, m->state_);

    if (bus) {
        m->authority_ = std::make_unique<polkit::Authority>(bus);
        m->coalescer_ = std::make_unique<bus::PropertiesCoalescer>(bus, event);
        ALOPEX_TRY_VOID(m->attach_bus());
    }

    Manager *self = m.get();
    auto mo = m->options_.monitor;
    mo.ipv4_routes = mo.ipv6_routes = false;   // fwd follows links and addresses only
    netlink::MonitorCallbacks cb;
    cb.on_event = [self](const netlink::Event &e) { self->handle(e); };
    cb.on_synced = [self](bool initial) { self->handle_synced(initial); };
    cb.on_error = [](const Error &e) { log::warning("rtnetlink monitor: {}", e.to_string()); };
    auto mon = netlink::Monitor::create(event, std::move(mo), std::move(cb));
    if (!mon)
        return std::unexpected(mon.error());
    m->monitor_ = std::move(*mon);
    return m;
}

void Manager::load_state()
{
    // Damage must not keep the firewall from following the host, nor open it: what can be
    // read is kept (the snapshot, the journal up to its first bad line), panic mode stays
    // on or, when the snapshot itself is unreadable, goes on (runtime::recover), the
    // damaged files are kept as *.invalid for the administrator, and LastError says so.
    store_ = runtime::Store(runtime::store_options(options_.state_file));
    auto loaded = store_.load();
    const std::string damage = runtime::recover(loaded);
    state_ = std::move(loaded.state);
    bool compact = store_.journal_bytes() > 0;
    if (auto gone = runtime::expired(state_, realtime_us()); !gone.empty()) {
        runtime::remove(state_, gone);
        log::info("{} runtime rule(s) expired while fwd was not running", gone.size());
        compact = true;
    }
    if (!damage.empty()) {
        std::string kept;
        if (auto aside = store_.set_aside(state_); !aside) {
            kept = fmt::format("; the recovered state could not be saved: {}", aside.error().to_string());
        } else {
            for (size_t i = 0; i < aside->kept.size(); ++i)
                kept += fmt::format("{}{}", i == 0 ? "; the damaged files are kept as " : " and ",
                                    aside->kept[i].string());
            if (!aside->problems.empty())
                kept += "; " + aside->problems;
        }
        last_error_ = load_error_ = damage + kept;
        log::err("{}", last_error_);
        return;
    }
    // Start is a full rebuild anyway: begin with an empty journal.
    if (compact)
        if (auto p = store_.compact(state_); !p)
            log::warning("{}", p.error().to_string());
}

Resolved Manager::resolve(const Model &model, const runtime::State &state) const
{
    Resolved out;
    for (const auto &[id, s] : state.rules) {
        auto r = config::parse_spec(s.spec, model);
        if (!r) {
            out.inactive.insert(id);
            continue;
        }
        r->id = id;
        r->expires_at_us = s.expires_at_us;
        r->comment = s.comment;
        // Placed in order, as compile() places them.
        bool element = out.placer.place(*r);
        if (!element && compile::Placer::shaped(*r))
            out.blocked.insert(id);
        out.active.emplace(id, ActiveRule{std::move(*r), element});
    }
    return out;
}

void Manager::property_changed(const char *prop)
{
    if (coalescer_)
        coalescer_->mark(f1::path, f1::interface, prop);
}

void Manager::committed()
{
    ++generation_;
    property_changed(f1::property::Generation);
}

void Manager::set_last_error(std::string e)
{
    if (e == last_error_)
        return;
    last_error_ = std::move(e);
    property_changed(f1::property::LastError);
}

namespace {

Error kernel_error(Error e)
{
    if (e.bus_name.empty())
        e.bus_name = f1::error::KernelRefused;
    return e;
}

} // namespace

Result<> Manager::rebuild(const Model &model, const runtime::State &state, const char *why,
                          Resolved *given)
{
    auto now = realtime_us();
    Resolved fresh;
    if (!given)
        fresh = resolve(model, state);
    Resolved &res = given ? *given : fresh;
    Membership mem = desired(model, state.interfaces);
    compile::Dynamic dyn;
    dyn.interfaces = mem.interfaces;
    for (const auto &[zone, hosts] : mem.addresses)
        for (const auto &[c, _] : hosts)
            dyn.zone_addresses[zone].push_back(c);
    dyn.runtime.reserve(res.active.size());
    for (const auto &[_, a] : res.active)
        dyn.runtime.push_back(a.rule);
    dyn.now_us = now;
    dyn.panic = state.panic;
    auto rs = compile::compile(model, dyn);
    if (!rs) {
        Error e = rs.error();
        if (e.bus_name.empty())
            e.bus_name = bus_error::Internal;
        set_last_error(fmt::format("{}: {}", why, e.to_string()));
        log::err("{}: cannot compile the ruleset: {}", why, e.to_string());
        return std::unexpected(std::move(e));
    }
    if (auto r = session_->apply(*rs); !r) {
        set_last_error(fmt::format("{}: {}", why, r.error().to_string()));
        log::err("{}: the kernel refused the ruleset: {}", why, r.error().to_string());
        return std::unexpected(kernel_error(r.error()));
    }
    for (uint64_t id : res.inactive)
        log::warning("runtime rule {} does not fit firewall.toml any more (its zone or set is "
                     "gone): kept, but not applied", id);
    bool interfaces_changed = mem.interfaces != applied_.interfaces;
    bool addresses_changed = mem.addresses != applied_.addresses;
    bool panic_changed = state.panic != state_.panic;
    if (&state != &state_) {
        state_ = state;
        deadlines_.rebuild(state_);
    }
    if (&res != &resolved_)
        resolved_ = std::move(res);
    applied_ = std::move(mem);
    committed();
    set_last_error("");
    if (interfaces_changed)
        property_changed(f1::property::Interfaces);
    if (addresses_changed)
        property_changed(f1::property::ZoneAddresses);
    if (panic_changed)
        property_changed(f1::property::Panic);
    log::info("{}: ruleset applied ({} rules, {} sets, generation {})", why, rs->rules.size(),
              rs->sets.size(), generation_);
    if (on_changed && ready_)
        on_changed();
    return {};
}

Result<> Manager::apply_elements(std::span<const nft::ElementOp> ops, const char *why)
{
    if (ops.empty())
        return {};
    if (auto r = session_->apply(ops); !r) {
        set_last_error(fmt::format("{}: {}", why, r.error().to_string()));
        log::warning("{}: the kernel refused the element batch: {}", why, r.error().to_string());
        return std::unexpected(kernel_error(r.error()));
    }
    committed();
    set_last_error("");
    return {};
}

Result<> Manager::persist(runtime::Change c)
{
    if (auto p = store_.record(std::move(c), state_); !p) {
        Error e = p.error();
        e.bus_name = bus_error::IOError;
        set_last_error(e.to_string());
        return std::unexpected(std::move(e));
    }
    return {};
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

void Manager::replace_all()
{
    resolved_.placer = compile::Placer();
    resolved_.blocked.clear();
    for (auto &[id, a] : resolved_.active) {
        a.element = resolved_.placer.place(a.rule);
        if (!a.element && compile::Placer::shaped(a.rule))
            resolved_.blocked.insert(id);
    }
}

void Manager::restore(const std::vector<runtime::StoredRule> &gone)
{
    for (const auto &s : gone) {
        state_.rules.insert_or_assign(s.id, s);
        deadlines_.add(s);
    }
    resolved_ = resolve(*model_, state_);
}

Result<> Manager::add_rule(const runtime::StoredRule &s, RuntimeRule parsed, const char *why)
{
    const auto now = realtime_us();
    const uint64_t next_before = state_.next_id;
    state_.next_id = std::max(state_.next_id, s.id + 1);
    hold(s, std::move(parsed));
    const ActiveRule added = resolved_.active.at(s.id);
    Result<> r;
    if (added.element) {
        r = apply_elements(compile::runtime_ops(added.rule, true, now), why);
        if (!r)   // the full rebuild says which rule the kernel refuses
            r = rebuild(*model_, state_, why, &resolved_);
    } else {
        r = rebuild(*model_, state_, why, &resolved_);
    }
    if (!r) {
        drop(s.id);
        state_.next_id = next_before;
        return r;
    }
    runtime::Change c;
    c.kind = runtime::Change::Kind::add;
    c.rule = s;
    if (auto p = persist(std::move(c)); !p) {
        log::err("{}: cannot save the runtime state, undoing the change: {}", why, p.error().to_string());
        drop(s.id);
        state_.next_id = next_before;
        Result<> u;
        if (added.element)
            u = apply_elements(compile::runtime_ops(added.rule, false, now), "undo");
        if (!added.element || !u)
            u = rebuild(*model_, state_, "undo", &resolved_);
        if (!u)
            log::err("undo failed: {}", u.error().to_string());
        return p;
    }
    arm_expiry();
    if (on_changed)
        on_changed();
    return {};
}

Result<> Manager::remove_rules(const std::vector<uint64_t> &ids, const char *why)
{
    const auto now = realtime_us();
    bool full = false, again = false;
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
        if (!element) {
            full = true;   // a rule goes from a chain
            continue;
        }
        if (unblocks(rule))
            full = again = true;
        // Past its deadline the kernel's timeout removed the elements already.
        if (rule.expires_at_us == 0 || rule.expires_at_us > now) {
            auto mine = compile::runtime_ops(rule, false, now);
            ops.insert(ops.end(), mine.begin(), mine.end());
        }
    }
    if (gone.empty())
        return {};
    for (const auto &s : gone)
        drop(s.id);
    if (again)
        replace_all();
    Result<> r;
    if (!full) {
        r = apply_elements(ops, why);
        // An element the kernel did not have (a timeout raced us) or refused: the full
        // rebuild makes the table exactly right, or says which rule is refused.
        full = !r;
    }
    if (full)
        r = rebuild(*model_, state_, why, &resolved_);
    if (!r) {
        restore(gone);
        return r;
    }
    runtime::Change c;
    c.kind = runtime::Change::Kind::remove;
    for (const auto &s : gone)
        c.ids.push_back(s.id);
    if (auto p = persist(std::move(c)); !p) {
        log::err("{}: cannot save the runtime state, undoing the change: {}", why, p.error().to_string());
        restore(gone);
        if (auto u = rebuild(*model_, state_, "undo", &resolved_); !u)
            log::err("undo failed: {}", u.error().to_string());
        return p;
    }
    arm_expiry();
    if (on_changed)
        on_changed();
    return {};
}

int Manager::on_expiry(sd_event_source *, uint64_t, void *userdata) noexcept
{
    try {
        static_cast<Manager *>(userdata)->expire();
    } catch (const std::exception &e) {
        log::err("expiry: {}", e.what());
    }
    return 0;
}

void Manager::expire()
{
    auto now = realtime_us();
    auto ids = deadlines_.expired(now);
    if (ids.empty()) {
        arm_expiry();
        return;
    }
    std::string list;
    for (auto id : ids)
        list += fmt::format("{}{}", list.empty() ? "" : ", ", id);
    if (auto r = remove_rules(ids, "expiry"); !r) {
        log::err("removing expired runtime rule(s) {}: {}; trying again in 1 s", list,
                 r.error().to_string());
        // Try again a second later instead of at once.
        if (expiry_) {
            sd_event_source_set_time(expiry_.get(), now + 1000000);
            sd_event_source_set_enabled(expiry_.get(), SD_EVENT_ONESHOT);
        }
        return;
    }
    log::info("runtime rule(s) {} expired", list);
}

void Manager::arm_expiry()
{
    auto next = deadlines_.next(0);
    if (!next) {
        if (expiry_)
            sd_event_source_set_enabled(expiry_.get(), SD_EVENT_OFF);
        return;
    }
    if (!expiry_) {
        sd_event_source *src = nullptr;
        int r = sd_event_add_time(event_, &src, CLOCK_REALTIME, *next, 1000, &Manager::on_expiry, this);
        if (r < 0) {
            log::err("cannot arm the expiry timer: {}", strerror(-r));
            return;
        }
        expiry_.reset(src);
        return;
    }
    sd_event_source_set_time(expiry_.get(), *next);
    sd_event_source_set_enabled(expiry_.get(), SD_EVENT_ONESHOT);
}

Result<> Manager::reload()
{
    auto fresh = config::load(options_.config_file);
    if (!fresh) {
        Error e = fresh.error();
        e.bus_name = bus_error::InvalidArgument;
        return std::unexpected(std::move(e));
    }
    if (!ready_)
        return bus_fail(bus_error::Internal, "not ready yet: the first ruleset is not applied");
    ALOPEX_TRY_VOID(rebuild(*fresh, state_, "reload"));
    (void)model_.update(std::move(fresh));
    // A full rebuild: a good moment to start the journal afresh.
    if (store_.journal_bytes() > 0)
        if (auto p = store_.compact(state_); !p)
            log::warning("reload: {}", p.error().to_string());
    property_changed(f1::property::Zones);
    property_changed(f1::property::Rules);
    property_changed(f1::property::DefaultZone);
    arm_expiry();
    return {};
}

std::string Manager::status_line() const
{
    return fmt::format("{} zones, {} interfaces in zones, {} runtime rules{}, generation {}",
                       model_->zones.size(), applied_.interfaces.size(), resolved_.active.size(),
                       state_.panic ? ", PANIC MODE" : "", generation_);
}

} // namespace alopex::fwd
