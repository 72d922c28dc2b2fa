// SPDX-License-Identifier: GPL-2.0-or-later
// Reading whole regular files, bounded.
#pragma once

#include <cstddef>
#include <filesystem>
#include <limits>
#include <string>

#include "alopex/error.hpp"

namespace alopex {

// Reads a regular file (O_CLOEXEC|O_NOCTTY|O_NONBLOCK, so a FIFO or device planted at the
// path cannot block or take a controlling tty). Errors name the path: "PATH: cannot
// open: ...", "PATH: not a regular file", "PATH: file too large (over N bytes)".
Result<std::string> read_regular_file(const std::filesystem::path &p,
                                      size_t max_size = std::numeric_limits<size_t>::max());

} // namespace alopex
