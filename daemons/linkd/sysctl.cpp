// SPDX-License-Identifier: GPL-2.0-or-later
#include "sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "alopex/fd.hpp"
#include "alopex/file.hpp"

namespace alopex::linkd {
namespace {

Result<std::string> read_value(const std::filesystem::path &p)
{
    auto v = read_regular_file(p, 64);
    if (!v)
        return v;
    while (!v->empty() && (v->back() == '\n' || v->back() == ' '))
        v->pop_back();
    return v;
}

// Returns whether it wrote.
Result<bool> write_value(const std::filesystem::path &p, std::string_view value)
{
    auto cur = read_value(p);
    if (!cur)
        return std::unexpected(cur.error());
    if (*cur == value)
        return false;
    int fd = open(p.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return failf(errno, "{}: cannot open for writing", p.string());
    Fd owned(fd);
    std::string line(value);
    line.push_back('\n');
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return failf(errno, "{}: cannot write {}", p.string(), value);
    return true;
}

} // namespace

Result<bool> set_slaac(const std::string &link, bool on, const std::filesystem::path &root)
{
    if (link.empty() || link == "." || link == ".." || link.find('/') != std::string::npos)
        return failf(EINVAL, "not a link name: '{}'", link);
    auto dir = root / link;
    const char *accept_ra = "0";
    if (on) {
        auto fwd = read_value(dir / "forwarding");
        if (!fwd)
            return std::unexpected(fwd.error());
        accept_ra = *fwd == "0" ? "1" : "2";
    }
    auto a = write_value(dir / "accept_ra", accept_ra);
    if (!a)
        return a;
    auto b = write_value(dir / "autoconf", on ? "1" : "0");
    if (!b)
        return b;
    return *a || *b;
}

} // namespace alopex::linkd
