// SPDX-License-Identifier: GPL-2.0-or-later
// alopexctl: inspect and change the alopex suite. Only wiring here: the command line and
// the registry in cli.cpp, each command in its own file.
//
// Exit status: 0 success, 1 the ledger's chain is broken, 2 usage error, 3 any other
// failure (bus unreachable, ledger unreadable, a daemon refused), 4 the daemon asked for
// does not run.
#include <exception>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "alopex-config.h"
#include "alopex/paths.hpp"
#include "cli.hpp"
#include "context.hpp"

namespace {

alopex::Result<alopex::BusPtr> open_bus()
{
    auto bus = alopex::paths::open_system_bus();
    if (!bus)
        return bus;
    // Let polkit ask the user on this terminal when a command calls a mutating method.
    sd_bus_set_allow_interactive_authorization(bus->get(), 1);
    // A hung daemon must not hang the command (polkit may wait for a password).
    sd_bus_set_method_call_timeout(bus->get(), 120 * 1000 * 1000);
    return bus;
}

int run(int argc, char **argv)
{
    alopexctl::Context ctx(open_bus);
    auto commands = alopexctl::all_commands(ctx);
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto inv = alopexctl::parse_command_line(args, commands);
    if (!inv)
        return alopexctl::Context::usage_error(inv.error());
    switch (inv->what) {
    case alopexctl::Invocation::What::help:
        fmt::print("{}", alopexctl::usage(commands));
        return alopexctl::exit_ok;
    case alopexctl::Invocation::What::version:
        fmt::print("alopexctl {}\n", ALOPEX_VERSION);
        return alopexctl::exit_ok;
    case alopexctl::Invocation::What::command:
        break;
    }
    ctx.format = inv->format;
    return inv->found.command->run(inv->found.args);
}

} // namespace

int main(int argc, char **argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception &e) {
        return alopexctl::Context::fail({EIO, e.what(), {}});
    }
}
