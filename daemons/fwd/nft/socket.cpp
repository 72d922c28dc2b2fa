// SPDX-License-Identifier: GPL-2.0-or-later
#include "nft/socket.hpp"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

#include "alopex/netlink/socket.hpp"

namespace alopex::fwd::nft::detail {

namespace {

constexpr size_t initial_rcvbuf = size_t{4} << 20;   // 4 MiB, like nft's batch talk
constexpr size_t bytes_per_ack = 1280;               // skb truesize of one small ack
constexpr size_t rx_batch = 64;                      // datagrams per recvmmsg
constexpr size_t rx_slot = 4096;                     // bytes for each (a capped ack: < 1 KiB)

int parse_err_attr(const nlattr *attr, void *data)
{
    auto *ack = static_cast<Ack *>(data);
    switch (mnl_attr_get_type(attr)) {
    case NLMSGERR_ATTR_OFFS:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
            ack->offset = mnl_attr_get_u32(attr);
        break;
    case NLMSGERR_ATTR_MSG:
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
            ack->text = mnl_attr_get_str(attr);
        break;
    default:
        break;
    }
    return MNL_CB_OK;
}

// Whether a message is addressed to `portid` (0 on either side: any), as libmnl checks.
bool addressed_to(const nlmsghdr *nlh, uint32_t portid)
{
    return !portid || !nlh->nlmsg_pid || nlh->nlmsg_pid == portid;
}

Ack ack_of(const nlmsghdr *nlh)
{
    auto *err = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh));
    Ack ack;
    ack.seq = nlh->nlmsg_seq;
    // INT_MIN has no positive counterpart: any negative errno is an error all the same.
    ack.error = err->error == INT32_MIN ? EPROTO : err->error < 0 ? -err->error : err->error;
    return ack;
}

// Whether `buf` is a sequence of whole netlink messages, each at least a header long and
// inside the datagram, the last one ending it. libmnl's mnl_nlmsg_ok compares the length
// as a signed int, so a message claiming 2 GiB or more passes it and mnl_nlmsg_next then
// jumps outside the buffer: nothing reaches libmnl before this check. The kernel pads
// every message to 4 bytes, so a datagram of another length is malformed too (its last
// message's attributes would be read past its end).
bool well_formed(const uint8_t *buf, size_t len)
{
    if (len % NLMSG_ALIGNTO || len > INT32_MAX)
        return false;
    size_t off = 0;
    while (off < len) {
        if (len - off < sizeof(nlmsghdr))
            return false;
        uint32_t n = 0;
        std::memcpy(&n, buf + off, sizeof n);   // nlmsg_len
        if (n < sizeof(nlmsghdr) || n > len - off)
            return false;
        off += std::min<size_t>(NLMSG_ALIGN(n), len - off);
    }
    return true;
}

} // namespace

bool truncated_ack(const uint8_t *buf, size_t len, uint32_t first, uint32_t last,
                   std::vector<Ack> &acks, uint32_t portid)
{
    if (len < mnl_nlmsg_size(sizeof(nlmsgerr)))
        return false;
    auto *nlh = reinterpret_cast<const nlmsghdr *>(buf);
    if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq < first || nlh->nlmsg_seq > last ||
        !addressed_to(nlh, portid))
        return true;
    acks.push_back(ack_of(nlh));
    return true;
}

bool collect_acks(const uint8_t *buf, size_t len, uint32_t first, uint32_t last,
                  std::vector<Ack> &acks, uint32_t portid)
{
    if (!well_formed(buf, len))
        return false;
    auto *nlh = reinterpret_cast<const nlmsghdr *>(buf);
    int remaining = static_cast<int>(len);
    while (mnl_nlmsg_ok(nlh, remaining)) {
        if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_seq >= first && nlh->nlmsg_seq <= last &&
            addressed_to(nlh, portid)) {
            if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
                return false;
            auto *err = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh));
            Ack ack = ack_of(nlh);
            if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
                // The refused message follows the header: all of it, or only its
                // header when capped. The attributes follow that, inside this message.
                size_t off = sizeof(nlmsgerr);
                if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
                    if (err->msg.nlmsg_len < sizeof(nlmsghdr))
                        return false;
                    off += err->msg.nlmsg_len - sizeof(nlmsghdr);
                }
                const size_t start = MNL_NLMSG_HDRLEN + MNL_ALIGN(off);
                if (start < nlh->nlmsg_len)
                    mnl_attr_parse_payload(reinterpret_cast<const uint8_t *>(nlh) + start,
                                           nlh->nlmsg_len - start, parse_err_attr, &ack);
            }
            acks.push_back(std::move(ack));
        }
        nlh = mnl_nlmsg_next(nlh, &remaining);
    }
    return remaining == 0;
}

