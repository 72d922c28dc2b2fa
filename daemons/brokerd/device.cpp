// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "device.hpp"

namespace alopex::broker {

namespace {

// Where an open fd really is (the kernel's name for it, symlinks resolved).
Result<std::string> real_path(int fd)
{
    char buf[PATH_MAX];
    std::string link = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = readlink(link.c_str(), buf, sizeof buf);
    if (n < 0)
        return io_fail(errno, "path: cannot resolve " + link);
    if (static_cast<size_t>(n) >= sizeof buf)
        return bus_fail(bus_error::IOError, "path: {} resolves to an over-long path", link);
    return std::string(buf, static_cast<size_t>(n));
}

std::string join(const std::string &dir, const std::string &name)
{
    return dir == "/" ? "/" + name : dir + "/" + name;
}

bool matches(const std::string &glob, const std::string &p)
{
    return fnmatch(glob.c_str(), p.c_str(), FNM_PATHNAME) == 0;
}

} // namespace

Result<Fd> open_device(const std::filesystem::path &path, const std::string &glob)
{
    const std::string shown = path.string();
    auto not_allowed = [&] {
        return bus_fail(bus_error::NotAuthorized, "path: '{}' resolves outside its allowed glob",
                        shown);
    };
    if (!path.is_absolute() || !path.has_filename())
        return bus_fail(bus_error::PathNotAllowed, "path: '{}' is not an absolute file path",
                        shown);
    const std::string name = path.filename().string();
    Fd dir(::open(path.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir)
        return io_fail(errno, "path: cannot open the directory of " + shown);
    auto dir_real = real_path(dir.get());
    if (!dir_real)
        return std::unexpected(std::move(dir_real.error()));
    if (!matches(glob, join(*dir_real, name)))
        return not_allowed(); // a symlinked directory: nothing is opened

    Fd fd(::openat(dir.get(), name.c_str(),
                   O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
    if (!fd && errno == ELOOP)
        return bus_fail(bus_error::WrongFileType, "path: '{}' is a symbolic link", shown);
    if (!fd)
        return io_fail(errno, "path: cannot open " + shown);
    struct stat st{};
    if (fstat(fd.get(), &st) < 0)
        return io_fail(errno, "path: cannot stat " + shown);
    if (!S_ISCHR(st.st_mode))
        return bus_fail(bus_error::WrongFileType, "path: '{}' is not a character device",
                        shown);
    auto real = real_path(fd.get());
    if (!real)
        return std::unexpected(std::move(real.error()));
    if (!matches(glob, *real))
        return not_allowed();
    return fd;
}

} // namespace alopex::broker
