// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Firewall1 at /org/alopex/Firewall1, bound to the spec generated from
// ipc/org.alopex.Firewall1.xml (bus::Vtable): typed handlers, one getter per property.
// Every mutating method: check the arguments (InvalidArgument naming the argument or
// spec key, NoSuchId), then polkit (org.alopex.firewall.configure, asynchronous: the
// handler runs again with the same message once polkit has answered, so it re-reads and
// re-checks), then one batch in the Manager's queue of kernel operations, whose step
// checks again what may have changed while it waited; the reply goes (bus::PendingReply)
// when the kernel has answered. A refused call changes nothing, in the kernel or in
// memory. Reload has no arguments: it asks polkit before it reads firewall.toml at all.
// GetCounters dumps the counters without waiting in the queue: it changes nothing.
// A call that succeeded is recorded in the audit ledger (ledger.hpp) before its reply.
#include <map>
#include <memory>

#include <fmt/format.h>

#include "alopex-config.h"
#include "alopex/ipc/firewall1.hpp"
#include "alopex/ipc/firewall1_spec.hpp"
#include "alopex/ipc/firewall1_types.hpp"
#include "alopex/log.hpp"
#include "compile/compile.hpp"
#include "config/config.hpp"
#include "manager.hpp"

namespace alopex::fwd {

namespace f1 = ipc::firewall1;
namespace api = ipc::firewall1::api;

namespace {


// The obligation to answer `c` later, shared by the callbacks of its operation.
std::shared_ptr<bus::PendingReply> later(bus::Call &c)
{
    return std::make_shared<bus::PendingReply>(c.defer());
}

// Errors of the model code without a bus name are errors of the argument `arg`.
Error argument_error(Error e, std::string_view arg)
{
    if (e.bus_name.empty())
        return Error{EINVAL, fmt::format("{}: {}", arg, e.to_string()), bus_error::InvalidArgument};
    return e;
}

std::vector<f1::ZoneInfo> zones_of(const Model &model)
{
    std::vector<f1::ZoneInfo> out;
    for (const auto &name : model.zone_order) {
        auto z = model.zones.find(name);
        if (z == model.zones.end())
            continue;
        out.push_back(f1::ZoneInfo{z->second.name, z->second.interfaces,
                                   std::string(config::to_string(z->second.input)),
                                   std::string(config::to_string(z->second.forward)),
                                   std::string(config::to_string(z->second.output)),
                                   z->second.masquerade});
    }
    return out;
}

std::vector<f1::RuleInfo> rules_of(const Model &model)
{
    std::vector<f1::RuleInfo> out;
    for (const auto &name : model.zone_order) {
        auto z = model.zones.find(name);
        if (z == model.zones.end())
            continue;
        for (const auto &rule : z->second.rules)
            out.push_back(f1::RuleInfo{name, config::format_rule(name, rule), rule.comment});
        for (const auto &fw : z->second.forwards)
            out.push_back(f1::RuleInfo{name, config::format_forward(name, fw), fw.comment});
    }
    return out;
}

std::map<std::string, std::vector<std::string>> addresses_of(const Membership &m)
{
    std::map<std::string, std::vector<std::string>> out;
    for (const auto &[zone, hosts] : m.addresses) {
        auto &list = out[zone];
        for (const auto &[c, _] : hosts)
            list.push_back(c.to_string());
    }
    return out;
}

std::vector<f1::LatencyBucket> latency_of(const Histogram &h)
{
    std::vector<f1::LatencyBucket> out;
    for (const auto &[bound, count] : h.buckets())
        out.push_back(f1::LatencyBucket{bound, count});
    return out;
}

const bus::Vtable<Manager> &vtable()
{
    static const auto vt =
        bus::Vtable<Manager>(api::spec)
            .method(api::method::Version, &Manager::bus_version)
            .method(api::method::AddRule, &Manager::bus_add_rule)
            .method(api::method::RemoveRule, &Manager::bus_remove_rule)
            .method(api::method::ListRuntimeRules, &Manager::bus_list_runtime_rules)
            .method(api::method::SetInterfaceZone, &Manager::bus_set_interface_zone)
            .method(api::method::Panic, &Manager::bus_panic)
            .method(api::method::Reload, &Manager::bus_reload)
            .method(api::method::GetCounters, &Manager::bus_get_counters)
            .property(api::property::Zones, [](const Manager &m) { return zones_of(m.model()); })
            .property(api::property::Rules, [](const Manager &m) { return rules_of(m.model()); })
            .property(api::property::Interfaces,
                      [](const Manager &m) { return m.membership().interfaces; })
            .property(api::property::ZoneAddresses,
                      [](const Manager &m) { return addresses_of(m.membership()); })
            .property(api::property::Panic, [](const Manager &m) { return m.state().panic; })
            .property(api::property::DefaultZone,
                      [](const Manager &m) { return m.model().default_zone; })
            .property(api::property::Generation, [](const Manager &m) { return m.generation(); })
            .property(api::property::LatencyHistogram,
                      [](const Manager &m) { return latency_of(m.histogram()); })
            .property(api::property::LastError, [](const Manager &m) { return m.last_error(); });
    return vt;
}

} // namespace

Result<> Manager::attach_bus()
{
    service_ = std::make_unique<bus::Service>(bus_, event_);
    ALOPEX_TRY(reg, service_->add(f1::path, vtable(), *this));
    registration_ = std::move(reg);
    return {};
}

void Manager::property_changed(const bus::PropertySpec &prop)
{
    if (service_)
        service_->changed(f1::path, api::spec, prop);
}

// Checks polkit, then that the first ruleset is in (a call before it cannot change a
// table that is not there yet). False: the call was answered or waits for polkit.
bool Manager::authorize_ready(bus::Call &c)
{
    if (!c.authorize(f1::polkit_action))
        return false;
    if (!ready_) {
        c.fail(bus_error::Internal, "not ready yet: the first ruleset is not applied");
        return false;
    }
    return true;
}

Manager::Caller Manager::caller_of(const bus::Call &c)
{
    return Caller{std::string(c.sender()), std::string(c.member())};
}

void Manager::record_call(const Caller &c, LedgerFields fields)
{
    if (ledger_)
        ledger_->caller_action(c.sender, fmt::format("fw.{}", c.member), std::move(fields));
}

void Manager::bus_version(bus::Call &c)
{
    c.reply(std::string(ALOPEX_VERSION));
}

namespace {

// Whether the rule `spec` can be added to `state` under `model` (parsed, when it can).
Result<RuntimeRule> admissible(const std::string &spec, const Model &model, const runtime::State &state)
{
    auto rule = config::parse_spec(spec, model);
    if (!rule)
        return std::unexpected(argument_error(rule.error(), "spec"));
    if (state.rules.size() >= runtime::max_rules)
        return bus_fail(bus_error::InvalidArgument, "spec: there are {} runtime rules already", state.rules.size());
    if (state.next_id > runtime::max_id)
        return bus_fail(bus_error::InvalidArgument, "spec: every rule id up to {} has been given", runtime::max_id);
    return rule;
}

} // namespace

void Manager::bus_add_rule(bus::Call &c, std::string spec, uint32_t expires_s, std::string comment)
{
    if (spec.size() > runtime::max_spec)
        return c.invalid("spec", "longer than {} bytes", runtime::max_spec);
    if (!c.ok(admissible(spec, *model_, state_)) || !c.ok(runtime::check_comment(comment)))
        return;
    if (!authorize_ready(c))
        return;
    enqueue([this, reply = later(c), who = caller_of(c), spec, expires_s,
             comment](Next next) {
        // Again in its turn: a Reload or other rules may have come first.
        auto rule = admissible(spec, *model_, state_);
        if (!rule) {
            reply->fail(rule.error());
            return next();
        }
        runtime::StoredRule s;
        s.id = state_.next_id;
        s.zone = rule->zone;
        s.spec = config::format_spec(*rule);
        s.expires_at_us = expires_s ? realtime_us() + uint64_t(expires_s) * 1000000u : 0;
        s.comment = comment;
        add_rule(s, std::move(*rule), "AddRule", [this, reply, who, s, expires_s, next](Result<> r) {
            if (!r) {
                reply->fail(r.error());
                return next();
            }
            log::info({{"ALOPEX_OP", "AddRule"}, {"ALOPEX_ZONE", s.zone}, {"ALOPEX_SENDER", who.name()}},
                      "runtime rule {} added by {}: {}{}", s.id, who.name(), s.spec,
                      expires_s ? fmt::format(" (expires in {} s)", expires_s) : std::string());
            record_call(who,
                        {{"id", s.id}, {"spec", s.spec}, {"expires_s", uint64_t(expires_s)}, {"comment", s.comment}});
            reply->reply(s.id);
            next();
        });
    });
}

void Manager::bus_remove_rule(bus::Call &c, uint64_t id)
{
    if (!runtime::find(state_, id))
        return c.fail(bus_error::NoSuchId, "id: no runtime rule {}", id);
    if (!authorize_ready(c))
        return;
    enqueue([this, reply = later(c), who = caller_of(c), id](Next next) {
        if (!runtime::find(state_, id)) {   // gone meanwhile (expired, or removed by another call)
            reply->fail(Error{ENOENT, fmt::format("id: no runtime rule {}", id), bus_error::NoSuchId});
            return next();
        }
        remove_rules({id}, "RemoveRule", [this, reply, who, id, next](Result<> r) {
            if (!r) {
                reply->fail(r.error());
                return next();
            }
            log::info({{"ALOPEX_OP", "RemoveRule"}, {"ALOPEX_SENDER", who.name()}}, "runtime rule {} removed by {}",
                      id, who.name());
            record_call(who, {{"id", id}});
            reply->reply();
            next();
        });
    });
}

void Manager::bus_list_runtime_rules(bus::Call &c)
{
    const auto now = realtime_us();
    std::vector<f1::RuntimeRuleInfo> out;
    out.reserve(state_.rules.size());
    for (const auto &[_, s] : state_.rules) {
        const char *place = "inactive";
        if (s.expires_at_us != 0 && s.expires_at_us <= now)
            place = "expired";   // about to go (the expiry timer runs next)
        else if (auto it = resolved_.active.find(s.id); it != resolved_.active.end())
            place = it->second.element ? "element" : "rule";
        out.push_back(f1::RuntimeRuleInfo{s.id, s.zone, s.spec, s.comment, s.expires_at_us, place});
    }
    c.reply(out);
}

void Manager::bus_set_interface_zone(bus::Call &c, std::string ifname, std::string zone)
{
    if (!runtime::valid_ifname(ifname))
        return c.invalid("interface", "'{}' is not a valid interface name", ifname);
    if (!zone.empty() && !model_->zones.contains(zone))
        return c.invalid("zone", "there is no zone '{}' in firewall.toml", zone);
    if (!authorize_ready(c))
        return;
    enqueue([this, reply = later(c), who = caller_of(c), ifname,
             zone](Next next) {
        if (!zone.empty() && !model_->zones.contains(zone)) {   // a Reload came first
            reply->fail(Error{EINVAL, fmt::format("zone: there is no zone '{}' in firewall.toml", zone),
                              bus_error::InvalidArgument});
            return next();
        }
        auto assigned = state_.interfaces;
        if (zone.empty())
            assigned.erase(ifname);
        else
            assigned[ifname] = zone;
        if (assigned == state_.interfaces) {
            record_call(who, {{"interface", ifname}, {"zone", zone}, {"changed", false}});
            reply->reply();
            return next();
        }
        auto old = state_.interfaces;
        mark_name(ifname);
        flush_membership(std::move(assigned), [this, reply, who, ifname, zone, old, next](Result<> r, bool) {
            if (!r) {
                reply->fail(r.error());
                return next();
            }
            runtime::Change ch;
            ch.kind = runtime::Change::Kind::interface;
            ch.ifname = ifname;
            ch.zone = zone;
            if (auto p = persist(std::move(ch)); !p) {
                log::err("SetInterfaceZone: cannot save the runtime state, undoing: {}", p.error().to_string());
                mark_name(ifname);
                flush_membership(old, [reply, p, next](Result<>, bool) {
                    reply->fail(p.error());
                    next();
                });
                return;
            }
            log::info({{"ALOPEX_OP", "SetInterfaceZone"}, {"ALOPEX_LINK", ifname}, {"ALOPEX_ZONE", zone}},
                      "{} assigned to zone '{}' by {}", ifname, zone, who.name());
            record_call(who, {{"interface", ifname}, {"zone", zone}, {"changed", true}});
            reply->reply();
            next();
        });
    });
}

void Manager::bus_panic(bus::Call &c, bool on)
{
    if (!authorize_ready(c))
        return;
    enqueue([this, reply = later(c), who = caller_of(c), on](Next next) {
        if (on == state_.panic) {
            record_call(who, {{"on", on}, {"changed", false}});
            reply->reply();
            return next();
        }
        runtime::State with = state_;
        with.panic = on;
        rebuild(Target{&*model_, std::move(with), std::nullopt}, on ? "panic on" : "panic off",
                [this, reply, who, on, next](Result<> r) {
                    if (!r) {
                        reply->fail(r.error());
                        return next();
                    }
                    runtime::Change ch;
                    ch.kind = runtime::Change::Kind::panic;
                    ch.panic = on;
                    if (auto p = persist(std::move(ch)); !p) {
                        log::err("Panic: cannot save the runtime state, undoing: {}", p.error().to_string());
                        runtime::State back = state_;
                        back.panic = !on;
                        rebuild(Target{&*model_, std::move(back), std::nullopt}, "undo", [reply, p, next](Result<>) {
                            reply->fail(p.error());
                            next();
                        });
                        return;
                    }
                    log::notice({{"ALOPEX_OP", "Panic"}, {"ALOPEX_SENDER", who.name()}}, "panic mode {} by {}",
                                on ? "on" : "off", who.name());
                    record_call(who, {{"on", on}, {"changed", true}});
                    reply->reply();
                    next();
                });
    });
}

void Manager::bus_reload(bus::Call &c)
{
    // Polkit first: an unauthorized caller must not make fwd read and parse a file, nor
    // learn what is wrong with it.
    if (!c.authorize(f1::polkit_action))
        return;
    reload([this, reply = later(c), who = caller_of(c)](Result<> r) {
        if (!r) {
            log::err("Reload refused, keeping the running ruleset: {}", r.error().to_string());
            return reply->fail(r.error());
        }
        log::info({{"ALOPEX_OP", "Reload"}, {"ALOPEX_SENDER", who.name()}}, "reloaded {} for {}",
                  options_.config_file.string(), who.name());
        record_call(who, {{"generation", generation_}});
        reply->reply();
    });
}

namespace {

// The counters of our table as GetCounters lists them: per zone, rule and runtime rule.
std::vector<f1::CounterInfo> counter_rows(const Model &model, const Resolved &resolved,
                                          const std::map<std::string, nft::CounterValue> &values)
{
    // (kind, name) -> values, sorted for a stable answer.
    std::map<std::pair<std::string, std::string>, f1::CounterInfo> rows;
    auto row = [&](const char *kind, std::string name) -> f1::CounterInfo & {
        auto &r = rows[{kind, name}];
        r.kind = kind;
        r.name = std::move(name);
        return r;
    };
    auto drops_verdict = [](const std::optional<Verdict> &v) {
        return v && (*v == Verdict::drop || *v == Verdict::reject);
    };
    for (const auto &[name, v] : values) {
        auto id = compile::parse_counter_name(name);
        if (!id)
            continue;
        switch (id->kind) {
        case compile::CounterId::Kind::zone: {
            auto &r = row("zone", id->zone);
            r.packets += v.packets;
            r.bytes += v.bytes;
            break;
        }
        case compile::CounterId::Kind::zone_drop:
            row("zone", id->zone).drops += v.packets;
            break;
        case compile::CounterId::Kind::rule: {
            auto &r = row("rule", fmt::format("{}/{}", id->zone, id->index));
            r.packets = v.packets;
            r.bytes = v.bytes;
            auto z = model.zones.find(id->zone);
            if (z != model.zones.end() && id->index < z->second.rules.size() &&
                drops_verdict(z->second.rules[id->index].verdict))
                r.drops = v.packets;
            break;
        }
        case compile::CounterId::Kind::runtime: {
            auto &r = row("runtime", fmt::format("{}", id->index));
            r.packets = v.packets;
            r.bytes = v.bytes;
            auto it = resolved.active.find(id->index);
            if (it != resolved.active.end() && it->second.rule.rule &&
                drops_verdict(it->second.rule.rule->verdict))
                r.drops = v.packets;
            break;
        }
        case compile::CounterId::Kind::unzoned: {
            // Packets from interfaces in no zone; the policy drops them all.
            auto &r = row("zone", "(none)");
            r.packets += v.packets;
            r.bytes += v.bytes;
            r.drops += v.packets;
            break;
        }
        }
    }
    std::vector<f1::CounterInfo> out;
    out.reserve(rows.size());
    for (auto &[_, r] : rows)
        out.push_back(std::move(r));
    return out;
}

} // namespace

void Manager::bus_get_counters(bus::Call &c)
{
    session_->counters([this, reply = later(c)](Result<std::map<std::string, nft::CounterValue>> values) {
        if (!values)
            return reply->fail(Error{values.error().code, values.error().to_string(), bus_error::IOError});
        reply->reply(counter_rows(*model_, resolved_, *values));
    });
}

} // namespace alopex::fwd
