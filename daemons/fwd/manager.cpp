// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-fwd's state: the model, runtime rules and their expiry, full rebuilds and element
// batches, the generation and the last error.
#include "manager.hpp"

#include <arpa/inet.h>
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

std::optional<Cidr> host_cidr(uint8_t family, const std::string &text)
{
    Cidr c;
    if (family == AF_INET) {
        c.family = AF_INET;
        c.prefix = 32;
    } else if (family == AF_INET6) {
        c.family = AF_INET6;
        c.prefix = 128;
    } else {
        return std::nullopt;
    }
    if (inet_pton(family, text.c_str(), c.addr.data()) != 1)
        return std::nullopt;
    return c;
}

std::string address_text(const Cidr &c)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(c.family == AF_INET ? AF_INET : AF_INET6, c.addr.data(), buf, sizeof buf))
        return "?";
    return buf;
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

    // Runtime state. An unreadable file must not keep the firewall from following the
    // host: it is moved aside (for the admin to inspect) and fwd starts without it.
    const auto &sf = m->options_.state_file;
    auto st = runtime::load(sf);
    if (!st) {
        auto aside = sf;
        aside += ".invalid";
        std::error_code ec;
        std::filesystem::rename(sf, aside, ec);
        m->last_error_ = fmt::format("{} (moved to {}; starting without runtime rules)",
                                     st.error().to_string(), aside.string());
        log::err("{}", m->last_error_);
    } else {
        m->state_ = std::move(*st);
    }
    auto now = realtime_us();
    if (auto gone = runtime::expired(m->state_, now); !gone.empty()) {
        runtime::remove(m->state_, gone);
        log::info("{} runtime rule(s) expired while fwd was not running", gone.size());
        if (auto p = m->persist(m->state_); !p)
            log::warning("{}", p.error().to_string());
    }
    m->resolved_ = m->resolve(*m->model_, m->state_, now);

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

Resolved Manager::resolve(const Model &model, const runtime::State &state, uint64_t now_us) const
{
    Resolved out;
    compile::Placer placer;
    // Cache parses only under the committed model (a reload resolves under a new one).
    const bool cache = model_.has_value() && &model == &*model_;
    if (cache && parsed_gen_ != model_.generation()) {
        parsed_.clear();
        parsed_gen_ = model_.generation();
    }
    if (cache && parsed_.size() > 2 * state.rules.size() + 64)
        parsed_.clear();   // removed rules: drop their entries now and then
    for (const auto &s : state.rules) {
        if (s.expires_at_us != 0 && s.expires_at_us <= now_us)
            continue;
        Result<RuntimeRule> r;
        auto hit = cache ? parsed_.find(s.id) : parsed_.end();
        if (hit != parsed_.end() && hit->second.first == s.spec) {
            r = hit->second.second;
        } else {
            r = config::parse_spec(s.spec, model);
            if (cache && r)
                parsed_[s.id] = {s.spec, *r};
        }
        if (!r) {
            out.inactive.insert(s.id);
            continue;
        }
        r->id = s.id;
        r->expires_at_us = s.expires_at_us;
        r->comment = s.comment;
        // Placed in order, as compile() places them.
        out.element.push_back(placer.place(*r));
        out.active.push_back(std::move(*r));
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

Result<> Manager::rebuild(const Model &model, const runtime::State &state, const char *why)
{
    auto now = realtime_us();
    Resolved res = resolve(model, state, now);
    Membership mem = desired(model, state);
    compile::Dynamic dyn;
    dyn.interfaces = mem.interfaces;
    for (const auto &[zone, hosts] : mem.addresses)
        for (const auto &[c, _] : hosts)
            dyn.zone_addresses[zone].push_back(c);
    dyn.runtime = res.active;
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
    state_ = state;
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

Result<> Manager::persist(const runtime::State &state)
{
    if (options_.state_file.empty())
        return {};
    return runtime::save(options_.state_file, state);
}

std::optional<std::vector<nft::ElementOp>> Manager::runtime_delta(const Resolved &before,
                                                                  const Resolved &after,
                                                                  uint64_t now_us) const
{
    std::map<uint64_t, std::pair<const RuntimeRule *, bool>> b, a;
    for (size_t i = 0; i < before.active.size(); ++i)
        b.emplace(before.active[i].id, std::pair{&before.active[i], bool(before.element[i])});
    for (size_t i = 0; i < after.active.size(); ++i)
        a.emplace(after.active[i].id, std::pair{&after.active[i], bool(after.element[i])});
    std::vector<nft::ElementOp> removes, adds;
    for (const auto &[id, v] : b) {
        auto it = a.find(id);
        if (it != a.end()) {
            // Kept: it must stay where it is, as it is.
            if (it->second.second != v.second || !(*it->second.first == *v.first))
                return std::nullopt;
            continue;
        }
        if (!v.second)
            return std::nullopt;   // a rule-shaped rule goes: full rebuild
        if (v.first->expires_at_us != 0 && v.first->expires_at_us <= now_us)
            continue;              // the kernel's timeout removed the element already
        auto ops = compile::runtime_ops(*v.first, false, now_us);
        removes.insert(removes.end(), ops.begin(), ops.end());
    }
    for (const auto &[id, v] : a) {
        if (b.contains(id))
            continue;
        if (!v.second)
            return std::nullopt;   // a rule-shaped rule comes: full rebuild
        auto ops = compile::runtime_ops(*v.first, true, now_us);
        adds.insert(adds.end(), ops.begin(), ops.end());
    }
    removes.insert(removes.end(), adds.begin(), adds.end());
    return removes;
}

Result<> Manager::change_runtime(runtime::State next, const char *why)
{
    auto now = realtime_us();
    runtime::State old = state_;
    Resolved after = resolve(*model_, next, now);
    auto delta = runtime_delta(resolved_, after, now);
    Result<> r;
    if (delta) {
        r = apply_elements(*delta, why);
        if (r) {
            state_ = next;
            resolved_ = std::move(after);
        } else {
            // An element the kernel did not have (a timeout raced us) or refused: the full
            // rebuild makes the table exactly right, or says which rule is refused.
            r = rebuild(*model_, next, why);
        }
    } else {
        r = rebuild(*model_, next, why);
    }
    if (!r)
        return r;
    if (auto p = persist(state_); !p) {
        log::err("{}: cannot save the runtime state, undoing the change: {}", why,
                 p.error().to_string());
        set_last_error(p.error().to_string());
        if (auto u = rebuild(*model_, old, "undo"); !u)
            log::err("undo failed: {}", u.error().to_string());
        Error e = p.error();
        e.bus_name = bus_error::IOError;
        return std::unexpected(std::move(e));
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
    auto ids = runtime::expired(state_, now);
    if (ids.empty()) {
        arm_expiry();
        return;
    }
    runtime::State next = state_;
    runtime::remove(next, ids);
    std::string list;
    for (auto id : ids)
        list += fmt::format("{}{}", list.empty() ? "" : ", ", id);
    if (auto r = change_runtime(std::move(next), "expiry"); !r) {
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
    auto next = runtime::next_deadline(state_, 0);
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
