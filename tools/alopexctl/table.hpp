// SPDX-License-Identifier: GPL-2.0-or-later
// Plain-text tables for human output.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"

namespace alopexctl {

using Row = std::vector<std::string>;

// Columns separated by two spaces, each padded to its widest cell (counted in UTF-8
// code points); the last column is not padded, and no line has trailing blanks.
std::string format_table(const Row &header, const std::vector<Row> &rows);

// Replaces control characters (newlines, tabs, escapes) by a visible escape so one
// record stays on one line and cannot drive the terminal.
std::string printable(std::string_view s);

// At most `max` code points; a cut string ends with "…".
std::string ellipsize(std::string_view s, size_t max);

size_t display_width(std::string_view s);

// Exit statuses (alopexctl(1)).
inline constexpr int exit_failure = 3;       // a daemon refused, the bus failed, ...
inline constexpr int exit_not_running = 4;   // the daemon asked for does not run

// Prints a failure as "alopexctl: NAME: message" on stderr and returns its exit status:
// exit_not_running when the bus says the daemon's name has no owner, else exit_failure.
int report_error(const alopex::Error &e);

} // namespace alopexctl
