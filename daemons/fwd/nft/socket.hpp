// SPDX-License-Identifier: GPL-2.0-or-later
// The NETLINK_NETFILTER socket of a Session, and the pure part of reading its answers:
// a batch goes out in one sendmsg (every page of the nftnl_batch as one iovec), the
// kernel answers each NLM_F_ACK message with an NLMSG_ERROR (0 = ack), and every error
// is kept with its sequence number and the extack offset of the attribute it blames.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "alopex/error.hpp"

struct mnl_socket;
struct nftnl_batch;
struct nlmsghdr;

namespace alopex::fwd::nft::detail {

struct Ack {
    uint32_t seq = 0;
    int error = 0;             // positive errno; 0 = success
    uint32_t offset = 0;       // NLMSGERR_ATTR_OFFS: byte offset of the bad attribute in
                               // the message the kernel refused; 0 = none given
    std::string text;          // NLMSGERR_ATTR_MSG, when the kernel gave one
};

// Feeds received bytes (one recv's worth: several netlink messages) into `acks`:
// each NLMSG_ERROR whose seq lies in [first, last] is appended. Messages of other kinds
// or sequence numbers are ignored. Returns false when the bytes are malformed.
bool collect_acks(const uint8_t *buf, size_t len, uint32_t first, uint32_t last,
                  std::vector<Ack> &acks);

class Socket {
public:
    static Result<Socket> open();
    Socket(Socket &&) noexcept;
    Socket &operator=(Socket &&) noexcept;
    ~Socket();

    uint32_t portid() const noexcept { return portid_; }
    int fd() const noexcept;

    // Sends the whole batch in one sendmsg and reads every answer to the messages with
    // sequence numbers [first, last]; `expect` is how many of them carry NLM_F_ACK.
    // Returns every answer that is an error (empty: the batch was committed).
    Result<std::vector<Ack>> talk(nftnl_batch *batch, uint32_t first, uint32_t last,
                                  size_t expect);
    // Sends one dump request (built in `req`, seq set by the caller) and calls `cb` for
    // each answer until NLMSG_DONE. An interrupted dump (NLM_F_DUMP_INTR) is an EINTR
    // error so the caller can retry.
    Result<> dump(nlmsghdr *req, const std::function<int(const nlmsghdr *)> &cb);

private:
    Socket() = default;
    Result<> ensure_buffers(size_t send_len, size_t acks);
    struct Close {
        void operator()(mnl_socket *s) const noexcept;
    };
    std::unique_ptr<mnl_socket, Close> sock_;
    uint32_t portid_ = 0;
    size_t sndbuf_ = 0, rcvbuf_ = 0;
    std::vector<uint8_t> rxbuf_;
};

} // namespace alopex::fwd::nft::detail
