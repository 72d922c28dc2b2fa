// SPDX-License-Identifier: GPL-2.0-or-later
// alopexctl's command line: parsed into a value, no I/O, so unit tests reach it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"

namespace alopexctl {

enum class Command { help, version, status, ledger_verify, ledger_show, link, wait_online, checkpoint, fw };

struct Options {
    Command command = Command::help;
    bool json = false;
    std::optional<std::string> file;    // ledger --file
    std::optional<uint64_t> tail;       // ledger show --tail N
    std::vector<std::string> words;     // link / wait-online / fw: the words after the command
};

// argv without the program name. Errors name the offending argument.
alopex::Result<Options> parse_args(std::span<const std::string_view> args);

std::string usage(std::string_view program);

} // namespace alopexctl
