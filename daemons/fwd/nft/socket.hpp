// SPDX-License-Identifier: GPL-2.0-or-later
// The NETLINK_NETFILTER socket of a Session, and the pure part of reading its answers:
// a batch goes out in one sendmsg (every page of the nftnl_batch as one iovec), the
// kernel answers each NLM_F_ACK message with an NLMSG_ERROR (0 = ack), and every error
// is kept with its sequence number and the extack offset of the attribute it blames.
//
// Only the kernel answers: a datagram whose source address is not the kernel's
// (netlink::from_kernel) is dropped unread, so another process with the right to send to
// our port id (CAP_NET_ADMIN in the namespace) can neither fake an ack, an error nor a
// dump.
#pragma once

#include <linux/netlink.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "alopex/error.hpp"

struct mnl_socket;
struct nftnl_batch;

namespace alopex::fwd::nft::detail {

struct Ack {
    uint32_t seq = 0;
    int error = 0;             // positive errno; 0 = success
    uint32_t offset = 0;       // NLMSGERR_ATTR_OFFS: byte offset of the bad attribute in
                               // the message the kernel refused; 0 = none given
    std::string text;          // NLMSGERR_ATTR_MSG, when the kernel gave one
};

// Feeds received bytes (one datagram: several netlink messages, 4-byte aligned) into
// `acks`: each NLMSG_ERROR whose seq lies in [first, last] and that is addressed to
// `portid` (nlmsg_pid; 0 on either side accepts any, as libmnl does) is appended. Messages
// of other kinds or sequence numbers are ignored. Returns false when the bytes are
// malformed.
bool collect_acks(const uint8_t *buf, size_t len, uint32_t first, uint32_t last,
                  std::vector<Ack> &acks, uint32_t portid = 0);
// The NLMSG_ERROR at the start of a datagram cut short (MSG_TRUNC, `len` bytes of it
// kept): its seq and errno when they count, no attributes. False when malformed.
bool truncated_ack(const uint8_t *buf, size_t len, uint32_t first, uint32_t last,
                   std::vector<Ack> &acks, uint32_t portid = 0);

// One datagram of a dump's answer (4-byte aligned), through libmnl's mnl_cb_run: `cb`
// for each message of sequence `seq` and port `portid` (0 accepts any), NLMSG_DONE ends
// it, an NLMSG_ERROR is its errno. No exception leaves `cb` through the C callback.
struct DumpStep {
    bool done = false;          // NLMSG_DONE (or the ack of a non-dump request) seen
    bool interrupted = false;   // NLM_F_DUMP_INTR on a message
};
Result<DumpStep> dump_datagram(const uint8_t *buf, size_t len, uint32_t seq, uint32_t portid,
                               const std::function<int(const nlmsghdr *)> &cb);

class Socket {
public:
    // NETLINK_NETFILTER; another protocol only in tests (NETLINK_USERSOCK, where any
    // process may play a sender).
    static Result<Socket> open(int protocol = NETLINK_NETFILTER);
    Socket(Socket &&) noexcept;
    Socket &operator=(Socket &&) noexcept;
    ~Socket();

    uint32_t portid() const noexcept { return portid_; }
    int fd() const noexcept;
    // How long a read waits for the next answer (5 s).
    void set_timeout(std::chrono::milliseconds t) noexcept { timeout_ = t; }

    // Sends the whole batch in one sendmsg and reads every answer to the messages with
    // sequence numbers [first, last]; `expect` is how many of them carry NLM_F_ACK.
    // Returns every answer that is an error (empty: the batch was committed).
    Result<std::vector<Ack>> talk(nftnl_batch *batch, uint32_t first, uint32_t last,
                                  size_t expect);
    // The reading half of talk().
    Result<std::vector<Ack>> read_acks(uint32_t first, uint32_t last, size_t expect);
    // Sends one dump request (built in `req`, seq set by the caller) and calls `cb` for
    // each answer until NLMSG_DONE. An interrupted dump (NLM_F_DUMP_INTR) is an EINTR
    // error so the caller can retry.
    Result<> dump(nlmsghdr *req, const std::function<int(const nlmsghdr *)> &cb);
    // The reading half of dump().
    Result<> read_dump(uint32_t seq, const std::function<int(const nlmsghdr *)> &cb);

private:
    Socket() = default;
    Result<> ensure_buffers(size_t send_len, size_t acks);
    // Waits until the socket is readable or the timeout passes (ETIMEDOUT).
    Result<> wait_readable(std::chrono::steady_clock::time_point deadline, const char *what);
    struct Close {
        void operator()(mnl_socket *s) const noexcept;
    };
    std::unique_ptr<mnl_socket, Close> sock_;
    uint32_t portid_ = 0;
    size_t sndbuf_ = 0, rcvbuf_ = 0;
    std::chrono::milliseconds timeout_{5000};
    std::vector<uint8_t> rxbuf_;
};

} // namespace alopex::fwd::nft::detail
