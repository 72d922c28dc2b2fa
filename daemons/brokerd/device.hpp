// SPDX-License-Identifier: GPL-2.0-or-later
// Opening a serial (character) device to hand over as a file descriptor.
#pragma once

#include <filesystem>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"

namespace alopex::broker {

// open(O_RDWR|O_NOCTTY|O_NONBLOCK|O_CLOEXEC); the result must be a character device
// (WrongFileType otherwise, IOError when open fails). The path is checked by policy first.
Result<Fd> open_device(const std::filesystem::path &path);

} // namespace alopex::broker
