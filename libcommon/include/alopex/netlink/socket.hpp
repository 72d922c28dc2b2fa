// SPDX-License-Identifier: GPL-2.0-or-later
// Owner for libmnl sockets and the few socket helpers the rtnetlink monitor needs.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include <libmnl/libmnl.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::netlink {

using MnlSocketPtr = std::unique_ptr<mnl_socket, CDeleter<mnl_socket_close>>;

// A NETLINK_ROUTE socket opened SOCK_CLOEXEC|SOCK_NONBLOCK and bound with an automatic
// port id (no multicast groups yet).
Result<MnlSocketPtr> open_route_socket();

// Joins RTNLGRP_* multicast groups (1..32) all at once, by re-binding with the group
// mask: one NETLINK_ADD_MEMBERSHIP per group would open windows in which the groups
// joined first deliver events and the later ones do not, and a consumer replaying that
// stream onto a dump would apply, say, a link's "down" without the route events that
// followed it (seen: a dump's prefix routes flushed by a replayed creation NEWLINK).
Result<> join_groups(mnl_socket *s, std::span<const unsigned> groups);

// Sets the receive buffer: SO_RCVBUFFORCE (needs CAP_NET_ADMIN), falling back to
// SO_RCVBUF. Returns the size the kernel reports back (it doubles the request).
Result<int> set_receive_buffer(mnl_socket *s, int bytes);

} // namespace alopex::netlink
