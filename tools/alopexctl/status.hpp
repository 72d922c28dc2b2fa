// SPDX-License-Identifier: GPL-2.0-or-later
// alopexctl status: which alopex daemons are on the bus, and their versions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>

#include "args.hpp"
#include "context.hpp"
#include "output.hpp"

namespace alopexctl {

struct DaemonStatus {
    std::string daemon;                 // executable name
    std::string service;                // well-known bus name
    bool running = false;               // the name has an owner
    std::optional<std::string> version; // from Version(), when running and it answered
    std::optional<std::string> error;   // why Version() failed, when running
};

// One entry per daemon of alopex::ipc::daemons, in that order (a daemon with one bus
// name per instance, alopex-slirpd: one per running instance, or one "not running" with
// the names' pattern). Never fails as a whole: a daemon that cannot be asked is reported
// with its error.
std::vector<DaemonStatus> query_status(sd_bus *bus);

// Columns DAEMON, BUS NAME, STATE, VERSION (with the error, if any); JSON
// {"daemons": [{daemon, service, running, version, error?}]}.
alopex::cli::Document status_document(const std::vector<DaemonStatus> &s);

std::vector<alopex::cli::Command> status_commands(Context &ctx);

} // namespace alopexctl
