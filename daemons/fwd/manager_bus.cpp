// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Firewall1 at /org/alopex/Firewall1. Every mutating method: read and check the
// arguments (InvalidArgument naming the argument or spec key, NoSuchId), then polkit
// (org.alopex.firewall.configure, asynchronous: the handler runs again with the same
// message once polkit has answered, so it re-reads and re-checks), then one batch. A
// refused call changes nothing, in the kernel or in memory. Reload has no arguments: it
// asks polkit before it reads firewall.toml at all.
//
// Mutating actions are not recorded in the broker's ledger yet (issue 4 does not ask for
// it); the journal has one line per change with the caller.
#include <map>

#include <fmt/format.h>

#include "alopex-config.h"
#include "alopex/ipc/firewall1.hpp"
#include "alopex/log.hpp"
#include "compile/compile.hpp"
#include "config/config.hpp"
#include "manager.hpp"

namespace alopex::fwd {

namespace f1 = ipc::firewall1;

namespace {

constexpr uint64_t change = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;

const sd_bus_vtable vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS(f1::method::Version, SD_BUS_NO_ARGS, SD_BUS_RESULT("s", version),
                            bus::method<&Manager::bus_version>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(f1::method::AddRule,
                            SD_BUS_ARGS("s", spec, "u", expires_s, "s", comment),
                            SD_BUS_RESULT("t", id), bus::method<&Manager::bus_add_rule>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(f1::method::RemoveRule, SD_BUS_ARGS("t", id), SD_BUS_NO_RESULT,
                            bus::method<&Manager::bus_remove_rule>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(f1::method::ListRuntimeRules, SD_BUS_NO_ARGS,
                            SD_BUS_RESULT("a(tsssts)", rules),
                            bus::method<&Manager::bus_list_runtime_rules>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(f1::method::SetInterfaceZone, SD_BUS_ARGS("s", interface, "s", zone),
                            SD_BUS_NO_RESULT, bus::method<&Manager::bus_set_interface_zone>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(f1::method::Panic, SD_BUS_ARGS("b", on), SD_BUS_NO_RESULT,
                            bus::method<&Manager::bus_panic>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(f1::method::Reload, SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                            bus::method<&Manager::bus_reload>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(f1::method::GetCounters, SD_BUS_NO_ARGS,
                            SD_BUS_RESULT("a(ssttt)", counters),
                            bus::method<&Manager::bus_get_counters>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY(f1::property::Zones, "a(sassssb)", bus::property<&Manager::prop_zones>, 0, change),
    SD_BUS_PROPERTY(f1::property::Rules, "a(sss)", bus::property<&Manager::prop_rules>, 0, change),
    SD_BUS_PROPERTY(f1::property::Interfaces, "a{ss}", bus::property<&Manager::prop_interfaces>, 0,
                    change),
    SD_BUS_PROPERTY(f1::property::ZoneAddresses, "a{sas}",
                    bus::property<&Manager::prop_zone_addresses>, 0, change),
    SD_BUS_PROPERTY(f1::property::Panic, "b", bus::property<&Manager::prop_panic>, 0, change),
    SD_BUS_PROPERTY(f1::property::DefaultZone, "s", bus::property<&Manager::prop_default_zone>, 0,
                    change),
    SD_BUS_PROPERTY(f1::property::Generation, "t", bus::property<&Manager::prop_generation>, 0,
                    change),
    SD_BUS_PROPERTY(f1::property::LatencyHistogram, "a(tt)", bus::property<&Manager::prop_latency>,
                    0, change),
    SD_BUS_PROPERTY(f1::property::LastError, "s", bus::property<&Manager::prop_last_error>, 0,
                    change),
    SD_BUS_VTABLE_END,
};

const char *member_of(sd_bus_message *m)
{
    const char *s = sd_bus_message_get_member(m);
    return s ? s : "?";
}

const char *sender_of(sd_bus_message *m)
{
    const char *s = sd_bus_message_get_sender(m);
    return s ? s : "?";
}

// Re-reads the arguments from the start: the handler may run twice for one message.
template <typename... T> Result<std::tuple<T...>> args(sd_bus_message *m)
{
    sd_bus_message_rewind(m, 1);
    return bus::read<T...>(m);
}

// Errors of the model code without a bus name are argument errors.
int argument_error(sd_bus_error *ret, const Error &e, std::string_view arg)
{
    if (!e.bus_name.empty())
        return bus::set_error(ret, e);
    return bus::set_error(ret, bus_error::InvalidArgument, fmt::format("{}: {}", arg, e.to_string()));
}

int open(sd_bus_message *m, char type, const char *contents, int r)
{
    return r < 0 ? r : sd_bus_message_open_container(m, type, contents);
}

} // namespace

Result<> Manager::attach_bus()
{
    sd_bus_slot *slot = nullptr;
    int r = sd_bus_add_object_vtable(bus_, &slot, f1::path, f1::interface, vtable, this);
    if (r < 0)
        return failf(-r, "cannot add the {} vtable: {}", f1::interface, strerror(-r));
    slot_.reset(slot);
    return {};
}

int Manager::authorize(sd_bus_message *m, sd_bus_error *ret)
{
    if (!authority_)
        return sd_bus_error_set(ret, bus_error::NotAuthorized, "no polkit authority");
    int r = authority_->check(m, f1::polkit_action, ret);
    if (r < 0)
        log::notice({{"ALOPEX_OP", member_of(m)}, {"ALOPEX_SENDER", sender_of(m)}},
                    "{} from {} refused: {}", member_of(m), sender_of(m),
                    ret && ret->message ? ret->message : "not authorized");
    return r;
}

#define TRY_ARG(expr)                                                                     \
    do {                                                                                  \
        if (auto r_ = (expr); !r_)                                                        \
            return bus::set_error(ret, r_.error());                                       \
    } while (0)
#define AUTHORIZE()                                                                       \
    do {                                                                                  \
        int a_ = authorize(m, ret);                                                       \
        if (a_ <= 0)                                                                      \
            return a_ < 0 ? a_ : 1;                                                       \
    } while (0)
#define REQUIRE_READY()                                                                   \
    do {                                                                                  \
        if (!ready_)                                                                      \
            return bus::set_error(ret, bus_error::Internal,                               \
                                  "not ready yet: the first ruleset is not applied");     \
    } while (0)

int Manager::bus_version(sd_bus_message *m, sd_bus_error *)
{
    return bus::reply(m, std::string(ALOPEX_VERSION));
}

int Manager::bus_add_rule(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<std::string, uint32_t, std::string>(m);
    TRY_ARG(a);
    auto &[spec, expires_s, comment] = *a;
    if (spec.size() > runtime::max_spec)
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("spec: longer than {} bytes", runtime::max_spec));
    auto rule = config::parse_spec(spec, *model_);
    if (!rule)
        return argument_error(ret, rule.error(), "spec");
    TRY_ARG(runtime::check_comment(comment));
    if (state_.rules.size() >= runtime::max_rules)
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("spec: there are {} runtime rules already", state_.rules.size()));
    if (state_.next_id > runtime::max_id)
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("spec: every rule id up to {} has been given", runtime::max_id));
    AUTHORIZE();
    REQUIRE_READY();

    runtime::StoredRule s;
    s.id = state_.next_id;
    s.zone = rule->zone;
    s.spec = config::format_spec(*rule);
    s.expires_at_us = expires_s ? realtime_us() + uint64_t(expires_s) * 1000000u : 0;
    s.comment = comment;
    if (auto r = add_rule(s, std::move(*rule), "AddRule"); !r)
        return bus::set_error(ret, r.error());
    log::info({{"ALOPEX_OP", "AddRule"}, {"ALOPEX_ZONE", s.zone}, {"ALOPEX_SENDER", sender_of(m)}},
              "runtime rule {} added by {}: {}{}", s.id, sender_of(m), s.spec,
              expires_s ? fmt::format(" (expires in {} s)", expires_s) : std::string());
    return bus::reply(m, s.id);
}

int Manager::bus_remove_rule(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<uint64_t>(m);
    TRY_ARG(a);
    uint64_t id = std::get<0>(*a);
    if (!runtime::find(state_, id))
        return bus::set_error(ret, bus_error::NoSuchId, fmt::format("id: no runtime rule {}", id));
    AUTHORIZE();
    REQUIRE_READY();
    if (auto r = remove_rules({id}, "RemoveRule"); !r)
        return bus::set_error(ret, r.error());
    log::info({{"ALOPEX_OP", "RemoveRule"}, {"ALOPEX_SENDER", sender_of(m)}},
              "runtime rule {} removed by {}", id, sender_of(m));
    return sd_bus_reply_method_return(m, nullptr);
}

int Manager::bus_list_runtime_rules(sd_bus_message *m, sd_bus_error *)
{
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_return(m, &raw);
    if (r < 0)
        return r;
    MessagePtr reply(raw);
    const auto now = realtime_us();
    r = sd_bus_message_open_container(reply.get(), 'a', "(tsssts)");
    for (const auto &[_, s] : state_.rules) {
        if (r < 0)
            break;
        const char *place = "inactive";
        if (s.expires_at_us != 0 && s.expires_at_us <= now)
            place = "expired";   // about to go (the expiry timer runs next)
        else if (auto it = resolved_.active.find(s.id); it != resolved_.active.end())
            place = it->second.element ? "element" : "rule";
        r = sd_bus_message_append(reply.get(), "(tsssts)", s.id, s.zone.c_str(), s.spec.c_str(),
                                  s.comment.c_str(), s.expires_at_us, place);
    }
    if (r >= 0)
        r = sd_bus_message_close_container(reply.get());
    return r < 0 ? r : sd_bus_send(nullptr, reply.get(), nullptr);
}

int Manager::bus_set_interface_zone(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<std::string, std::string>(m);
    TRY_ARG(a);
    auto &[ifname, zone] = *a;
    if (!bus::valid_ifname(ifname))
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("interface: '{}' is not a valid interface name", ifname));
    if (!zone.empty() && !model_->zones.contains(zone))
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("zone: there is no zone '{}' in firewall.toml", zone));
    AUTHORIZE();
    REQUIRE_READY();
    auto next = state_.interfaces;
    if (zone.empty())
        next.erase(ifname);
    else
        next[ifname] = zone;
    if (next == state_.interfaces)
        return sd_bus_reply_method_return(m, nullptr);
    auto old = state_.interfaces;
    if (auto r = sync_membership(next); !r)
        return bus::set_error(ret, r.error());
    runtime::Change c;
    c.kind = runtime::Change::Kind::interface;
    c.ifname = ifname;
    c.zone = zone;
    if (auto p = persist(std::move(c)); !p) {
        log::err("SetInterfaceZone: cannot save the runtime state, undoing: {}", p.error().to_string());
        (void)sync_membership(old);
        return bus::set_error(ret, p.error());
    }
    log::info({{"ALOPEX_OP", "SetInterfaceZone"}, {"ALOPEX_LINK", ifname}, {"ALOPEX_ZONE", zone}},
              "{} assigned to zone '{}' by {}", ifname, zone, sender_of(m));
    return sd_bus_reply_method_return(m, nullptr);
}

int Manager::bus_panic(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<bool>(m);
    TRY_ARG(a);
    bool on = std::get<0>(*a);
    AUTHORIZE();
    REQUIRE_READY();
    if (on == state_.panic)
        return sd_bus_reply_method_return(m, nullptr);
    state_.panic = on;
    if (auto r = rebuild(*model_, state_, on ? "panic on" : "panic off", &resolved_); !r) {
        state_.panic = !on;
        return bus::set_error(ret, r.error());
    }
    property_changed(f1::property::Panic);
    runtime::Change c;
    c.kind = runtime::Change::Kind::panic;
    c.panic = on;
    if (auto p = persist(std::move(c)); !p) {
        log::err("Panic: cannot save the runtime state, undoing: {}", p.error().to_string());
        state_.panic = !on;
        (void)rebuild(*model_, state_, "undo", &resolved_);
        return bus::set_error(ret, p.error());
    }
    log::notice({{"ALOPEX_OP", "Panic"}, {"ALOPEX_SENDER", sender_of(m)}}, "panic mode {} by {}",
                on ? "on" : "off", sender_of(m));
    return sd_bus_reply_method_return(m, nullptr);
}

int Manager::bus_reload(sd_bus_message *m, sd_bus_error *ret)
{
    // Polkit first: an unauthorized caller must not make fwd read and parse a file, nor
    // learn what is wrong with it.
    AUTHORIZE();
    if (auto r = reload(); !r) {
        log::err("Reload refused, keeping the running ruleset: {}", r.error().to_string());
        return bus::set_error(ret, r.error());
    }
    log::info({{"ALOPEX_OP", "Reload"}, {"ALOPEX_SENDER", sender_of(m)}}, "reloaded {} for {}",
              options_.config_file.string(), sender_of(m));
    return sd_bus_reply_method_return(m, nullptr);
}

int Manager::bus_get_counters(sd_bus_message *m, sd_bus_error *ret)
{
    auto values = session_->counters();
    if (!values)
        return bus::set_error(ret, bus_error::IOError, values.error().to_string());
    struct Row {
        uint64_t packets = 0, bytes = 0, drops = 0;
    };
    // (kind, name) -> values, sorted for a stable answer.
    std::map<std::pair<std::string, std::string>, Row> rows;
    auto drops_verdict = [](const std::optional<Verdict> &v) {
        return v && (*v == Verdict::drop || *v == Verdict::reject);
    };
    for (const auto &[name, v] : *values) {
        auto id = compile::parse_counter_name(name);
        if (!id)
            continue;
        switch (id->kind) {
        case compile::CounterId::Kind::zone: {
            auto &row = rows[{"zone", id->zone}];
            row.packets += v.packets;
            row.bytes += v.bytes;
            break;
        }
        case compile::CounterId::Kind::zone_drop:
            rows[{"zone", id->zone}].drops += v.packets;
            break;
        case compile::CounterId::Kind::rule: {
            auto &row = rows[{"rule", fmt::format("{}/{}", id->zone, id->index)}];
            row.packets = v.packets;
            row.bytes = v.bytes;
            auto z = model_->zones.find(id->zone);
            if (z != model_->zones.end() && id->index < z->second.rules.size() &&
                drops_verdict(z->second.rules[id->index].verdict))
                row.drops = v.packets;
            break;
        }
        case compile::CounterId::Kind::runtime: {
            auto &row = rows[{"runtime", fmt::format("{}", id->index)}];
            row.packets = v.packets;
            row.bytes = v.bytes;
            auto it = resolved_.active.find(id->index);
            if (it != resolved_.active.end() && it->second.rule.rule &&
                drops_verdict(it->second.rule.rule->verdict))
                row.drops = v.packets;
            break;
        }
        case compile::CounterId::Kind::unzoned: {
            // Packets from interfaces in no zone; the policy drops them all.
            auto &row = rows[{"zone", "(none)"}];
            row.packets += v.packets;
            row.bytes += v.bytes;
            row.drops += v.packets;
            break;
        }
        }
    }
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_return(m, &raw);
    if (r < 0)
        return r;
    MessagePtr reply(raw);
    r = sd_bus_message_open_container(reply.get(), 'a', "(ssttt)");
    for (auto it = rows.begin(); r >= 0 && it != rows.end(); ++it)
        r = sd_bus_message_append(reply.get(), "(ssttt)", it->first.first.c_str(),
                                  it->first.second.c_str(), it->second.packets, it->second.bytes,
                                  it->second.drops);
    if (r >= 0)
        r = sd_bus_message_close_container(reply.get());
    return r < 0 ? r : sd_bus_send(nullptr, reply.get(), nullptr);
}

// ---- properties ----------------------------------------------------------------------

int Manager::prop_zones(sd_bus_message *reply, sd_bus_error *)
{
    const Model &model = *model_;
    int r = sd_bus_message_open_container(reply, 'a', "(sassssb)");
    for (const auto &name : model.zone_order) {
        auto z = model.zones.find(name);
        if (r < 0 || z == model.zones.end())
            continue;
        r = open(reply, 'r', "sassssb", r);
        if (r >= 0)
            r = bus::append(reply, z->second.name, z->second.interfaces,
                            std::string(config::to_string(z->second.input)),
                            std::string(config::to_string(z->second.forward)),
                            std::string(config::to_string(z->second.output)), z->second.masquerade);
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int Manager::prop_rules(sd_bus_message *reply, sd_bus_error *)
{
    const Model &model = *model_;
    int r = sd_bus_message_open_container(reply, 'a', "(sss)");
    for (const auto &name : model.zone_order) {
        auto z = model.zones.find(name);
        if (z == model.zones.end())
            continue;
        for (const auto &rule : z->second.rules)
            if (r >= 0)
                r = sd_bus_message_append(reply, "(sss)", name.c_str(),
                                          config::format_rule(name, rule).c_str(), rule.comment.c_str());
        for (const auto &fw : z->second.forwards)
            if (r >= 0)
                r = sd_bus_message_append(reply, "(sss)", name.c_str(),
                                          config::format_forward(name, fw).c_str(), fw.comment.c_str());
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int Manager::prop_interfaces(sd_bus_message *reply, sd_bus_error *)
{
    int r = sd_bus_message_open_container(reply, 'a', "{ss}");
    for (auto it = applied_.interfaces.begin(); r >= 0 && it != applied_.interfaces.end(); ++it)
        r = sd_bus_message_append(reply, "{ss}", it->first.c_str(), it->second.c_str());
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int Manager::prop_zone_addresses(sd_bus_message *reply, sd_bus_error *)
{
    int r = sd_bus_message_open_container(reply, 'a', "{sas}");
    for (auto it = applied_.addresses.begin(); r >= 0 && it != applied_.addresses.end(); ++it) {
        std::vector<std::string> list;
        for (const auto &[c, _] : it->second)
            list.push_back(c.to_string());
        r = open(reply, 'e', "sas", r);
        if (r >= 0)
            r = bus::append(reply, it->first, list);
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int Manager::prop_panic(sd_bus_message *reply, sd_bus_error *)
{
    return bus::append(reply, state_.panic);
}

int Manager::prop_default_zone(sd_bus_message *reply, sd_bus_error *)
{
    return bus::append(reply, model_->default_zone);
}

int Manager::prop_generation(sd_bus_message *reply, sd_bus_error *)
{
    return bus::append(reply, generation_);
}

int Manager::prop_latency(sd_bus_message *reply, sd_bus_error *)
{
    int r = sd_bus_message_open_container(reply, 'a', "(tt)");
    for (const auto &[bound, count] : histogram_.buckets())
        if (r >= 0)
            r = sd_bus_message_append(reply, "(tt)", bound, count);
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int Manager::prop_last_error(sd_bus_message *reply, sd_bus_error *)
{
    return bus::append(reply, last_error_);
}

} // namespace alopex::fwd
