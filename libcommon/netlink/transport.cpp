// SPDX-License-Identifier: GPL-2.0-or-later
// The kernel transport: two libmnl NETLINK_ROUTE sockets, one for multicast events and
// one for dumps, so dump replies never queue behind (or get lost with) the event stream.
#include "alopex/netlink/transport.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>

#include "alopex/netlink/socket.hpp"

namespace alopex::netlink {
namespace {

class KernelTransport final : public Transport {
public:
    KernelTransport(MnlSocketPtr events, MnlSocketPtr dump, int rcvbuf)
        : events_(std::move(events)), dump_(std::move(dump)), rcvbuf_(rcvbuf),
          dump_portid_(mnl_socket_get_portid(dump_.get()))
    {
    }

    int fd(Channel c) const noexcept override { return mnl_socket_get_fd(sock(c)); }
    uint32_t dump_portid() const noexcept override { return dump_portid_; }
    int receive_buffer() const noexcept override { return rcvbuf_; }

    Result<> subscribe(std::span<const unsigned> groups) override
    {
        return join_groups(events_.get(), groups);
    }

    Result<> request_dump(const DumpRequest &req) override
    {
        alignas(nlmsghdr) std::array<char, 256> buf{};
        nlmsghdr *nlh = mnl_nlmsg_put_header(buf.data());
        nlh->nlmsg_type = req.type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = req.seq;
        // ifinfomsg, ifaddrmsg and rtmsg all start with the family byte.
        size_t extra = req.type == RTM_GETLINK ? sizeof(ifinfomsg)
                       : req.type == RTM_GETADDR ? sizeof(ifaddrmsg)
                                                 : sizeof(rtmsg);
        auto family = static_cast<uint8_t *>(mnl_nlmsg_put_extra_header(nlh, extra));
        *family = req.family;
        if (mnl_socket_sendto(dump_.get(), nlh, nlh->nlmsg_len) < 0)
            return fail(errno, "cannot send the rtnetlink dump request");
        return {};
    }

    Result<Received> receive(Channel c, std::span<std::byte> buf) override
    {
        ALOPEX_TRY(d, receive_from_kernel(fd(c), buf));   // only the kernel speaks here
        switch (d.status) {
        case Datagram::Status::Data:
            return Received{Status::Data, d.size};
        case Datagram::Status::Foreign:
            return Received{Status::Foreign, 0};
        case Datagram::Status::Again:
            break;
        }
        return Received{Status::Again, 0};
    }

private:
    mnl_socket *sock(Channel c) const noexcept { return c == Channel::Events ? events_.get() : dump_.get(); }

    MnlSocketPtr events_, dump_;
    int rcvbuf_ = 0;
    uint32_t dump_portid_ = 0;
};

} // namespace

Result<std::unique_ptr<Transport>> open_kernel_transport(int receive_buffer)
{
    auto ev = open_route_socket();
    if (!ev)
        return std::unexpected(ev.error());
    auto rb = set_receive_buffer(ev->get(), receive_buffer);
    if (!rb)
        return std::unexpected(rb.error());
    auto du = open_route_socket();
    if (!du)
        return std::unexpected(du.error());
    return std::make_unique<KernelTransport>(std::move(*ev), std::move(*du), *rb);
}

} // namespace alopex::netlink
