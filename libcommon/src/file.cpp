// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "alopex/fd.hpp"
#include "alopex/file.hpp"

namespace alopex {

namespace {

Result<std::string> read_all(const Fd &fd, const std::string &name, size_t max_size)
{
    struct stat st{};
    if (fstat(fd.get(), &st) < 0)
        return failf(errno, "{}: cannot stat: {}", name, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return failf(EINVAL, "{}: not a regular file", name);
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return failf(errno, "{}: cannot read: {}", name, strerror(errno));
        }
        if (n == 0)
            return out;
        if (out.size() + static_cast<size_t>(n) > max_size)
            return failf(EFBIG, "{}: file too large (over {} bytes)", name, max_size);
        out.append(buf, static_cast<size_t>(n));
    }
}

bool one_component(std::string_view name)
{
    return !name.empty() && name != "." && name != ".." &&
           name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

std::string join(std::string_view dir, std::string_view name)
{
    std::string out(dir);
    if (out.empty() || out.back() != '/')
        out += '/';
    out += name;
    return out;
}

Result<> write_all(int fd, std::string_view bytes, const std::string &name)
{
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return io_fail(errno, "cannot write " + name);
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

} // namespace

Result<std::string> read_regular_file(const std::filesystem::path &p, size_t max_size)
{
    Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd)
        return failf(errno, "{}: cannot open: {}", p.string(), strerror(errno));
    return read_all(fd, p.string(), max_size);
}

Result<std::string> read_regular_file_at(int dirfd, std::string_view name, size_t max_size)
{
    std::string n(name);
    if (!one_component(name))
        return failf(EINVAL, "{}: not a file name", n);
    Fd fd(::openat(dirfd, n.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW));
    if (!fd)
        return failf(errno, "{}: cannot open: {}", n, strerror(errno));
    return read_all(fd, n, max_size);
}

Result<> write_file_atomic_at(int dirfd, std::string_view dir_name, std::string_view name,
                              std::string_view bytes, const AtomicWrite &how)
{
    const std::string target = join(dir_name, name);
    if (!one_component(name))
        return bus_fail(bus_error::IOError, "{}: not a file name", target);
    const std::string base(name);

    struct stat st{};
    bool existing = fstatat(dirfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISREG(st.st_mode);

    // ".NAME.alopex-XXXXXXXX" in the same directory: O_EXCL|O_NOFOLLOW, so neither a file
    // nor a symlink somebody planted under that name is ever written through.
    Fd fd;
    std::string tmp;
    for (int attempt = 0; attempt < 16 && !fd; ++attempt) {
        uint32_t rnd = 0;
        if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
            rnd = static_cast<uint32_t>(getpid()) * 2654435761u + static_cast<uint32_t>(attempt);
        tmp = fmt::format(".{}.alopex-{:08x}", base.substr(0, 200), rnd);
        fd.reset(::openat(dirfd, tmp.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
        if (!fd && errno != EEXIST)
            return io_fail(errno, "cannot create a temporary file beside " + target);
    }
    if (!fd)
        return io_fail(EEXIST, "cannot create a temporary file beside " + target);
    struct Unlinker {
        int dirfd;
        std::string name;
        bool armed = true;
        ~Unlinker()
        {
            if (armed)
                ::unlinkat(dirfd, name.c_str(), 0);
        }
    } guard{dirfd, tmp};
    const std::string tmp_path = join(dir_name, tmp);

    mode_t mode = existing ? (st.st_mode & 07777) : (how.mode & 07777);
    if (fchmod(fd.get(), mode) < 0)
        return io_fail(errno, "cannot set the mode of " + tmp_path);
    if (existing && fchown(fd.get(), st.st_uid, st.st_gid) < 0 && errno != EPERM)
        return io_fail(errno, "cannot set the owner of " + tmp_path);
    ALOPEX_TRY_VOID(write_all(fd.get(), bytes, tmp_path));
    if ((how.datasync ? fdatasync(fd.get()) : fsync(fd.get())) < 0)
        return io_fail(errno, "cannot fsync " + tmp_path);
    if (::renameat(dirfd, tmp.c_str(), dirfd, base.c_str()) < 0)
        return io_fail(errno, "cannot rename over " + target);
    guard.armed = false;
    if (fsync(dirfd) < 0)
        return io_fail(errno, "cannot fsync directory " + std::string(dir_name));
    return {};
}

Result<> write_file_atomic(const std::filesystem::path &path, std::string_view bytes,
                           const AtomicWrite &how)
{
    if (!path.has_filename())
        return bus_fail(bus_error::IOError, "{}: not a file path", path.string());
    std::filesystem::path dir = path.parent_path();
    if (dir.empty())
        dir = ".";
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd)
        return io_fail(errno, "cannot open directory " + dir.string());
    return write_file_atomic_at(dfd.get(), dir.string(), path.filename().string(), bytes, how);
}

Result<> fsync_directory(const std::filesystem::path &dir)
{
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd)
        return io_fail(errno, "cannot open directory " + dir.string());
    if (fsync(dfd.get()) < 0)
        return io_fail(errno, "cannot fsync directory " + dir.string());
    return {};
}

} // namespace alopex
