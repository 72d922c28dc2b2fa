// SPDX-License-Identifier: GPL-2.0-or-later
// Client side of org.alopex.Firewall1 for alopexctl: the properties read by a
// bus::PropertyReader and the methods called with the signatures of the interface spec
// generated from ipc/org.alopex.Firewall1.xml; the structured values are those of
// alopex/ipc/firewall1_types.hpp, which fwd serves. The calls block (command-line tools
// only). A D-Bus error comes back as an alopex::Error with the error's name in
// Error::bus_name and its message in Error::message.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/bus/reader.hpp"
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

// Reads the interface's a{sv} property dictionaries (GetAll, PropertiesChanged).
const bus::PropertyReader<State> &state_reader();

// Parses a GetAll reply body (a{sv}). A known property of the wrong type is an error;
// unknown properties are skipped.
Result<State> parse_properties(sd_bus_message *reply);

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
