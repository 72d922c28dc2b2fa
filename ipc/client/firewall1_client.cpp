// SPDX-License-Identifier: GPL-2.0-or-later
#include "firewall1_client.hpp"

#include "alopex/bus/blocking.hpp"
#include "alopex/ipc/firewall1.hpp"
#include "alopex/ipc/firewall1_spec.hpp"

namespace alopex::ipc::firewall1 {

namespace {

// Calls a method of the interface with the XML's signatures; the reply's values.
template <typename... Out, typename... In> Result<std::tuple<Out...>> call(sd_bus *bus, const bus::MethodSpec &m, const In &...in)
{
    return bus::blocking::call<Out...>(bus, service, path, api::spec, m, in...);
}

template <typename T> Result<T> only(Result<std::tuple<T>> r)
{
    if (!r)
        return std::unexpected(std::move(r.error()));
    return std::move(std::get<0>(*r));
}

Result<> none(const Result<std::tuple<>> &r)
{
    if (!r)
        return std::unexpected(r.error());
    return {};
}

} // namespace

const bus::PropertyReader<State> &state_reader()
{
    namespace p = api::property;
    static const auto reader = bus::PropertyReader<State>(api::spec)
                                   .field(p::Zones, &State::zones)
                                   .field(p::Rules, &State::rules)
                                   .field(p::Interfaces, &State::interfaces)
                                   .field(p::ZoneAddresses, &State::zone_addresses)
                                   .field(p::Panic, &State::panic)
                                   .field(p::DefaultZone, &State::default_zone)
                                   .field(p::Generation, &State::generation)
                                   .field(p::LatencyHistogram, &State::latency)
                                   .field(p::LastError, &State::last_error);
    return reader;
}

Result<State> parse_properties(sd_bus_message *m)
{
    State s;
    ALOPEX_TRY_VOID(state_reader().read_dict(m, s));
    return s;
}

Result<State> read_state(sd_bus *bus) { return bus::blocking::get_all(bus, service, path, state_reader()); }

Result<std::string> version(sd_bus *bus) { return only(call<std::string>(bus, api::method::Version)); }

Result<uint64_t> add_rule(sd_bus *bus, const std::string &spec, uint32_t expires_s, const std::string &comment)
{
    return only(call<uint64_t>(bus, api::method::AddRule, spec, expires_s, comment));
}

Result<> remove_rule(sd_bus *bus, uint64_t id) { return none(call<>(bus, api::method::RemoveRule, id)); }

Result<std::vector<RuntimeRuleInfo>> list_runtime_rules(sd_bus *bus)
{
    return only(call<std::vector<RuntimeRuleInfo>>(bus, api::method::ListRuntimeRules));
}

Result<> set_interface_zone(sd_bus *bus, const std::string &interface_name, const std::string &zone)
{
    return none(call<>(bus, api::method::SetInterfaceZone, interface_name, zone));
}

Result<> set_panic(sd_bus *bus, bool on) { return none(call<>(bus, api::method::Panic, on)); }

Result<> reload(sd_bus *bus) { return none(call<>(bus, api::method::Reload)); }

Result<std::vector<CounterInfo>> get_counters(sd_bus *bus)
{
    return only(call<std::vector<CounterInfo>>(bus, api::method::GetCounters));
}

} // namespace alopex::ipc::firewall1
