// SPDX-License-Identifier: GPL-2.0-or-later
// Reading whole regular files, bounded; writing them atomically and durably.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>

#include "alopex/error.hpp"

namespace alopex {

// Reads a regular file (O_CLOEXEC|O_NOCTTY|O_NONBLOCK, so a FIFO or device planted at the
// path cannot block or take a controlling tty). Errors name the path: "PATH: cannot
// open: ...", "PATH: not a regular file", "PATH: file too large (over N bytes)".
Result<std::string> read_regular_file(const std::filesystem::path &p,
                                      size_t max_size = std::numeric_limits<size_t>::max());

// Like read_regular_file(), for `name` (one path component) inside the open directory
// `dirfd`, never following a symlink there (O_NOFOLLOW: a link planted at `name` is an
// error, ELOOP).
Result<std::string> read_regular_file_at(int dirfd, std::string_view name,
                                         size_t max_size = std::numeric_limits<size_t>::max());

struct AtomicWrite {
    // Mode of a new file; an existing regular file keeps its own mode and owner.
    mode_t mode = 0644;
    // fdatasync instead of fsync for the data (the file's metadata is made durable by
    // the rename and the directory's fsync anyway).
    bool datasync = false;
};

// The one way alopex replaces a file: a temporary file beside the target (same
// directory, O_EXCL, O_CLOEXEC), written, fsync'd, renamed over the target, then the
// directory fsync'd so the rename itself survives a crash; the temporary file is removed
// on every error. Readers see the old file or the new one, never a mix. Errors are
// org.alopex.Error.IOError naming the path.
Result<> write_file_atomic(const std::filesystem::path &path, std::string_view bytes,
                           const AtomicWrite &how = {});

// The same for `name` (one path component, no '/') inside the open directory `dirfd`:
// the directory is resolved once by the caller, and a symlink planted at `name` is
// replaced, never followed (the temporary file is created with O_NOFOLLOW|O_EXCL).
// `dir_name` only names the directory in error messages.
Result<> write_file_atomic_at(int dirfd, std::string_view dir_name, std::string_view name,
                              std::string_view bytes, const AtomicWrite &how = {});

// fsync of a directory (after creating, renaming or removing an entry in it).
Result<> fsync_directory(const std::filesystem::path &dir);

} // namespace alopex
