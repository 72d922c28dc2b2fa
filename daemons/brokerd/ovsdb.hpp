// SPDX-License-Identifier: GPL-2.0-or-later
// A connection to the root-only ovsdb-server socket, handed over as a file descriptor.
#pragma once

#include <filesystem>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"

namespace alopex::broker {

// A connected AF_UNIX SOCK_STREAM socket (SOCK_CLOEXEC) to `socket`; IOError on failure.
Result<Fd> connect_unix(const std::filesystem::path &socket);

} // namespace alopex::broker
