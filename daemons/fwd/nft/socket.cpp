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

// The NLMSG_ERROR at the start of a datagram cut short: seq and errno, no attributes.
bool truncated_ack(const uint8_t *buf, size_t len, uint32_t first, uint32_t last,
                   std::vector<Ack> &acks)
{
    if (len < mnl_nlmsg_size(sizeof(nlmsgerr)))
        return false;
    auto *nlh = reinterpret_cast<const nlmsghdr *>(buf);
    if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq < first || nlh->nlmsg_seq > last)
        return true;
    auto *err = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh));
    Ack ack;
    ack.seq = nlh->nlmsg_seq;
    ack.error = err->error < 0 ? -err->error : err->error;
    acks.push_back(std::move(ack));
    return true;
}

} // namespace

bool collect_acks(const uint8_t *buf, size_t len, uint32_t first, uint32_t last,
                  std::vector<Ack> &acks)
{
    auto *nlh = reinterpret_cast<const nlmsghdr *>(buf);
    int remaining = static_cast<int>(len);
    while (mnl_nlmsg_ok(nlh, remaining)) {
        if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_seq >= first && nlh->nlmsg_seq <= last) {
            if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
                return false;
            auto *err = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh));
            Ack ack;
            ack.seq = nlh->nlmsg_seq;
            ack.error = err->error < 0 ? -err->error : err->error;
            if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
                // The refused message follows the header: all of it, or only its
                // header when capped.
                size_t off = sizeof(nlmsgerr);
                if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                    off += err->msg.nlmsg_len - sizeof(nlmsghdr);
                mnl_attr_parse(nlh, static_cast<unsigned>(off), parse_err_attr, &ack);
            }
            acks.push_back(std::move(ack));
        }
        nlh = mnl_nlmsg_next(nlh, &remaining);
    }
    return remaining == 0;
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

Result<Socket> Socket::open()
{
    Socket s;
    s.sock_.reset(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
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

    // The kernel handles the batch inside sendmsg, so every answer is queued by now;
    // a short wait covers only the unexpected. Each answer is a datagram of its own:
    // they are read up to rx_batch at a time (recvmmsg), not one syscall each.
    std::vector<Ack> all;
    all.reserve(expect);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool failed = false;
    std::array<mmsghdr, rx_batch> mm{};
    std::array<iovec, rx_batch> rx_iov{};
    for (size_t k = 0; k < rx_batch; ++k) {
        rx_iov[k] = iovec{rxbuf_.data() + k * rx_slot, rx_slot};
        mm[k].msg_hdr.msg_iov = &rx_iov[k];
        mm[k].msg_hdr.msg_iovlen = 1;
    }
    while (all.size() < expect) {
        int got = recvmmsg(fd(), mm.data(), rx_batch, MSG_DONTWAIT, nullptr);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                if (failed)
                    break;   // an aborted batch may leave some messages unanswered
                auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now());
                if (left.count() <= 0)
                    return failf(EIO, "nf_tables: {} of {} acks missing",
                                 expect - all.size(), expect);
                pollfd p{fd(), POLLIN, 0};
                poll(&p, 1, static_cast<int>(left.count()));
                continue;
            }
            return io_fail(errno, "recv(nf_tables acks)");
        }
        size_t before = all.size();
        for (int k = 0; k < got; ++k) {
            const uint8_t *p = rxbuf_.data() + k * rx_slot;
            if (mm[k].msg_hdr.msg_flags & MSG_TRUNC) {
                // Larger than its slot (an ack echoing a whole refused message, were
                // NETLINK_CAP_ACK unsupported): its seq and errno still count.
                if (!truncated_ack(p, rx_slot, first, last, all))
                    return fail(EPROTO, "nf_tables: malformed ack");
                continue;
            }
            if (!collect_acks(p, mm[k].msg_len, first, last, all))
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

Result<> Socket::dump(nlmsghdr *req, const std::function<int(const nlmsghdr *)> &cb)
{
    if (mnl_socket_sendto(sock_.get(), req, req->nlmsg_len) < 0)
        return io_fail(errno, "sendto(nf_tables dump)");
    DumpCtx ctx{&cb};
    std::vector<uint8_t> buf(std::max<size_t>(MNL_SOCKET_BUFFER_SIZE, 32768));
    for (;;) {
        ssize_t r = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return io_fail(errno, "recv(nf_tables dump)");
        }
        int ret = mnl_cb_run(buf.data(), static_cast<size_t>(r), req->nlmsg_seq, portid_,
                             dump_cb, &ctx);
        if (ret < 0) {
            if (ctx.threw)
                return fail(ENOMEM, "nf_tables dump: callback failed");
            return io_fail(errno, "nf_tables dump");
        }
        if (ret == MNL_CB_STOP)
            break;
    }
    if (ctx.interrupted)
        return fail(EINTR, "nf_tables dump interrupted");
    return {};
}

} // namespace alopex::fwd::nft::detail
