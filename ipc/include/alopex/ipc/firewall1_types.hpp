// SPDX-License-Identifier: GPL-2.0-or-later
// The structured values of org.alopex.Firewall1 (ipc/org.alopex.Firewall1.xml), shared
// by the server (fwd's getters and methods) and the clients (ipc/client): the
// bus::Fields specializations make the codecs produce exactly the XML's signatures.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "alopex/bus/codec.hpp"

namespace alopex::ipc::firewall1 {

struct ZoneInfo {                          // Zones: a(sassssb)
    std::string name;
    std::vector<std::string> interfaces;   // names and globs from firewall.toml
    std::string input, forward, output;    // accept | drop | reject
    bool masquerade = false;
    bool operator==(const ZoneInfo &) const = default;
};

struct RuleInfo {                          // Rules: a(sss), a configured rule
    std::string zone, spec, comment;
    bool operator==(const RuleInfo &) const = default;
};

struct RuntimeRuleInfo {                   // ListRuntimeRules: a(tsssts)
    uint64_t id = 0;
    std::string zone, spec, comment;
    uint64_t expires_us = 0;               // CLOCK_REALTIME microseconds; 0 = never
    std::string where;                     // "element" or "rule"
    bool operator==(const RuntimeRuleInfo &) const = default;
};

struct CounterInfo {                       // GetCounters: a(ssttt)
    std::string kind, name;                // "zone"/"rule"/"runtime", "wan"/"wan/3"/"42"
    uint64_t packets = 0, bytes = 0, drops = 0;
    bool operator==(const CounterInfo &) const = default;
};

struct LatencyBucket {                     // LatencyHistogram: a(tt)
    uint64_t upper_us = 0;                 // the last bucket's bound is UINT64_MAX
    uint64_t count = 0;
    bool operator==(const LatencyBucket &) const = default;
};

} // namespace alopex::ipc::firewall1

template <> struct alopex::bus::Fields<alopex::ipc::firewall1::ZoneInfo> {
    using T = alopex::ipc::firewall1::ZoneInfo;
    static constexpr auto members =
        std::make_tuple(&T::name, &T::interfaces, &T::input, &T::forward, &T::output, &T::masquerade);
};
template <> struct alopex::bus::Fields<alopex::ipc::firewall1::RuleInfo> {
    using T = alopex::ipc::firewall1::RuleInfo;
    static constexpr auto members = std::make_tuple(&T::zone, &T::spec, &T::comment);
};
template <> struct alopex::bus::Fields<alopex::ipc::firewall1::RuntimeRuleInfo> {
    using T = alopex::ipc::firewall1::RuntimeRuleInfo;
    static constexpr auto members =
        std::make_tuple(&T::id, &T::zone, &T::spec, &T::comment, &T::expires_us, &T::where);
};
template <> struct alopex::bus::Fields<alopex::ipc::firewall1::CounterInfo> {
    using T = alopex::ipc::firewall1::CounterInfo;
    static constexpr auto members = std::make_tuple(&T::kind, &T::name, &T::packets, &T::bytes, &T::drops);
};
template <> struct alopex::bus::Fields<alopex::ipc::firewall1::LatencyBucket> {
    using T = alopex::ipc::firewall1::LatencyBucket;
    static constexpr auto members = std::make_tuple(&T::upper_us, &T::count);
};
