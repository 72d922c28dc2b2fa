// SPDX-License-Identifier: GPL-2.0-or-later
// alopexctl's command line: the global options and the command registry (every
// command's words, usage, options and handler, gathered from status, ledger, link,
// checkpoint and fw), parsed into a value without I/O so unit tests reach it.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "args.hpp"
#include "context.hpp"
#include "output.hpp"

namespace alopexctl {

// Every command of alopexctl (their handlers run against `ctx`).
std::vector<alopex::cli::Command> all_commands(Context &ctx);

struct Invocation {
    enum class What { help, version, command };
    What what = What::help;
    alopex::cli::Format format;
    alopex::cli::Found found;   // What::command: the command and its arguments
};

// argv without the program name. Global options (--json, -t, -f, -m, --help, --version)
// and each command's own options may appear anywhere, those of wait-online after it.
// Errors name the offending argument.
alopex::Result<Invocation> parse_command_line(std::span<const std::string_view> argv,
                                              std::span<const alopex::cli::Command> commands);

std::string usage(std::span<const alopex::cli::Command> commands);

} // namespace alopexctl
