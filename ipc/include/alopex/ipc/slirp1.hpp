// SPDX-License-Identifier: GPL-2.0-or-later
// Where org.alopex.Slirp1 lives: one bus name and object per instance. Its interface is
// generated from ipc/org.alopex.Slirp1.xml into alopex/ipc/slirp1_spec.hpp
// (ipc::slirp1::line).
#pragma once

#include <cstdlib>
#include <cstring>
#include <string>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"

namespace alopex::ipc::slirp1 {
// An instance NAME owns service_prefix + "." + LABEL and serves path_prefix + "/" + LABEL,
// LABEL being NAME as sd_bus_path_encode(3) escapes it.
inline constexpr const char *service_prefix = "org.alopex.Slirp1";
inline constexpr const char *path_prefix = "/org/alopex/Slirp1";
inline constexpr const char *interface = "org.alopex.Slirp1.Line";
inline constexpr const char *xml_file = "org.alopex.Slirp1.xml";
inline constexpr const char *polkit_action = "org.alopex.slirp.configure";

// Where instance NAME is on the bus: "ttyGS0" -> org.alopex.Slirp1.ttyGS0 at
// /org/alopex/Slirp1/ttyGS0; other bytes and a leading digit escaped (_xx).
struct Instance {
    std::string service, path;
};
inline Result<Instance> instance_of(const std::string &name)
{
    char *path = nullptr;
    if (int r = sd_bus_path_encode(path_prefix, name.c_str(), &path); r < 0)
        return failf(-r, "instance '{}': cannot be a bus name: {}", name, strerror(-r));
    Instance i;
    i.path = path;
    free(path);
    i.service = std::string(service_prefix) + "." + i.path.substr(i.path.rfind('/') + 1);
    return i;
}
} // namespace alopex::ipc::slirp1
