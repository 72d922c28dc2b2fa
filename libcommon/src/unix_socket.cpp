// SPDX-License-Identifier: GPL-2.0-or-later
#include "alopex/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

namespace alopex {

Result<Fd> connect_unix(std::string_view path, bool nonblocking)
{
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof sa.sun_path)
        return std::unexpected(Error{ENAMETOOLONG,
                                     fmt::format("{}: not a usable unix socket path", path.substr(0, 200)),
                                     bus_error::IOError});
    std::memcpy(sa.sun_path, path.data(), path.size());
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0));
    if (!fd)
        return io_fail(errno, "cannot create a unix socket");
    int r;
    do
        r = ::connect(fd.get(), reinterpret_cast<const sockaddr *>(&sa),
                      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1));
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return io_fail(errno, "cannot connect to " + std::string(path));
    return fd;
}

} // namespace alopex
