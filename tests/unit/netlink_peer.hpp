// SPDX-License-Identifier: GPL-2.0-or-later
// A netlink peer the test plays itself, for netlink::Requester and what is built on it:
// a RequestChannel over a datagram socketpair, and the messages and answers it exchanges.
#pragma once

#include <linux/netlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include <catch2/catch.hpp>
#include <systemd/sd-event.h>

#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "alopex/netlink/requester.hpp"

namespace alopex::test {

class PeerChannel final : public netlink::RequestChannel {
public:
    PeerChannel(int fd, size_t room) : fd_(fd), room_(room) {}
    int fd() const noexcept override { return fd_.get(); }
    size_t receive_room() const noexcept override { return room_; }
    Result<> reserve_send(size_t) override { return {}; }
    // Grows as a kernel socket's receive buffer does (SO_RCVBUFFORCE).
    Result<> reserve_receive(size_t b) override
    {
        reserved = std::max(reserved, b);
        room_ = std::max(room_, b);
        return {};
    }
    Result<> send(std::span<const std::byte> b) override
    {
        if (::send(fd_.get(), b.data(), b.size(), 0) < 0)
            return fail(errno, "send");
        return {};
    }
    Result<netlink::Transport::Received> receive(std::span<std::byte> buf) override
    {
        if (lost) {
            lost = false;
            return fail(ENOBUFS, "No buffer space available");
        }
        ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN)
            return netlink::Transport::Received{netlink::Transport::Status::Again, 0};
        if (n < 0)
            return fail(errno, "recv");
        return netlink::Transport::Received{netlink::Transport::Status::Data, size_t(n)};
    }
    bool lost = false;
    size_t reserved = 0;   // the largest reserve_receive() asked for

private:
    Fd fd_;
    size_t room_;
};

inline std::vector<std::byte> message(uint16_t type, uint32_t seq, uint16_t flags)
{
    std::vector<std::byte> out(NLMSG_LENGTH(4));
    auto *h = reinterpret_cast<nlmsghdr *>(out.data());
    h->nlmsg_len = uint32_t(out.size());
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq;
    return out;
}

inline void append(std::vector<std::byte> &to, const std::vector<std::byte> &m) { to.insert(to.end(), m.begin(), m.end()); }

// An NLMSG_ERROR answering `seq` with `err` (positive errno) and an extack message.
inline std::vector<std::byte> answer(uint32_t seq, int err, const char *text = nullptr)
{
    size_t attr = text ? NLA_HDRLEN + NLA_ALIGN(std::strlen(text) + 1) : 0;
    std::vector<std::byte> out(NLMSG_LENGTH(sizeof(nlmsgerr)) + attr);
    auto *h = reinterpret_cast<nlmsghdr *>(out.data());
    h->nlmsg_len = uint32_t(out.size());
    h->nlmsg_type = NLMSG_ERROR;
    h->nlmsg_flags = NLM_F_CAPPED | (text ? NLM_F_ACK_TLVS : 0);
    h->nlmsg_seq = seq;
    auto *e = reinterpret_cast<nlmsgerr *>(NLMSG_DATA(h));
    e->error = -err;
    e->msg.nlmsg_len = sizeof(nlmsghdr);
    e->msg.nlmsg_seq = seq;
    if (text) {
        auto *a = reinterpret_cast<nlattr *>(out.data() + NLMSG_LENGTH(sizeof(nlmsgerr)));
        a->nla_type = NLMSGERR_ATTR_MSG;
        a->nla_len = uint16_t(NLA_HDRLEN + std::strlen(text) + 1);
        std::memcpy(reinterpret_cast<char *>(a) + NLA_HDRLEN, text, std::strlen(text) + 1);
    }
    return out;
}

// An event loop that also serves a 1 ms ticker (what a D-Bus Version call would be: the
// proof that the loop keeps running), and the peer's end of the channel it makes.
struct PeerLoop {
    EventPtr event;
    Fd peer;
    int ticks = 0;
    EventSourcePtr ticker;

    PeerLoop()
    {
        sd_event *e = nullptr;
        REQUIRE(sd_event_new(&e) >= 0);
        event.reset(e);
        sd_event_source *s = nullptr;
        REQUIRE(sd_event_add_time_relative(
                    e, &s, CLOCK_MONOTONIC, 1000, 1,
                    [](sd_event_source *src, uint64_t, void *ud) {
                        ++*static_cast<int *>(ud);
                        sd_event_source_set_time_relative(src, 1000);
                        sd_event_source_set_enabled(src, SD_EVENT_ON);
                        return 0;
                    },
                    &ticks) >= 0);
        ticker.reset(s);
        sd_event_source_set_enabled(s, SD_EVENT_ON);
    }
    // The channel the code under test gets; the test speaks through `peer`.
    std::unique_ptr<PeerChannel> make_channel(size_t room = 1 << 20)
    {
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) == 0);
        peer.reset(fds[1]);
        return std::make_unique<PeerChannel>(fds[0], room);
    }
    void run_for(std::chrono::milliseconds d)
    {
        auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until)
            REQUIRE(sd_event_run(event.get(), 5000) >= 0);
    }
    template <typename P> void run_until(P pred, std::chrono::milliseconds limit = std::chrono::milliseconds(2000))
    {
        auto until = std::chrono::steady_clock::now() + limit;
        while (!pred() && std::chrono::steady_clock::now() < until)
            REQUIRE(sd_event_run(event.get(), 5000) >= 0);
        REQUIRE(pred());
    }
    // The datagrams the peer received so far.
    std::vector<std::vector<std::byte>> received()
    {
        std::vector<std::vector<std::byte>> out;
        std::vector<std::byte> buf(1 << 16);
        for (;;) {
            ssize_t n = ::recv(peer.get(), buf.data(), buf.size(), MSG_DONTWAIT);
            if (n < 0)
                break;
            out.emplace_back(buf.begin(), buf.begin() + n);
        }
        return out;
    }
    void reply(const std::vector<std::byte> &b) { REQUIRE(::send(peer.get(), b.data(), b.size(), 0) >= 0); }
};

} // namespace alopex::test
