// SPDX-License-Identifier: GPL-2.0-or-later
// The kernel side of a Requester: one netlink socket of any protocol.
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstring>

#include "alopex/netlink/requester.hpp"
#include "alopex/netlink/socket.hpp"

namespace alopex::netlink {

namespace {

class KernelChannel final : public RequestChannel {
public:
    KernelChannel(MnlSocketPtr s, int rcvbuf) : sock_(std::move(s)), rcvbuf_(rcvbuf) {}

    int fd() const noexcept override { return mnl_socket_get_fd(sock_.get()); }
    size_t receive_room() const noexcept override { return rcvbuf_ > 0 ? size_t(rcvbuf_) : 0; }

    Result<> reserve_send(size_t bytes) override
    {
        // The kernel refuses a message larger than the send buffer (EMSGSIZE); it doubles
        // what is asked and keeps some for itself.
        if (bytes + 4096 <= sndbuf_)
            return {};
        int want = static_cast<int>(std::min<size_t>(bytes + 65536, 1u << 30));
        if (setsockopt(fd(), SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) < 0 &&
            setsockopt(fd(), SOL_SOCKET, SO_SNDBUF, &want, sizeof want) < 0)
            return fail(errno, "cannot size the netlink send buffer");
        int got = 0;
        socklen_t len = sizeof got;
        if (getsockopt(fd(), SOL_SOCKET, SO_SNDBUF, &got, &len) == 0)
            sndbuf_ = size_t(got);
        return {};
    }

    Result<> reserve_receive(size_t bytes) override
    {
        if (bytes <= receive_room())
            return {};
        int want = static_cast<int>(std::min<size_t>(bytes, 1u << 30));
        ALOPEX_TRY(got, set_receive_buffer(sock_.get(), want));
        rcvbuf_ = got;
        return {};
    }

    Result<> send(std::span<const std::byte> bytes) override
    {
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        for (;;) {
            ssize_t n = ::sendto(fd(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr *>(&kernel),
                                 sizeof kernel);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return failf(errno, "netlink sendmsg failed: {}", strerror(errno));
            return {};
        }
    }

    Result<Transport::Received> receive(std::span<std::byte> buf) override
    {
        auto d = receive_from_kernel(fd(), buf, MSG_DONTWAIT);
        if (!d)
            return std::unexpected(d.error());
        switch (d->status) {
        case Datagram::Status::Data:
            return Transport::Received{Transport::Status::Data, d->size};
        case Datagram::Status::Foreign:
            return Transport::Received{Transport::Status::Foreign, 0};   // only the kernel answers
        case Datagram::Status::Again:
            break;
        }
        return Transport::Received{Transport::Status::Again, 0};
    }

private:
    MnlSocketPtr sock_;
    int rcvbuf_;
    size_t sndbuf_ = 0;
};

} // namespace

Result<std::unique_ptr<RequestChannel>> open_request_channel(int protocol, int receive_buffer)
{
    MnlSocketPtr s(mnl_socket_open2(protocol, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!s)
        return failf(errno, "cannot open a netlink socket (protocol {}): {}", protocol, strerror(errno));
    if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        return failf(errno, "cannot bind the netlink socket: {}", strerror(errno));
    int one = 1;
    // Extended ACKs (the kernel's message and the attribute it blames) and capped ACKs
    // (an error echoes only the request's header, not the whole request).
    (void)mnl_socket_setsockopt(s.get(), NETLINK_EXT_ACK, &one, sizeof one);
    (void)mnl_socket_setsockopt(s.get(), NETLINK_CAP_ACK, &one, sizeof one);
    auto rb = set_receive_buffer(s.get(), receive_buffer);
    if (!rb)
        return std::unexpected(rb.error());
    return std::make_unique<KernelChannel>(std::move(s), *rb);
}

} // namespace alopex::netlink
