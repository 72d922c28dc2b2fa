// SPDX-License-Identifier: GPL-2.0-or-later
// A stream connection to a unix socket by path (the broker's ovsdb-server, ovs-agentd's
// OVSDB and OpenFlow sockets, dnsd-controller's unbound control socket).
#pragma once

#include <string_view>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"

namespace alopex {

// A connected AF_UNIX SOCK_STREAM socket (SOCK_CLOEXEC; SOCK_NONBLOCK with `nonblocking`,
// connected all the same: a unix connect completes at once or fails, EAGAIN when the
// listener's backlog is full). A path that is empty or does not fit sun_path is
// ENAMETOOLONG; the error names the path (D-Bus name IOError, as every failure here).
Result<Fd> connect_unix(std::string_view path, bool nonblocking = false);

} // namespace alopex
