// SPDX-License-Identifier: GPL-2.0-or-later
// A managed file's place: its directory, opened once, and its name in it. Reads and
// writes go through that directory fd and never follow a symbolic link at the name
// (read_regular_file_at, write_file_atomic_at: libcommon's one way to replace a file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"

namespace alopex::broker {

struct ManagedTarget {
    Fd dir;               // O_RDONLY|O_DIRECTORY|O_CLOEXEC
    std::string dir_name; // for messages
    std::string name;     // one path component
};

// Opens the directory of the absolute path `p` (from broker.toml). IOError otherwise.
Result<ManagedTarget> open_target(const std::filesystem::path &p);

// The target's bytes, a regular file of at most `max` bytes, never through a symlink at
// its name (ELOOP). Every failure is IOError.
Result<std::string> read_target(const ManagedTarget &t, uint64_t max);

} // namespace alopex::broker
