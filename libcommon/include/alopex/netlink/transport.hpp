// SPDX-License-Identifier: GPL-2.0-or-later
// The seam between the rtnetlink Monitor and the kernel. The Monitor needs exactly this:
// join multicast groups on an event channel, send dump requests on a dump channel, read
// one datagram at a time from either, and a pollable fd per channel for sd-event.
// The real transport wraps two libmnl NETLINK_ROUTE sockets; unit tests inject a fake
// that plays the kernel's part with hand-built messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "alopex/error.hpp"

namespace alopex::netlink {

// One NLM_F_DUMP request. Every reply carries `seq` and the transport's dump port id.
struct DumpRequest {
    uint16_t type = 0;    // RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE
    uint8_t family = 0;   // AF_UNSPEC, AF_INET, AF_INET6
    uint32_t seq = 0;
};

class Transport {
public:
    enum class Channel : uint8_t { Events, Dump };
    enum class Status : uint8_t {
        Data,     // `size` bytes of one datagram from the kernel are in the buffer
        Again,    // nothing to read now
        Foreign,  // a datagram not sent by the kernel; already discarded
    };
    struct Received {
        Status status = Status::Again;
        size_t size = 0;
    };

    Transport() = default;
    Transport(const Transport &) = delete;
    Transport &operator=(const Transport &) = delete;
    virtual ~Transport() = default;

    // Readable (EPOLLIN, level-triggered) while `receive(c)` has something to return. The
    // two channels have distinct fds.
    virtual int fd(Channel c) const noexcept = 0;
    // The port id replies to dump requests are addressed to.
    virtual uint32_t dump_portid() const noexcept = 0;
    // The event channel's receive buffer as the kernel reports it (0 if not applicable).
    virtual int receive_buffer() const noexcept = 0;

    // Joins RTNLGRP_* multicast groups on the event channel, all at once: an event of any
    // of them after this is in the stream, none before.
    virtual Result<> subscribe(std::span<const unsigned> groups) = 0;
    // Sends one dump request on the dump channel.
    virtual Result<> request_dump(const DumpRequest &r) = 0;
    // Reads one datagram into `buf`. Errors: ENOBUFS (the channel lost messages),
    // EMSGSIZE (a datagram did not fit and was truncated), anything else from recvmsg.
    virtual Result<Received> receive(Channel c, std::span<std::byte> buf) = 0;
};

// The kernel: two NETLINK_ROUTE sockets (SOCK_CLOEXEC|SOCK_NONBLOCK), the event socket's
// receive buffer set to `receive_buffer` bytes (SO_RCVBUFFORCE, else SO_RCVBUF).
Result<std::unique_ptr<Transport>> open_kernel_transport(int receive_buffer);

} // namespace alopex::netlink
