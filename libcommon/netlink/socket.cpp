// SPDX-License-Identifier: GPL-2.0-or-later
// libmnl socket helpers for rtnetlink.
#include "alopex/netlink/socket.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace alopex::netlink {

Result<MnlSocketPtr> open_route_socket()
{
    MnlSocketPtr s(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!s)
        return fail(errno, "cannot open a NETLINK_ROUTE socket");
    if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        return fail(errno, "cannot bind the NETLINK_ROUTE socket");
    return s;
}

Result<> join_groups(mnl_socket *s, std::span<const unsigned> groups)
{
    unsigned mask = 0;
    for (unsigned g : groups) {
        if (g < 1 || g > 32)
            return failf(EINVAL, "rtnetlink group {} cannot be joined atomically", g);
        mask |= 1U << (g - 1);
    }
    // A bound netlink socket may bind again with its own port id; the kernel then sets
    // the whole group mask under one lock.
    if (mnl_socket_bind(s, mask, mnl_socket_get_portid(s)) < 0)
        return failf(errno, "cannot join rtnetlink groups {:#x}", mask);
    return {};
}

Result<int> set_receive_buffer(mnl_socket *s, int bytes)
{
    int fd = mnl_socket_get_fd(s);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0)
        return fail(errno, "cannot set the netlink receive buffer");
    int got = 0;
    socklen_t len = sizeof got;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0)
        return fail(errno, "cannot read the netlink receive buffer size");
    return got;
}

bool from_kernel(const sockaddr_nl *src, socklen_t len) noexcept
{
    return src && len == sizeof(sockaddr_nl) && src->nl_family == AF_NETLINK && src->nl_pid == 0;
}

Result<Datagram> receive_from_kernel(int fd, std::span<std::byte> buf, int flags)
{
    for (;;) {
        sockaddr_nl addr{};
        iovec iov{buf.data(), buf.size()};
        msghdr msg{};
        msg.msg_name = &addr;
        msg.msg_namelen = sizeof addr;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        ssize_t n = recvmsg(fd, &msg, flags);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return Datagram{Datagram::Status::Again, 0};
            return fail(errno, "netlink receive failed");
        }
        if (!from_kernel(&addr, msg.msg_namelen))
            return Datagram{Datagram::Status::Foreign, 0};
        if (msg.msg_flags & MSG_TRUNC)
            return fail(EMSGSIZE, "netlink datagram truncated");
        return Datagram{Datagram::Status::Data, static_cast<size_t>(n)};
    }
}

} // namespace alopex::netlink
