// SPDX-License-Identifier: GPL-2.0-or-later
// Shell helpers the C++ integration tests share to run the independent tools (`ip -j`).
#pragma once

#include <string>

namespace alopex::itest {

// Runs a shell command; true when it exits 0.
bool sh(const std::string &cmd);
// Runs a command and returns its standard output; throws std::runtime_error when it
// cannot be started or does not exit 0.
std::string capture(const std::string &cmd);

} // namespace alopex::itest
