// SPDX-License-Identifier: GPL-2.0-or-later
// Where org.alopex.Slirp1 lives: one bus name and object per instance. Its interface is
// generated from ipc/org.alopex.Slirp1.xml into alopex/ipc/slirp1_spec.hpp
// (ipc::slirp1::line).
#pragma once

namespace alopex::ipc::slirp1 {
// An instance NAME owns service_prefix + "." + LABEL and serves path_prefix + "/" + LABEL,
// LABEL being NAME as sd_bus_path_encode(3) escapes it.
inline constexpr const char *service_prefix = "org.alopex.Slirp1";
inline constexpr const char *path_prefix = "/org/alopex/Slirp1";
inline constexpr const char *interface = "org.alopex.Slirp1.Line";
inline constexpr const char *xml_file = "org.alopex.Slirp1.xml";
inline constexpr const char *polkit_action = "org.alopex.slirp.configure";
} // namespace alopex::ipc::slirp1
