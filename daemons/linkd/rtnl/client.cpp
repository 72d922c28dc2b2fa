// SPDX-License-Identifier: GPL-2.0-or-later
// Client: sends batches of rtnetlink requests and collects one acknowledgement per
// request. The kernel handles every message of a sendmsg() synchronously and queues
// one NLMSG_ERROR (error 0 = success) per message on our socket, so a chunk of requests
// is one sendmsg() and a few recvmmsg() calls. The receive buffer is what bounds a chunk:
// an ACK that does not fit is dropped by the kernel (ENOBUFS), and then nothing is known.
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "alopex/fd.hpp"
#include "rtnl.hpp"

namespace alopex::linkd::rtnl {

namespace {

// What one queued ACK costs against the receive buffer (skb truesize of a small message
// plus slack for an extack string); measured ~832 bytes per ACK on 6.18, so ~1.5x.
constexpr size_t ack_cost = 1280;
constexpr int wanted_rcvbuf = 4 * 1024 * 1024;
constexpr size_t recv_slots = 32;
constexpr size_t slot_bytes = 2048;

Error request_error(const Request &r, int code, std::string_view text)
{
    return Error{code, r.what.empty() ? std::string(text) : fmt::format("{}: {}", r.what, text), {}};
}

} // namespace

struct Client::Impl {
    Fd fd;
    uint32_t portid = 0;
    uint32_t seq = 0;
    size_t batch_bytes = max_batch_bytes;
    size_t max_in_flight = 1;

    Result<> send(std::span<const std::byte> buf);
    Result<> collect(std::span<const size_t> pending, uint32_t base, std::span<const Request> requests,
                     std::vector<std::optional<Result<>>> &results);
};

Result<std::unique_ptr<Client>> Client::open()
{
    auto impl = std::make_unique<Impl>();
    impl->fd.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!impl->fd)
        return io_fail(errno, "cannot open a NETLINK_ROUTE socket");
    int fd = impl->fd.get();
    int one = 1;
    // Both are optional (kernels before 4.12 / 4.3): without them error texts are plain
    // strerror() and error ACKs echo the whole request, which still fits a slot.
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    int rcv = wanted_rcvbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    timeval tv{reply_timeout_seconds, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        return io_fail(errno, "cannot set SO_RCVTIMEO on the NETLINK_ROUTE socket");
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) < 0)
        return io_fail(errno, "cannot bind the NETLINK_ROUTE socket");
    socklen_t salen = sizeof sa;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&sa), &salen) < 0)
        return io_fail(errno, "cannot read the NETLINK_ROUTE socket's port id");
    impl->portid = sa.nl_pid;

    int got = 0;
    socklen_t len = sizeof got;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0)
        return io_fail(errno, "cannot read SO_RCVBUF");
    impl->max_in_flight = std::max<size_t>(1, static_cast<size_t>(got) / ack_cost);
    len = sizeof got;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) < 0)
        return io_fail(errno, "cannot read SO_SNDBUF");
    // netlink_sendmsg() refuses a datagram longer than sk_sndbuf - 32.
    if (got > 1024)
        impl->batch_bytes = std::min(max_batch_bytes, static_cast<size_t>(got) - 64);
    impl->seq = static_cast<uint32_t>(::time(nullptr));

    std::unique_ptr<Client> c(new Client());
    c->impl_ = std::move(impl);
    return c;
}

Client::~Client() = default;

Result<> Client::Impl::send(std::span<const std::byte> buf)
{
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    iovec iov{const_cast<std::byte *>(buf.data()), buf.size()};
    msghdr mh{};
    mh.msg_name = &kernel;
    mh.msg_namelen = sizeof kernel;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    for (;;) {
        ssize_t n = ::sendmsg(fd.get(), &mh, 0);
        if (n >= 0)
            return {};
        if (errno != EINTR)
            return io_fail(errno, "cannot send rtnetlink requests");
    }
}

Result<> Client::Impl::collect(std::span<const size_t> pending, uint32_t base, std::span<const Request> requests,
                               std::vector<std::optional<Result<>>> &results)
{
    size_t remaining = pending.size();
    std::vector<char> answered(pending.size(), 0);
    size_t slots = std::min(recv_slots, remaining);
    std::vector<unsigned char> bufs(slots * slot_bytes);
    std::vector<iovec> iovs(slots);
    std::vector<sockaddr_nl> from(slots);
    std::vector<mmsghdr> msgs(slots);

    while (remaining > 0) {
        for (size_t i = 0; i < slots; ++i) {
            iovs[i] = {bufs.data() + i * slot_bytes, slot_bytes};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_nl);
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int got = ::recvmmsg(fd.get(), msgs.data(), static_cast<unsigned>(slots), MSG_WAITFORONE, nullptr);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return failf(ETIMEDOUT, "no rtnetlink acknowledgement for {} of {} requests within {} s",
                             remaining, pending.size(), reply_timeout_seconds);
            if (errno == ENOBUFS)
                return fail(ENOBUFS, "rtnetlink acknowledgements lost (receive buffer overrun)");
            return io_fail(errno, "cannot receive rtnetlink acknowledgements");
        }
        for (int i = 0; i < got; ++i) {
            if (msgs[i].msg_hdr.msg_namelen < sizeof(sockaddr_nl))
                continue;   // no sender address: cannot be the kernel
            size_t len = std::min<size_t>(msgs[i].msg_len, slot_bytes);
            std::span<const unsigned char> datagram(bufs.data() + i * slot_bytes, len);
            for (auto &a : parse_acks(datagram, from[i].nl_pid, portid, base, pending.size())) {
                if (answered[a.index])
                    continue;
                answered[a.index] = 1;
                --remaining;
                const Request &r = requests[pending[a.index]];
                if (a.error == 0)
                    results[pending[a.index]] = Result<>{};
                else
                    results[pending[a.index]] = std::unexpected(
                        request_error(r, a.error, a.message.empty() ? std::strerror(a.error) : a.message));
            }
        }
    }
    return {};
}

Result<std::vector<Result<>>> Client::run(std::span<const Request> requests)
{
    std::vector<std::optional<Result<>>> results(requests.size());
    std::vector<std::byte> buf;
    buf.reserve(impl_->batch_bytes);
    std::vector<size_t> pending;
    size_t next = 0;
    while (next < requests.size()) {
        buf.clear();
        pending.clear();
        uint32_t base = impl_->seq;
        while (next < requests.size() && pending.size() < impl_->max_in_flight) {
            size_t before = buf.size();
            auto built = build(requests[next], base + static_cast<uint32_t>(pending.size()), buf);
            if (!built) {
                results[next] = std::unexpected(request_error(requests[next], built.error().code, built.error().message));
                ++next;
                continue;
            }
            if (buf.size() > impl_->batch_bytes && before > 0) {
                buf.resize(before);   // goes into the next chunk
                break;
            }
            pending.push_back(next++);
        }
        if (pending.empty())
            continue;
        impl_->seq = base + static_cast<uint32_t>(pending.size());
        if (auto r = impl_->send(buf); !r)
            return std::unexpected(r.error());
        if (auto r = impl_->collect(pending, base, requests, results); !r)
            return std::unexpected(r.error());
    }
    std::vector<Result<>> out;
    out.reserve(results.size());
    for (auto &r : results)
        out.push_back(r ? std::move(*r) : Result<>(std::unexpected(Error{EIO, "no result", {}})));
    return out;
}

Result<> Client::run_one(const Request &request)
{
    auto r = run(std::span<const Request>(&request, 1));
    if (!r)
        return std::unexpected(r.error());
    return std::move(r->front());
}

} // namespace alopex::linkd::rtnl
