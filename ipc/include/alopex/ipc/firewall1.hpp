// SPDX-License-Identifier: GPL-2.0-or-later
// Names of org.alopex.Firewall1, kept beside ipc/org.alopex.Firewall1.xml.
#pragma once

namespace alopex::ipc::firewall1 {
inline constexpr const char *service = "org.alopex.Firewall1";
inline constexpr const char *path = "/org/alopex/Firewall1";
inline constexpr const char *interface = "org.alopex.Firewall1";
inline constexpr const char *xml_file = "org.alopex.Firewall1.xml";
inline constexpr const char *polkit_action = "org.alopex.firewall.configure";

namespace error {
// The kernel refused a batch; the message names the rule or element that caused it.
inline constexpr const char *KernelRefused = "org.alopex.Error.KernelRefused";
} // namespace error

namespace method {
inline constexpr const char *Version = "Version";
inline constexpr const char *AddRule = "AddRule";
inline constexpr const char *RemoveRule = "RemoveRule";
inline constexpr const char *ListRuntimeRules = "ListRuntimeRules";
inline constexpr const char *SetInterfaceZone = "SetInterfaceZone";
inline constexpr const char *Panic = "Panic";
inline constexpr const char *Reload = "Reload";
inline constexpr const char *GetCounters = "GetCounters";
} // namespace method

namespace property {
inline constexpr const char *Zones = "Zones";
inline constexpr const char *Rules = "Rules";
inline constexpr const char *Interfaces = "Interfaces";
inline constexpr const char *ZoneAddresses = "ZoneAddresses";
inline constexpr const char *Panic = "Panic";
inline constexpr const char *DefaultZone = "DefaultZone";
inline constexpr const char *Generation = "Generation";
inline constexpr const char *LatencyHistogram = "LatencyHistogram";
inline constexpr const char *LastError = "LastError";
} // namespace property
} // namespace alopex::ipc::firewall1