namespace {

struct DumpCtx {
    const std::function<int(const nlmsghdr *)> *cb;
    bool interrupted = false;
    bool threw = false;
};

int dump_cb(const nlmsghdr *nlh, void *data)
{
    auto *ctx = static_cast<DumpCtx *>(data);
    if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
        ctx->interrupted = true;
    try {
        return (*ctx->cb)(nlh);
    } catch (...) {
        ctx->threw = true;
        return MNL_CB_ERROR;
    }
}

} // namespace

Result<DumpStep> dump_datagram(const uint8_t *buf, size_t len, uint32_t seq, uint32_t portid,
                               const std::function<int(const nlmsghdr *)> &cb)
{
    if (!well_formed(buf, len))
        return fail(EBADMSG, "nf_tables dump: a malformed datagram");
    DumpCtx ctx{&cb};
    errno = 0;
    int ret = mnl_cb_run(buf, len, seq, portid, dump_cb, &ctx);
    if (ret < 0) {
        if (ctx.threw)
            return fail(ENOMEM, "nf_tables dump: callback failed");
        return io_fail(errno ? errno : EBADMSG, "nf_tables dump");
    }
    return DumpStep{ret == MNL_CB_STOP, ctx.interrupted};
}

void Socket::Close::operator()(mnl_socket *s) const noexcept
{
    if (s)
        mnl_socket_close(s);
}

Socket::Socket(Socket &&) noexcept = default;
Socket &Socket::operator=(Socket &&) noexcept = default;
Socket::~Socket() = default;

int Socket::fd() const noexcept
{
    return sock_ ? mnl_socket_get_fd(sock_.get()) : -1;
}

Result<Socket> Socket::open(int protocol)
{
    Socket s;
    s.sock_.reset(mnl_socket_open2(protocol, SOCK_CLOEXEC));
    if (!s.sock_)
        return io_fail(errno, "socket(NETLINK_NETFILTER)");
    if (mnl_socket_bind(s.sock_.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        return io_fail(errno, "bind(NETLINK_NETFILTER)");
    s.portid_ = mnl_socket_get_portid(s.sock_.get());
    int one = 1;
    // Extended acks name the refused attribute (an element inside a NEWSETELEM); capped
    // acks do not echo the whole refused message back.
    setsockopt(s.fd(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    setsockopt(s.fd(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    ALOPEX_TRY_VOID(s.ensure_buffers(size_t{1} << 20, initial_rcvbuf / bytes_per_ack));
    s.rxbuf_.resize(rx_batch * rx_slot);
    return s;
}

Result<> Socket::ensure_buffers(size_t send_len, size_t acks)
{
    // Netlink refuses a message larger than the send buffer; the kernel queues every ack
    // of the batch before we read one, so the receive buffer must hold all of them.
    size_t want_snd = send_len + (size_t{64} << 10);
    if (want_snd > sndbuf_) {
        int v = static_cast<int>(std::min<size_t>(want_snd, INT32_MAX / 2));
        if (setsockopt(fd(), SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) < 0 &&
            setsockopt(fd(), SOL_SOCKET, SO_SNDBUF, &v, sizeof v) < 0)
            return io_fail(errno, "setsockopt(SO_SNDBUF)");
        sndbuf_ = want_snd;
    }
    size_t want_rcv = std::max(initial_rcvbuf, acks * bytes_per_ack + (size_t{256} << 10));
    if (want_rcv > rcvbuf_) {
        int v = static_cast<int>(std::min<size_t>(want_rcv, INT32_MAX / 2));
        if (setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) < 0 &&
            setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &v, sizeof v) < 0)
            return io_fail(errno, "setsockopt(SO_RCVBUF)");
        rcvbuf_ = want_rcv;
    }
    return {};
}

Result<> Socket::wait_readable(std::chrono::steady_clock::time_point deadline, const char *what)
{
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return failf(ETIMEDOUT, "{}: no answer from the kernel within {} ms", what, timeout_.count());
        pollfd p{fd(), POLLIN, 0};
        int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX)));
        if (r > 0)
            return {};
        if (r < 0 && errno != EINTR)
            return io_fail(errno, what);
    }
}

Result<std::vector<Ack>> Socket::talk(nftnl_batch *batch, uint32_t first, uint32_t last,
                                      size_t expect)
{
    int n = nftnl_batch_iovec_len(batch);
    std::vector<iovec> iov(static_cast<size_t>(n));
    nftnl_batch_iovec(batch, iov.data(), static_cast<uint32_t>(n));
    size_t total = 0;
    for (auto &v : iov)
        total += v.iov_len;
    ALOPEX_TRY_VOID(ensure_buffers(total, expect));

    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    msghdr msg{};
    msg.msg_name = &kernel;
    msg.msg_namelen = sizeof kernel;
    msg.msg_iov = iov.data();
    msg.msg_iovlen = iov.size();
    ssize_t sent;
    do
        sent = sendmsg(fd(), &msg, 0);
    while (sent < 0 && errno == EINTR);
    if (sent < 0)
        return io_fail(errno, "sendmsg(nf_tables batch)");
    return read_acks(first, last, expect);
}

