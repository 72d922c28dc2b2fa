// SPDX-License-Identifier: GPL-2.0-or-later
#include "stats.hpp"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include <libmnl/libmnl.h>

#include "alopex/netlink/socket.hpp"

namespace alopex::linkd {

Result<netlink::LinkStats> read_link_stats(int ifindex)
{
    auto sock = netlink::open_route_socket();
    if (!sock)
        return std::unexpected(sock.error());
    std::vector<std::byte> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr *nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_GETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = 1;
    auto *ifi = static_cast<ifinfomsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    if (mnl_socket_sendto(sock->get(), nlh, nlh->nlmsg_len) < 0)
        return io_fail(errno, "RTM_GETLINK");
    // The socket is non-blocking; the kernel answers a GETLINK synchronously within
    // sendmsg(), so the reply is already queued.
    ssize_t n = mnl_socket_recvfrom(sock->get(), buf.data(), buf.size());
    if (n < 0)
        return io_fail(errno, "RTM_GETLINK reply");
    std::optional<netlink::LinkStats> stats;
    auto r = netlink::parse_stream(std::span<const std::byte>(buf.data(), static_cast<size_t>(n)),
                                   [&](netlink::Message &&m) {
                                       if (auto *l = std::get_if<netlink::Link>(&m.object))
                                           if (l->ifindex == ifindex)
                                               stats = l->stats;
                                   });
    if (!r)
        return std::unexpected(r.error());
    if (!stats)
        return failf(ENODEV, "link {} is gone", ifindex);
    return *stats;
}

} // namespace alopex::linkd
