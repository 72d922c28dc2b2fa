// SPDX-License-Identifier: GPL-2.0-or-later
// Atomic replacement of a file known by id, and bounded reading of one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "alopex/error.hpp"

namespace alopex::broker {

// Writes `bytes` to a temp file in the target's directory (mkostemp, O_CLOEXEC), gives it
// the existing regular file's mode and owner (or `new_mode` and the writer's ownership when
// the target does not exist or is not a regular file), fsyncs it, renames it over the
// target and fsyncs the directory. Readers see the old file or the new one, never a mix.
// A symlink at `target` is replaced, not followed. Keeping the owner needs root; when not
// root (tests) an EPERM from fchown is ignored. Errors are IOError.
Result<void> write_atomic(const std::filesystem::path &target, std::string_view bytes,
                          mode_t new_mode);

// Reads a regular file of at most `max` bytes (IOError otherwise).
Result<std::string> read_bounded(const std::filesystem::path &p, uint64_t max);

} // namespace alopex::broker
