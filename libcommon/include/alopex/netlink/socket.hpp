// SPDX-License-Identifier: GPL-2.0-or-later
// Owner for libmnl sockets and the few socket helpers the rtnetlink monitor needs.
#pragma once

#include <cstddef>
#include <memory>

#include <libmnl/libmnl.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::netlink {

using MnlSocketPtr = std::unique_ptr<mnl_socket, CDeleter<mnl_socket_close>>;

// A NETLINK_ROUTE socket opened SOCK_CLOEXEC|SOCK_NONBLOCK and bound with an automatic
// port id (no multicast groups yet).
Result<MnlSocketPtr> open_route_socket();

// Joins one RTNLGRP_* multicast group (NETLINK_ADD_MEMBERSHIP).
Result<> add_membership(mnl_socket *s, unsigned group);

// Sets the receive buffer: SO_RCVBUFFORCE (needs CAP_NET_ADMIN), falling back to
// SO_RCVBUF. Returns the size the kernel reports back (it doubles the request).
Result<int> set_receive_buffer(mnl_socket *s, int bytes);

} // namespace alopex::netlink
