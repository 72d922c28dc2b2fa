// SPDX-License-Identifier: GPL-2.0-or-later
// The service, paths, polkit actions and error names of org.alopex.Link1. Interfaces,
// methods and properties are declared by ipc/org.alopex.Link1.xml alone
// (alopex/ipc/link1_spec.hpp is generated from it).
#pragma once

namespace alopex::ipc::link1 {
inline constexpr const char *service = "org.alopex.Link1";
inline constexpr const char *path = "/org/alopex/Link1";
inline constexpr const char *link_interface = "org.alopex.Link1.Link";
// Link objects are <link_prefix>/<ifindex>.
inline constexpr const char *link_prefix = "/org/alopex/Link1/link";
inline constexpr const char *polkit_action = "org.alopex.link.configure";
// Checkpoints (CheckpointCreate/Confirm/Rollback) on the manager's path.
inline constexpr const char *checkpoint_action = "org.alopex.checkpoint";

namespace error {
// A method whose backend (DHCP client, profiles) is not wired in this build or instance.
inline constexpr const char *Unavailable = "org.alopex.Error.Unavailable";
} // namespace error

} // namespace alopex::ipc::link1
