// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "device.hpp"

namespace alopex::broker {

Result<Fd> open_device(const std::filesystem::path &path)
{
    Fd fd(::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd)
        return io_fail(errno, "path: cannot open " + path.string());
    struct stat st{};
    if (fstat(fd.get(), &st) < 0)
        return io_fail(errno, "path: cannot stat " + path.string());
    if (!S_ISCHR(st.st_mode))
        return bus_fail(bus_error::WrongFileType, "path: '{}' is not a character device",
                        path.string());
    return fd;
}

} // namespace alopex::broker
