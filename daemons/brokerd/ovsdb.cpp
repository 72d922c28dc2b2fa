// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

#include "ovsdb.hpp"

namespace alopex::broker {

Result<Fd> connect_unix(const std::filesystem::path &socket)
{
    struct sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    const std::string &s = socket.native();
    if (s.empty() || s.size() >= sizeof sa.sun_path)
        return bus_fail(bus_error::IOError, "{}: not a usable socket path", s);
    memcpy(sa.sun_path, s.data(), s.size());
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
        return io_fail(errno, "cannot create a unix socket");
    int r;
    do
        r = ::connect(fd.get(), reinterpret_cast<const sockaddr *>(&sa),
                      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + s.size() + 1));
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return io_fail(errno, "cannot connect to " + s);
    return fd;
}

} // namespace alopex::broker
