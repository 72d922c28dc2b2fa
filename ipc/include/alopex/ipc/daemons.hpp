// SPDX-License-Identifier: GPL-2.0-or-later
// Every bus name of the suite, for alopexctl status and the harness. Later daemons add
// their entry here when they arrive (and their XML beside this file's folder).
#pragma once

#include <array>

namespace alopex::ipc {
struct DaemonName {
    const char *daemon;     // executable, e.g. "alopex-brokerd"
    const char *service;    // well-known bus name
    const char *path;       // object with the interface carrying Version
    const char *interface;  // interface with a Version() -> s method
    // One bus name per instance (alopex-slirpd@NAME): `service` + ".LABEL" at `path` +
    // "/LABEL" (ipc/slirp1.hpp).
    bool per_instance = false;
};
inline constexpr std::array<DaemonName, 6> daemons{{
    {"alopex-brokerd", "org.alopex.Broker1", "/org/alopex/Broker1", "org.alopex.Broker1"},
    {"alopex-linkd", "org.alopex.Link1", "/org/alopex/Link1", "org.alopex.Link1.Manager"},
    {"alopex-fwd", "org.alopex.Firewall1", "/org/alopex/Firewall1", "org.alopex.Firewall1"},
    {"alopex-slirpd", "org.alopex.Slirp1", "/org/alopex/Slirp1", "org.alopex.Slirp1.Line", true},
    {"alopex-ovs-agentd", "org.alopex.PortAgent1", "/org/alopex/PortAgent1", "org.alopex.PortAgent1"},
    {"alopex-dnsd-controller", "org.alopex.Resolver1", "/org/alopex/Resolver1", "org.alopex.Resolver1"},
}};
} // namespace alopex::ipc
