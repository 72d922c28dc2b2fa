// SPDX-License-Identifier: GPL-2.0-or-later
// What every alopexctl command runs with: the output format the command line asked for,
// the system bus (opened when a command first needs it) and the way results and
// failures are printed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"
#include "output.hpp"

namespace alopexctl {

// Exit statuses (alopexctl(1)).
inline constexpr int exit_ok = 0;
inline constexpr int exit_broken = 1;        // ledger verify: the chain does not hold
inline constexpr int exit_usage = 2;         // the command line is wrong
inline constexpr int exit_failure = 3;       // a daemon refused, the bus failed, ...
inline constexpr int exit_not_running = 4;   // the daemon asked for does not run

// A daemon's answer to Reload: what waits for its restart (PENDING RESTART; JSON
// {"pending_restart": [...]}).
alopex::cli::Document pending_restart_document(const std::vector<std::string> &pending);

class Context {
public:
    using Opener = std::function<alopex::Result<alopex::BusPtr>()>;
    explicit Context(Opener open) : open_(std::move(open)) {}
    // A bus the caller owns (tests).
    explicit Context(sd_bus *bus) : borrowed_(bus) {}
    Context(const Context &) = delete;
    Context &operator=(const Context &) = delete;

    alopex::cli::Format format;
    bool json() const noexcept { return format.mode == alopex::cli::Format::Mode::json; }

    // The system bus, opened on first use.
    alopex::Result<sd_bus *> bus();

    // Prints the document as the format says: exit_ok, or exit_usage for a -f field the
    // document does not have.
    int print(const alopex::cli::Document &d);
    // Prints "alopexctl: NAME: message" on stderr: exit_not_running when the bus says the
    // daemon's name has no owner, else exit_failure.
    static int fail(const alopex::Error &e);
    // Prints "alopexctl: message" and the hint to --help: exit_usage.
    static int usage_error(const alopex::Error &e);

private:
    Opener open_;
    alopex::BusPtr owned_;
    sd_bus *borrowed_ = nullptr;
};

} // namespace alopexctl
