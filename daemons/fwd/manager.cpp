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
#include "alopex/ipc/firewall1_spec.hpp"
#include "alopex/log.hpp"
#include "compile/compile.hpp"
#include "config/config.hpp"

namespace alopex::fwd {

namespace f1 = ipc::firewall1;
namespace api = ipc::firewall1::api;

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

Manager::Manager(sd_event *event, sd_bus *bus, std::unique_ptr<nft::Backend> session,
                 ManagerOptions options)
    : event_(event), bus_(bus), session_(std::move(session)), options_(std::move(options))
{
}

Manager::~Manager() = default;

Result<std::unique_ptr<Manager>> Manager::create(sd_event *event, sd_bus *bus, Model model,
                                                 std::unique_ptr<nft::Backend> session,
                                                 ManagerOptions options,
                                                 std::unique_ptr<netlink::Transport> transport)
{
    std::unique_ptr<Manager> m(new Manager(event, bus, std::move(session), std::move(options)));
    ALOPEX_TRY(ops, JobQueue::create(event));
    m->ops_ = std::move(ops);
    (void)m->model_.update(Result<Model>(std::move(model)));

    m->load_state();
    m->deadlines_.rebuild(m->state_);
    m->resolved_ = m->resolve(*m->model_, m->state_);

    if (bus) {
        ALOPEX_TRY_VOID(m->attach_bus());
        ALOPEX_TRY(ledger, Ledger::create(bus, event));
        m->ledger_ = std::move(ledger);
    }

    Manager *self = m.get();
    auto mo = m->options_.monitor;
    mo.ipv4_routes = mo.ipv6_routes = false;   // fwd follows links and addresses only
    netlink::MonitorCallbacks cb;
    cb.on_event = [self](const netlink::Event &e) { self->handle(e); };
    cb.on_synced = [self](bool initial) { self->handle_synced(initial); };
    cb.on_error = [](const Error &e) { log::warning("rtnetlink monitor: {}", e.to_string()); };
    ALOPEX_TRY_VOID(m->start_flushing());
    auto mon = transport ? netlink::Monitor::create(event, std::move(mo), std::move(cb), std::move(transport))
                         : netlink::Monitor::create(event, std::move(mo), std::move(cb));
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

void Manager::committed()
{
    ++generation_;
    property_changed(api::property::Generation);
}

void Manager::set_last_error(std::string e)
{
    if (e == last_error_)
        return;
    last_error_ = std::move(e);
    property_changed(api::property::LastError);
}

namespace {

Error kernel_error(Error e)
{
    if (e.bus_name.empty())
        e.bus_name = f1::error::KernelRefused;
    return e;
}

} // namespace

void Manager::rebuild(Target t, const char *why, std::function<void(Result<>)> done)
{
    auto now = realtime_us();
    const Model &model = *t.model;
    const runtime::State &state = t.state ? *t.state : state_;
    const Resolved &res = t.resolved ? *t.resolved : resolved_;
    // The membership from the monitor's state as it is now: the links marked so far are
    // in it; those marked while the batch is in flight stay marked for the next one.
    auto [taken, since] = take_dirty();
    (void)since;
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
        give_back(taken);
        Error e = rs.error();
        if (e.bus_name.empty())
            e.bus_name = bus_error::Internal;
        set_last_error(fmt::format("{}: {}", why, e.to_string()));
        log::err("{}: cannot compile the ruleset: {}", why, e.to_string());
        return done(std::unexpected(std::move(e)));
    }
    const size_t rules = rs->rules.size(), sets = rs->sets.size();
    auto target = std::make_shared<Target>(std::move(t));
    auto membership = std::make_shared<Membership>(std::move(mem));
    session_->apply(std::move(*rs), [this, target, membership, taken, why, rules, sets,
                                     done = std::move(done)](Result<> r) {
        if (!r) {
            give_back(taken);
            set_last_error(fmt::format("{}: {}", why, r.error().to_string()));
            log::err("{}: the kernel refused the ruleset: {}", why, r.error().to_string());
            return done(std::unexpected(kernel_error(r.error())));
        }
        const Resolved &res = target->resolved ? *target->resolved : resolved_;
        for (uint64_t id : res.inactive)
            log::warning("runtime rule {} does not fit firewall.toml any more (its zone or set is "
                         "gone): kept, but not applied", id);
        bool interfaces_changed = membership->interfaces != applied_.interfaces;
        bool addresses_changed = membership->addresses != applied_.addresses;
        bool panic_changed = target->state && target->state->panic != state_.panic;
        if (target->state) {
            state_ = std::move(*target->state);
            deadlines_.rebuild(state_);
        }
        if (target->resolved)
            resolved_ = std::move(*target->resolved);
        applied_ = std::move(*membership);
        committed();
        set_last_error("");
        if (interfaces_changed)
            property_changed(api::property::Interfaces);
        if (addresses_changed)
            property_changed(api::property::ZoneAddresses);
        if (panic_changed)
            property_changed(api::property::Panic);
        log::info("{}: ruleset applied ({} rules, {} sets, generation {})", why, rules, sets, generation_);
        if (on_changed && ready_)
            on_changed();
        done({});
    });
}

void Manager::apply_elements(std::vector<nft::ElementOp> ops, const char *why, std::function<void(Result<>)> done)
{
    if (ops.empty())
        return done({});
    session_->apply(std::move(ops), [this, why, done = std::move(done)](Result<> r) {
        if (!r) {
            set_last_error(fmt::format("{}: {}", why, r.error().to_string()));
            log::warning("{}: the kernel refused the element batch: {}", why, r.error().to_string());
            return done(std::unexpected(kernel_error(r.error())));
        }
        committed();
        set_last_error("");
        done({});
    });
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
    // In its turn, with the deadlines as they are then; one expiry step waits at a time.
    if (expiry_queued_)
        return;
    expiry_queued_ = true;
    enqueue([this](Next next) {
        expiry_queued_ = false;
        auto now = realtime_us();
        auto ids = deadlines_.expired(now);
        if (ids.empty()) {
            arm_expiry();
            return next();
        }
        std::string list;
        for (auto id : ids)
            list += fmt::format("{}{}", list.empty() ? "" : ", ", id);
        remove_rules(ids, "expiry", [this, ids, list, next](Result<> r) {
            if (!r) {
                log::err("removing expired runtime rule(s) {}: {}; trying again in 1 s", list,
                         r.error().to_string());
                // Try again a second later instead of at once.
                if (expiry_) {
                    sd_event_source_set_time(expiry_.get(), realtime_us() + 1000000);
                    sd_event_source_set_enabled(expiry_.get(), SD_EVENT_ONESHOT);
                }
                return next();
            }
            log::info("runtime rule(s) {} expired", list);
            record("fw.expire", {{"ids", ids}});
            next();
        });
    });
}

void Manager::record(std::string action, LedgerFields fields)
{
    if (ledger_)
        ledger_->action(std::move(action), std::move(fields));
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

void Manager::reload(std::function<void(Result<>)> done)
{
    enqueue([this, done = std::move(done)](Next next) {
        auto finish = [next, done](Result<> r) {
            done(std::move(r));
            next();
        };
        auto fresh = config::load(options_.config_file);
        if (!fresh) {
            Error e = fresh.error();
            e.bus_name = bus_error::InvalidArgument;
            return finish(std::unexpected(std::move(e)));
        }
        if (!ready_)
            return finish(bus_fail(bus_error::Internal, "not ready yet: the first ruleset is not applied"));
        auto model = std::make_shared<Model>(std::move(*fresh));
        Target t;
        t.model = model.get();
        t.resolved = resolve(*model, state_);
        rebuild(std::move(t), "reload", [this, model, finish](Result<> r) {
            if (!r)
                return finish(std::move(r));
            (void)model_.update(Result<Model>(std::move(*model)));
            // A full rebuild: a good moment to start the journal afresh.
            if (store_.journal_bytes() > 0)
                if (auto p = store_.compact(state_); !p)
                    log::warning("reload: {}", p.error().to_string());
            property_changed(api::property::Zones);
            property_changed(api::property::Rules);
            property_changed(api::property::DefaultZone);
            arm_expiry();
            finish({});
        });
    });
}

std::string Manager::status_line() const
{
    return fmt::format("{} zones, {} interfaces in zones, {} runtime rules{}, generation {}",
                       model_->zones.size(), applied_.interfaces.size(), resolved_.active.size(),
                       state_.panic ? ", PANIC MODE" : "", generation_);
}

} // namespace alopex::fwd
