// SPDX-License-Identifier: GPL-2.0-or-later
// Where org.alopex.Firewall1 lives. Its interface (methods, properties, their
// signatures) is generated from ipc/org.alopex.Firewall1.xml into
// alopex/ipc/firewall1_spec.hpp (ipc::firewall1::api).
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

} // namespace alopex::ipc::firewall1
