// SPDX-License-Identifier: GPL-2.0-or-later
// Client side of org.alopex.Firewall1 (ipc/org.alopex.Firewall1.xml): typed method calls
// and one GetAll for the properties. A D-Bus error comes back as an alopex::Error with
// the error's name in Error::bus_name and its message in Error::message. Used by alopexctl.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"
#include "alopex/ipc/firewall1_types.hpp"

namespace alopex::ipc::firewall1 {

// Every property of the interface.
struct State {
    std::vector<ZoneInfo> zones;
    std::vector<RuleInfo> rules;
    std::map<std::string, std::string> interfaces;                     // interface -> zone
    std::map<std::string, std::vector<std::string>> zone_addresses;    // zone -> addresses
    bool panic = false;
    std::string default_zone;
    uint64_t generation = 0;
    std::vector<LatencyBucket> latency;
    std::string last_error;
};

// Parsers of the reply bodies (pure: they only read the message). A known property of
// the wrong type is an error; unknown properties are skipped.
Result<State> parse_properties(sd_bus_message *reply);                       // a{sv}
Result<std::vector<RuntimeRuleInfo>> parse_runtime_rules(sd_bus_message *reply);  // a(tsssts)
Result<std::vector<CounterInfo>> parse_counters(sd_bus_message *reply);           // a(ssttt)

// Calls on the bus (service org.alopex.Firewall1, object /org/alopex/Firewall1).
Result<State> read_state(sd_bus *bus);
Result<std::string> version(sd_bus *bus);
Result<uint64_t> add_rule(sd_bus *bus, const std::string &spec, uint32_t expires_s, const std::string &comment);
Result<> remove_rule(sd_bus *bus, uint64_t id);
Result<std::vector<RuntimeRuleInfo>> list_runtime_rules(sd_bus *bus);
Result<> set_interface_zone(sd_bus *bus, const std::string &interface_name, const std::string &zone);
Result<> set_panic(sd_bus *bus, bool on);
Result<> reload(sd_bus *bus);
Result<std::vector<CounterInfo>> get_counters(sd_bus *bus);

} // namespace alopex::ipc::firewall1
