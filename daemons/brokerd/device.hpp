// SPDX-License-Identifier: GPL-2.0-or-later
// Opening a serial (character) device to hand over as a file descriptor.
#pragma once

#include <filesystem>
#include <string>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"

namespace alopex::broker {

// `path` was allowed by policy through the [[device]] glob `glob`. Its directory is
// opened and resolved first: the real path of directory + name must still match the
// glob (else NotAuthorized, nothing opened). Then the name is opened relative to that
// directory with O_RDWR|O_NOCTTY|O_NONBLOCK|O_CLOEXEC|O_NOFOLLOW (a symbolic link there
// is WrongFileType), and the fd is checked again: fstat says character device (else
// WrongFileType) and its real path matches the glob (else NotAuthorized). IOError when
// open fails.
Result<Fd> open_device(const std::filesystem::path &path, const std::string &glob);

} // namespace alopex::broker
