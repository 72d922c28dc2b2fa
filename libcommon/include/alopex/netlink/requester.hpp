// SPDX-License-Identifier: GPL-2.0-or-later
// Asynchronous netlink requests on sd-event, the shape of sd_netlink_call_async(): a
// batch of messages is submitted with a completion callback and a deadline; the answers
// (NLMSG_ERROR: an ACK or an errno with the kernel's extack message and offset) are read
// when the socket is readable and matched to their batch by sequence number; the callback
// runs from the event loop once every message that asked for an ACK (NLM_F_ACK) has its
// answer, or with ETIMEDOUT when the deadline passes first. Nothing ever waits in recv().
// Dumps complete the same way, delivering each reply message as it arrives.
//
// rtnetlink batches may be split at message boundaries into several sendmsg() calls;
// nf_tables batches (BEGIN .. END) go out whole. No more answers are outstanding than
// the receive buffer holds: further batches wait in order until answers drain, and a batch
// whose answers alone would not fit first grows the buffer (RequestChannel::
// reserve_receive, as nft's mnl_batch_talk does), so no answer is dropped for lack of room (an ENOBUFS on the socket all the same fails every
// request in flight: their outcome is unknown, callers resync).
//
// Callbacks never run inside submit(); they may submit again.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/netlink/transport.hpp"
#include "alopex/sd.hpp"

struct nlmsghdr;

namespace alopex::netlink {

// The answer to one message.
struct Ack {
    uint32_t seq = 0;
    int error = 0;            // positive errno; 0 = acknowledged
    uint32_t offset = 0;      // NLMSGERR_ATTR_OFFS: byte offset of the attribute blamed
    std::string text;         // NLMSGERR_ATTR_MSG, when the kernel gave one
};

// Parses the NLMSG_ERROR message `nlh` (`len` bytes available) into an Ack; EBADMSG when
// it is malformed. Pure, for the fuzzer.
Result<Ack> parse_ack(const nlmsghdr *nlh, size_t len);

// Where requests go: the kernel (a netlink socket), or a test's peer.
class RequestChannel {
public:
    RequestChannel() = default;
    RequestChannel(const RequestChannel &) = delete;
    RequestChannel &operator=(const RequestChannel &) = delete;
    virtual ~RequestChannel() = default;
    virtual int fd() const noexcept = 0;
    // Sends `bytes` (whole netlink messages) in one sendmsg().
    virtual Result<> send(std::span<const std::byte> bytes) = 0;
    // Reads one datagram (Foreign: not from the kernel, discarded). ENOBUFS: answers lost.
    virtual Result<Transport::Received> receive(std::span<std::byte> buf) = 0;
    // How many bytes of answers the receive side holds before it drops them.
    virtual size_t receive_room() const noexcept = 0;
    // Makes room for sending `bytes` in one call (the socket's send buffer).
    virtual Result<> reserve_send(size_t bytes) = 0;
    // Makes room for `bytes` of answers (the socket's receive buffer), so that a batch sent
    // whole whose answers would not fit gets them all; receive_room() then says so.
    virtual Result<> reserve_receive(size_t bytes)
    {
        (void)bytes;
        return {};
    }
};

// A netlink socket of `protocol` (NETLINK_ROUTE, NETLINK_NETFILTER), SOCK_CLOEXEC |
// SOCK_NONBLOCK, with NETLINK_EXT_ACK and NETLINK_CAP_ACK, its receive buffer set to
// `receive_buffer` bytes (SO_RCVBUFFORCE, else SO_RCVBUF).
Result<std::unique_ptr<RequestChannel>> open_request_channel(int protocol, int receive_buffer);

struct RequesterOptions {
    std::chrono::microseconds timeout = std::chrono::seconds(5);
    // Largest sendmsg(); 0 = send each batch whole (nf_tables). rtnetlink: 64 KiB.
    size_t max_send = 0;
    // Bytes of receive buffer an answer is counted for (the kernel charges a whole skb).
    size_t answer_cost = 4096;
};

class Requester {
public:
    using Done = std::function<void(Result<std::vector<Ack>>)>;
    using Each = std::function<void(const nlmsghdr *)>;

    static Result<std::unique_ptr<Requester>> create(sd_event *event, std::unique_ptr<RequestChannel> channel,
                                                     RequesterOptions options = {});
    ~Requester();
    Requester(const Requester &) = delete;
    Requester &operator=(const Requester &) = delete;

    // `n` consecutive sequence numbers for the messages of one batch; returns the first.
    uint32_t reserve(uint32_t n = 1);

    // Sends `bytes` (messages whose sequence numbers came from reserve()). `done` gets
    // every answer in sequence order (errors and ACKs; an error answer for a message that
    // did not ask for one ends the batch at once), or an Error: ETIMEDOUT, ENOBUFS (the
    // socket lost answers), or a failed sendmsg. An empty batch completes with no answers.
    void submit(std::vector<std::byte> bytes, Done done);
    // A dump request (one message, NLM_F_DUMP, its seq from reserve()): `each` gets every
    // reply message; `done` gets no answers on NLMSG_DONE, EINTR when the kernel flagged
    // the dump as interrupted (NLM_F_DUMP_INTR: retry), or the error.
    void dump(std::vector<std::byte> request, Each each, std::function<void(Result<>)> done);

    size_t pending() const noexcept { return queue_.size(); }
    // Fails everything pending with `e` (from the loop, as a deadline would).
    void cancel_all(const Error &e);

private:
    struct Pending;
    Requester(sd_event *event, std::unique_ptr<RequestChannel> channel, RequesterOptions options);
    Result<> start();
    void pump();
    void read_answers();
    void handle(const nlmsghdr *nlh, size_t len);
    void complete_front(Result<std::vector<Ack>> r);
    void fail_sent(const Error &e);
    void arm();
    void schedule_completions();
    static int on_io(sd_event_source *, int, uint32_t, void *userdata) noexcept;
    static int on_timer(sd_event_source *, uint64_t, void *userdata) noexcept;
    static int on_defer(sd_event_source *, void *userdata) noexcept;

    sd_event *event_;
    std::unique_ptr<RequestChannel> channel_;
    RequesterOptions opt_;
    EventSourcePtr io_, timer_, defer_;
    std::deque<std::unique_ptr<Pending>> queue_;       // in order; a prefix is (partly) sent
    std::deque<std::unique_ptr<Pending>> finished_;    // waiting for their callbacks
    std::vector<std::byte> buf_;
    uint32_t next_seq_ = 1;
    size_t outstanding_ = 0;                           // answers sent for, not yet read
};

} // namespace alopex::netlink
