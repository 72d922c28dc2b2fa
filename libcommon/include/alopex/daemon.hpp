// SPDX-License-Identifier: GPL-2.0-or-later
// What every alopex daemon's main() does the same way: --help/--version, the event loop
// with SIGTERM/SIGINT/SIGHUP as event sources, the system bus attached to it, and running
// the loop. The daemon keeps only its own wiring.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::daemon {

// `--help`/`-h` prints `usage` (exit 0), `--version` prints "<name> <version>" (exit 0),
// anything else is refused with the usage on stderr (exit 2). nullopt: no arguments, go on.
std::optional<int> parse_args(int argc, char **argv, const char *name, const char *usage);

// Blocks SIGTERM, SIGINT and SIGHUP (they arrive as event sources) and opens the thread's
// default event loop.
Result<EventPtr> event_loop();

// SIGTERM and SIGINT log "received signal X, exiting<exit_note>", send STOPPING=1 and
// end the loop with 0; SIGHUP calls `on_hangup` (which must not throw across the loop:
// exceptions are caught and logged). Keep the returned object for the loop's lifetime.
class Signals {
public:
    static Result<std::unique_ptr<Signals>> watch(sd_event *event, std::string exit_note,
                                                  std::function<void()> on_hangup);
    Signals(const Signals &) = delete;
    Signals &operator=(const Signals &) = delete;

private:
    Signals() = default;
    static int on_exit(sd_event_source *s, const signalfd_siginfo *si, void *userdata) noexcept;
    static int on_hup(sd_event_source *s, const signalfd_siginfo *si, void *userdata) noexcept;
    std::string exit_note_;
    std::function<void()> on_hangup_;
    EventSourcePtr term_, int_, hup_;
};

// The bus's sources run above everything else of a daemon's loop (netlink sockets and
// dumps at NORMAL, planning and coalescing defers below): a call is answered between two
// reads of a long dump, such as linkd's 600,000 routes. (Attached at NORMAL, sd-bus's
// dispatch of messages it had already read waited for the whole dump.)
inline constexpr int64_t bus_priority = SD_EVENT_PRIORITY_NORMAL - 1;

// The system bus ($DBUS_SYSTEM_BUS_ADDRESS), attached to `event` at bus_priority; the
// process exits its loop when the bus goes away.
Result<BusPtr> system_bus(sd_event *event);

// A daemon's first two steps: event_loop(), then system_bus() attached to it.
struct LoopAndBus {
    EventPtr event;
    BusPtr bus;
};
Result<LoopAndBus> loop_and_bus();

// Runs the loop; logs a failure of the loop itself. Returns the process exit code.
int run(sd_event *event);

} // namespace alopex::daemon
