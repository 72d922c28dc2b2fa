// SPDX-License-Identifier: GPL-2.0-or-later
// Names of org.alopex.Link1, kept beside ipc/org.alopex.Link1.xml; the integration test
// tests/integration/linkd/daemon checks the running daemon's introspection against the XML.
#pragma once

namespace alopex::ipc::link1 {
inline constexpr const char *service = "org.alopex.Link1";
inline constexpr const char *path = "/org/alopex/Link1";
inline constexpr const char *manager_interface = "org.alopex.Link1.Manager";
inline constexpr const char *link_interface = "org.alopex.Link1.Link";
// Link objects are <link_prefix>/<ifindex>.
inline constexpr const char *link_prefix = "/org/alopex/Link1/link";
inline constexpr const char *xml_file = "org.alopex.Link1.xml";
inline constexpr const char *polkit_action = "org.alopex.link.configure";
// Checkpoints (CheckpointCreate/Confirm/Rollback) on the manager's path.
inline constexpr const char *checkpoint_interface = "org.alopex.Link1.Checkpoints";
inline constexpr const char *checkpoint_action = "org.alopex.checkpoint";

namespace error {
// A method whose backend (DHCP client, profiles) is not wired in this build or instance.
inline constexpr const char *Unavailable = "org.alopex.Error.Unavailable";
} // namespace error

namespace method {
inline constexpr const char *Version = "Version";
inline constexpr const char *SetLinkUp = "SetLinkUp";
inline constexpr const char *SetLinkDown = "SetLinkDown";
inline constexpr const char *SetMtu = "SetMtu";
inline constexpr const char *AddAddress = "AddAddress";
inline constexpr const char *RemoveAddress = "RemoveAddress";
inline constexpr const char *AddRoute = "AddRoute";
inline constexpr const char *RemoveRoute = "RemoveRoute";
inline constexpr const char *Renew = "Renew";
inline constexpr const char *Release = "Release";
inline constexpr const char *Reload = "Reload";
inline constexpr const char *CreateNetdev = "CreateNetdev";
inline constexpr const char *DeleteNetdev = "DeleteNetdev";
inline constexpr const char *RenameLink = "RenameLink";
inline constexpr const char *SetZone = "SetZone";
} // namespace method
} // namespace alopex::ipc::link1
