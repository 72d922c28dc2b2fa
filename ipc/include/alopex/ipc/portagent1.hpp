// SPDX-License-Identifier: GPL-2.0-or-later
// Where alopex-ovs-agentd is on the bus: org.alopex.PortAgent1 (generated from
// ipc/org.alopex.PortAgent1.xml into alopex/ipc/portagent1_spec.hpp, ipc::portagent1::api)
// and nm-monitor's dev.ovs.PortAgent1 (ipc/dev.ovs.PortAgent1.xml, devovs_spec.hpp,
// ipc::devovs::portagent1), both owned by the one daemon.
#pragma once

namespace alopex::ipc::portagent1 {
inline constexpr const char *service = "org.alopex.PortAgent1";
inline constexpr const char *path = "/org/alopex/PortAgent1";
inline constexpr const char *interface = "org.alopex.PortAgent1";
inline constexpr const char *xml_file = "org.alopex.PortAgent1.xml";
inline constexpr const char *polkit_action = "org.alopex.ovs.configure";
} // namespace alopex::ipc::portagent1

namespace alopex::ipc::devovs {
inline constexpr const char *service = "dev.ovs.PortAgent1";
inline constexpr const char *path = "/dev/ovs/PortAgent1";
inline constexpr const char *interface = "dev.ovs.PortAgent1";
inline constexpr const char *xml_file = "dev.ovs.PortAgent1.xml";
} // namespace alopex::ipc::devovs
