// SPDX-License-Identifier: GPL-2.0-or-later
// Owner for libmnl sockets and the few socket helpers the rtnetlink monitor (and fwd's
// nf_tables socket) need.
#pragma once

#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
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

// Whether a datagram with this source address (as recvmsg or recvmmsg filled it in) was
// sent by the kernel: an AF_NETLINK address of full length with nl_pid 0. Other processes
// can send to a socket's port id too (on NETLINK_USERSOCK anyone, elsewhere whoever holds
// CAP_NET_ADMIN in the namespace); only the kernel is believed.
bool from_kernel(const sockaddr_nl *src, socklen_t len) noexcept;

struct Datagram {
    enum class Status : uint8_t {
        Data,     // `size` bytes of one datagram from the kernel are in the buffer
        Again,    // nothing to read now
        Foreign,  // a datagram not sent by the kernel; already discarded
    };
    Status status = Status::Again;
    size_t size = 0;
};
// One recvmsg(flags) on a netlink socket, EINTR retried, the sender checked with
// from_kernel(). A datagram larger than `buf` is an error (EMSGSIZE).
Result<Datagram> receive_from_kernel(int fd, std::span<std::byte> buf, int flags = 0);

} // namespace alopex::netlink