Result<std::vector<Ack>> Socket::read_acks(uint32_t first, uint32_t last, size_t expect)
{
    // The kernel handles the batch inside sendmsg, so every answer is queued by now;
    // a short wait covers only the unexpected. Each answer is a datagram of its own:
    // they are read up to rx_batch at a time (recvmmsg), not one syscall each.
    std::vector<Ack> all;
    all.reserve(expect);
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    bool failed = false;
    std::array<mmsghdr, rx_batch> mm{};
    std::array<iovec, rx_batch> rx_iov{};
    std::array<sockaddr_nl, rx_batch> from{};
    while (all.size() < expect) {
        for (size_t k = 0; k < rx_batch; ++k) {   // recvmmsg rewrites lengths and flags
            rx_iov[k] = iovec{rxbuf_.data() + k * rx_slot, rx_slot};
            mm[k] = mmsghdr{};
            mm[k].msg_hdr.msg_iov = &rx_iov[k];
            mm[k].msg_hdr.msg_iovlen = 1;
            mm[k].msg_hdr.msg_name = &from[k];
            mm[k].msg_hdr.msg_namelen = sizeof from[k];
        }
        int got = recvmmsg(fd(), mm.data(), rx_batch, MSG_DONTWAIT, nullptr);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                if (failed)
                    break;   // an aborted batch may leave some messages unanswered
                if (auto w = wait_readable(deadline, "nf_tables acks"); !w)
                    return failf(EIO, "nf_tables: {} of {} acks missing ({})", expect - all.size(),
                                 expect, w.error().to_string());
                continue;
            }
            return io_fail(errno, "recv(nf_tables acks)");
        }
        size_t before = all.size();
        for (int k = 0; k < got; ++k) {
            if (!netlink::from_kernel(&from[k], mm[k].msg_hdr.msg_namelen))
                continue;   // not the kernel's: dropped unread
            const uint8_t *p = rxbuf_.data() + k * rx_slot;
            if (mm[k].msg_hdr.msg_flags & MSG_TRUNC) {
                // Larger than its slot (an ack echoing a whole refused message, were
                // NETLINK_CAP_ACK unsupported): its seq and errno still count.
                if (!truncated_ack(p, rx_slot, first, last, all, portid_))
                    return fail(EPROTO, "nf_tables: malformed ack");
                continue;
            }
            if (!collect_acks(p, mm[k].msg_len, first, last, all, portid_))
                return fail(EPROTO, "nf_tables: malformed ack");
        }
        for (size_t i = before; i < all.size(); ++i)
            if (all[i].error)
                failed = true;
    }
    std::vector<Ack> errors;
    for (auto &a : all)
        if (a.error)
            errors.push_back(std::move(a));
    // Drain what an aborted batch may still have queued, so the next talk starts clean.
    if (failed)
        while (recv(fd(), rxbuf_.data(), rxbuf_.size(), MSG_DONTWAIT) > 0) {
        }
    return errors;
}

Result<> Socket::dump(nlmsghdr *req, const std::function<int(const nlmsghdr *)> &cb)
{
    if (mnl_socket_sendto(sock_.get(), req, req->nlmsg_len) < 0)
        return io_fail(errno, "sendto(nf_tables dump)");
    return read_dump(req->nlmsg_seq, cb);
}

Result<> Socket::read_dump(uint32_t seq, const std::function<int(const nlmsghdr *)> &cb)
{
    std::vector<std::byte> buf(std::max<size_t>(MNL_SOCKET_BUFFER_SIZE, 32768));
    bool interrupted = false;
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
        ALOPEX_TRY(got, netlink::receive_from_kernel(fd(), buf, MSG_DONTWAIT));
        if (got.status == netlink::Datagram::Status::Again) {
            ALOPEX_TRY_VOID(wait_readable(deadline, "nf_tables dump"));
            continue;
        }
        if (got.status == netlink::Datagram::Status::Foreign)
            continue;   // not the kernel's: dropped unread
        deadline = std::chrono::steady_clock::now() + timeout_;
        ALOPEX_TRY(step, dump_datagram(reinterpret_cast<const uint8_t *>(buf.data()), got.size, seq,
                                       portid_, cb));
        interrupted = interrupted || step.interrupted;
        if (step.done)
            break;
    }
    if (interrupted)
        return fail(EINTR, "nf_tables dump interrupted");
    return {};
}

} // namespace alopex::fwd::nft::detail
