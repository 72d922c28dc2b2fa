// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "alopex/fd.hpp"
#include "alopex/file.hpp"
#include "managed_file.hpp"

namespace alopex::broker {

Result<void> write_atomic(const std::filesystem::path &target, std::string_view bytes,
                          mode_t new_mode)
{
    const std::string name = target.string();
    if (!target.is_absolute() || !target.has_filename())
        return bus_fail(bus_error::IOError, "{}: not an absolute file path", name);
    std::filesystem::path dir = target.parent_path();

    struct stat st{};
    bool existing = lstat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode);

    // Built in steps: GCC 12 warns (-Wrestrict, a false positive) about "." + std::string
    // in optimised builds.
    std::string base = ".";
    base += target.filename().string();
    base += ".alopex-XXXXXX";
    std::string tmpl = (dir / base).string();
    Fd fd(mkostemp(tmpl.data(), O_CLOEXEC));
    if (!fd)
        return io_fail(errno, "cannot create a temporary file beside " + name);
    struct Unlinker {
        std::string path;
        bool armed = true;
        ~Unlinker()
        {
            if (armed)
                ::unlink(path.c_str());
        }
    } guard{tmpl};

    mode_t mode = existing ? (st.st_mode & 07777) : (new_mode & 07777);
    if (fchmod(fd.get(), mode) < 0)
        return io_fail(errno, "cannot set the mode of " + tmpl);
    if (existing && fchown(fd.get(), st.st_uid, st.st_gid) < 0 && errno != EPERM)
        return io_fail(errno, "cannot set the owner of " + tmpl);

    std::string_view left = bytes;
    while (!left.empty()) {
        ssize_t n = ::write(fd.get(), left.data(), left.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return io_fail(errno, "cannot write " + tmpl);
        }
        left.remove_prefix(static_cast<size_t>(n));
    }
    if (fsync(fd.get()) < 0)
        return io_fail(errno, "cannot fsync " + tmpl);
    if (::rename(tmpl.c_str(), target.c_str()) < 0)
        return io_fail(errno, "cannot rename over " + name);
    guard.armed = false;

    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd)
        return io_fail(errno, "cannot open directory " + dir.string());
    if (fsync(dfd.get()) < 0)
        return io_fail(errno, "cannot fsync directory " + dir.string());
    return {};
}

Result<std::string> read_bounded(const std::filesystem::path &p, uint64_t max)
{
    auto text = read_regular_file(p, max);
    if (!text) {
        // Every failure to read a managed file is an I/O error for the caller.
        Error e = std::move(text.error());
        e.bus_name = bus_error::IOError;
        return std::unexpected(std::move(e));
    }
    return text;
}

} // namespace alopex::broker
