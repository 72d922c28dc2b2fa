// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "alopex/fd.hpp"
#include "alopex/file.hpp"

namespace alopex {

Result<std::string> read_regular_file(const std::filesystem::path &p, size_t max_size)
{
    Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd)
        return failf(errno, "{}: cannot open: {}", p.string(), strerror(errno));
    struct stat st{};
    if (fstat(fd.get(), &st) < 0)
        return failf(errno, "{}: cannot stat: {}", p.string(), strerror(errno));
    if (!S_ISREG(st.st_mode))
        return failf(EINVAL, "{}: not a regular file", p.string());
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return failf(errno, "{}: cannot read: {}", p.string(), strerror(errno));
        }
        if (n == 0)
            return out;
        if (out.size() + static_cast<size_t>(n) > max_size)
            return failf(EFBIG, "{}: file too large (over {} bytes)", p.string(), max_size);
        out.append(buf, static_cast<size_t>(n));
    }
}

} // namespace alopex
