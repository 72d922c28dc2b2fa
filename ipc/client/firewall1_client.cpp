// SPDX-License-Identifier: GPL-2.0-or-later
#include "firewall1_client.hpp"

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "alopex/ipc/firewall1.hpp"
#include "alopex/sd.hpp"

namespace alopex::ipc::firewall1 {
namespace {

Result<> check(int r, std::string_view what)
{
    if (r < 0)
        return failf(-r, "cannot read {} from fwd's reply: {}", what, strerror(-r));
    return {};
}

Result<> enter(sd_bus_message *m, char type, const char *contents, std::string_view what)
{
    return check(sd_bus_message_enter_container(m, type, contents), what);
}

Result<> leave(sd_bus_message *m, std::string_view what) { return check(sd_bus_message_exit_container(m), what); }

Result<> read_strv(sd_bus_message *m, std::string_view what, std::vector<std::string> &out)
{
    char **v = nullptr;
    int r = sd_bus_message_read_strv(m, &v);
    for (char **p = v; p && *p; ++p) {
        out.emplace_back(*p);
        free(*p);
    }
    free(v);
    return check(r, what);
}

// a(sassssb): name, patterns, input, forward, output, masquerade. The two-policy form
// a(sasssb) of the first drafts is read too (output then stays "").
Result<> read_zones(sd_bus_message *m, bool with_output, std::vector<ZoneInfo> &out)
{
    const char *element = with_output ? "(sassssb)" : "(sasssb)";
    ALOPEX_TRY_VOID(enter(m, 'a', element, "Zones"));
    for (;;) {
        int r = sd_bus_message_enter_container(m, 'r', with_output ? "sassssb" : "sasssb");
        if (r == 0)
            break;
        ALOPEX_TRY_VOID(check(r, "Zones"));
        ZoneInfo z;
        const char *name = nullptr;
        ALOPEX_TRY_VOID(check(sd_bus_message_read_basic(m, 's', &name), "Zones"));
        z.name = name;
        ALOPEX_TRY_VOID(read_strv(m, "Zones", z.interfaces));
        const char *in = nullptr, *fw = nullptr, *outp = "";
        int masq = 0;
        if (with_output)
            ALOPEX_TRY_VOID(check(sd_bus_message_read(m, "sssb", &in, &fw, &outp, &masq), "Zones"));
        else
            ALOPEX_TRY_VOID(check(sd_bus_message_read(m, "ssb", &in, &fw, &masq), "Zones"));
        z.input = in;
        z.forward = fw;
        z.output = outp;
        z.masquerade = masq != 0;
        ALOPEX_TRY_VOID(leave(m, "Zones"));
        out.push_back(std::move(z));
    }
    return leave(m, "Zones");
}

Result<> read_rules(sd_bus_message *m, std::vector<RuleInfo> &out)
{
    ALOPEX_TRY_VOID(enter(m, 'a', "(sss)", "Rules"));
    for (;;) {
        const char *zone = nullptr, *spec = nullptr, *comment = nullptr;
        int r = sd_bus_message_read(m, "(sss)", &zone, &spec, &comment);
        if (r == 0)
            break;
        ALOPEX_TRY_VOID(check(r, "Rules"));
        out.push_back({zone, spec, comment});
    }
    return leave(m, "Rules");
}

Result<> read_interfaces(sd_bus_message *m, std::map<std::string, std::string> &out)
{
    ALOPEX_TRY_VOID(enter(m, 'a', "{ss}", "Interfaces"));
    for (;;) {
        const char *k = nullptr, *v = nullptr;
        int r = sd_bus_message_read(m, "{ss}", &k, &v);
        if (r == 0)
            break;
        ALOPEX_TRY_VOID(check(r, "Interfaces"));
        out[k] = v;
    }
    return leave(m, "Interfaces");
}

Result<> read_zone_addresses(sd_bus_message *m, std::map<std::string, std::vector<std::string>> &out)
{
    ALOPEX_TRY_VOID(enter(m, 'a', "{sas}", "ZoneAddresses"));
    for (;;) {
        int r = sd_bus_message_enter_container(m, 'e', "sas");
        if (r == 0)
            break;
        ALOPEX_TRY_VOID(check(r, "ZoneAddresses"));
        const char *zone = nullptr;
        ALOPEX_TRY_VOID(check(sd_bus_message_read_basic(m, 's', &zone), "ZoneAddresses"));
        ALOPEX_TRY_VOID(read_strv(m, "ZoneAddresses", out[zone]));
        ALOPEX_TRY_VOID(leave(m, "ZoneAddresses"));
    }
    return leave(m, "ZoneAddresses");
}

Result<> read_latency(sd_bus_message *m, std::vector<LatencyBucket> &out)
{
    ALOPEX_TRY_VOID(enter(m, 'a', "(tt)", "LatencyHistogram"));
    for (;;) {
        LatencyBucket b;
        int r = sd_bus_message_read(m, "(tt)", &b.upper_us, &b.count);
        if (r == 0)
            break;
        ALOPEX_TRY_VOID(check(r, "LatencyHistogram"));
        out.push_back(b);
    }
    return leave(m, "LatencyHistogram");
}

Result<> read_string(sd_bus_message *m, std::string_view what, std::string &out)
{
    const char *s = nullptr;
    ALOPEX_TRY_VOID(check(sd_bus_message_read_basic(m, 's', &s), what));
    out = s;
    return {};
}

// One property's value, inside its variant.
Result<> read_property(sd_bus_message *m, std::string_view n, State &s)
{
    auto in = [&](const char *contents, auto &&body) -> Result<> {
        ALOPEX_TRY_VOID(enter(m, 'v', contents, n));
        ALOPEX_TRY_VOID(body());
        return leave(m, n);
    };
    if (n == property::Zones) {
        char type = 0;
        const char *contents = nullptr;
        ALOPEX_TRY_VOID(check(sd_bus_message_peek_type(m, &type, &contents), n));
        bool with_output = type == 'v' && contents && std::string_view(contents) == "a(sassssb)";
        return in(with_output ? "a(sassssb)" : "a(sasssb)", [&] { return read_zones(m, with_output, s.zones); });
    }
    if (n == property::Rules)
        return in("a(sss)", [&] { return read_rules(m, s.rules); });
    if (n == property::Interfaces)
        return in("a{ss}", [&] { return read_interfaces(m, s.interfaces); });
    if (n == property::ZoneAddresses)
        return in("a{sas}", [&] { return read_zone_addresses(m, s.zone_addresses); });
    if (n == property::Panic)
        return in("b", [&]() -> Result<> {
            int b = 0;
            ALOPEX_TRY_VOID(check(sd_bus_message_read_basic(m, 'b', &b), n));
            s.panic = b != 0;
            return {};
        });
    if (n == property::DefaultZone)
        return in("s", [&] { return read_string(m, n, s.default_zone); });
    if (n == property::Generation)
        return in("t", [&] { return check(sd_bus_message_read_basic(m, 't', &s.generation), n); });
    if (n == property::LatencyHistogram)
        return in("a(tt)", [&] { return read_latency(m, s.latency); });
    if (n == property::LastError)
        return in("s", [&] { return read_string(m, n, s.last_error); });
    return check(sd_bus_message_skip(m, "v"), n);
}

Error call_error(int r, const BusError &error)
{
    Error e{-r, error.is_set() ? error.message() : strerror(-r), {}};
    if (error.is_set())
        e.bus_name = error.name();
    return e;
}

// Calls a method of the interface; the reply (on success) is returned for reading.
template <typename... A> Result<MessagePtr> call(sd_bus *bus, const char *method, const char *sig, A... args)
{
    BusError error;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call_method(bus, service, path, interface, method, &error, &raw, sig, args...);
    MessagePtr reply(raw);
    if (r < 0)
        return std::unexpected(call_error(r, error));
    return reply;
}

} // namespace

Result<State> parse_properties(sd_bus_message *m)
{
    State s;
    ALOPEX_TRY_VOID(enter(m, 'a', "{sv}", "properties"));
    for (;;) {
        int r = sd_bus_message_enter_container(m, 'e', "sv");
        if (r == 0)
            break;
        ALOPEX_TRY_VOID(check(r, "properties"));
        const char *name = nullptr;
        ALOPEX_TRY_VOID(check(sd_bus_message_read_basic(m, 's', &name), "a property name"));
        ALOPEX_TRY_VOID(read_property(m, name, s));
        ALOPEX_TRY_VOID(leave(m, "properties"));
    }
    ALOPEX_TRY_VOID(leave(m, "properties"));
    return s;
}

Result<std::vector<RuntimeRuleInfo>> parse_runtime_rules(sd_bus_message *m)
{
    std::vector<RuntimeRuleInfo> out;
    ALOPEX_TRY_VOID(enter(m, 'a', "(tsssts)", "runtime rules"));
    for (;;) {
        RuntimeRuleInfo i;
        const char *zone = nullptr, *spec = nullptr, *comment = nullptr, *where = nullptr;
        int r = sd_bus_message_read(m, "(tsssts)", &i.id, &zone, &spec, &comment, &i.expires_us, &where);
        if (r == 0)
            break;
        ALOPEX_TRY_VOID(check(r, "runtime rules"));
        i.zone = zone;
        i.spec = spec;
        i.comment = comment;
        i.where = where;
        out.push_back(std::move(i));
    }
    ALOPEX_TRY_VOID(leave(m, "runtime rules"));
    return out;
}

Result<std::vector<CounterInfo>> parse_counters(sd_bus_message *m)
{
    std::vector<CounterInfo> out;
    ALOPEX_TRY_VOID(enter(m, 'a', "(ssttt)", "counters"));
    for (;;) {
        CounterInfo c;
        const char *kind = nullptr, *name = nullptr;
        int r = sd_bus_message_read(m, "(ssttt)", &kind, &name, &c.packets, &c.bytes, &c.drops);
        if (r == 0)
            break;
        ALOPEX_TRY_VOID(check(r, "counters"));
        c.kind = kind;
        c.name = name;
        out.push_back(std::move(c));
    }
    ALOPEX_TRY_VOID(leave(m, "counters"));
    return out;
}

Result<State> read_state(sd_bus *bus)
{
    BusError error;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call_method(bus, service, path, "org.freedesktop.DBus.Properties", "GetAll", &error, &raw, "s",
                               interface);
    MessagePtr reply(raw);
    if (r < 0)
        return std::unexpected(call_error(r, error));
    return parse_properties(reply.get());
}

Result<std::string> version(sd_bus *bus)
{
    ALOPEX_TRY(reply, call(bus, method::Version, ""));
    const char *v = nullptr;
    ALOPEX_TRY_VOID(check(sd_bus_message_read_basic(reply.get(), 's', &v), "Version"));
    return std::string(v);
}

Result<uint64_t> add_rule(sd_bus *bus, const std::string &spec, uint32_t expires_s, const std::string &comment)
{
    ALOPEX_TRY(reply, call(bus, method::AddRule, "sus", spec.c_str(), expires_s, comment.c_str()));
    uint64_t id = 0;
    ALOPEX_TRY_VOID(check(sd_bus_message_read_basic(reply.get(), 't', &id), "AddRule"));
    return id;
}

Result<> remove_rule(sd_bus *bus, uint64_t id)
{
    ALOPEX_TRY_VOID(call(bus, method::RemoveRule, "t", id));
    return {};
}

Result<std::vector<RuntimeRuleInfo>> list_runtime_rules(sd_bus *bus)
{
    ALOPEX_TRY(reply, call(bus, method::ListRuntimeRules, ""));
    return parse_runtime_rules(reply.get());
}

Result<> set_interface_zone(sd_bus *bus, const std::string &interface_name, const std::string &zone)
{
    ALOPEX_TRY_VOID(call(bus, method::SetInterfaceZone, "ss", interface_name.c_str(), zone.c_str()));
    return {};
}

Result<> set_panic(sd_bus *bus, bool on)
{
    ALOPEX_TRY_VOID(call(bus, method::Panic, "b", static_cast<int>(on)));
    return {};
}

Result<> reload(sd_bus *bus)
{
    ALOPEX_TRY_VOID(call(bus, method::Reload, ""));
    return {};
}

Result<std::vector<CounterInfo>> get_counters(sd_bus *bus)
{
    ALOPEX_TRY(reply, call(bus, method::GetCounters, ""));
    return parse_counters(reply.get());
}

} // namespace alopex::ipc::firewall1
