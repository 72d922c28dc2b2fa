// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-netlink-answers: bytes as the datagrams a netlink peer answers with, fed to a
// netlink::Requester that has a batch (seqs 1..4, each asking for an ACK) and a dump
// (seq 5) outstanding, and to parse_ack directly. The first byte splits the input into
// two datagrams. Whatever arrives, the requester must not crash, read out of bounds or
// complete a request twice.
#include <fcntl.h>
#include <linux/netlink.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include "alopex/netlink/requester.hpp"

using namespace alopex;

namespace {

class Feed final : public netlink::RequestChannel {
public:
    explicit Feed(std::deque<std::vector<std::byte>> d) : datagrams_(std::move(d)) {}
    int fd() const noexcept override { return fd_; }
    size_t receive_room() const noexcept override { return 1 << 20; }
    Result<> reserve_send(size_t) override { return {}; }
    Result<> send(std::span<const std::byte>) override { return {}; }
    Result<netlink::Transport::Received> receive(std::span<std::byte> buf) override
    {
        if (datagrams_.empty())
            return netlink::Transport::Received{netlink::Transport::Status::Again, 0};
        auto d = std::move(datagrams_.front());
        datagrams_.pop_front();
        size_t n = std::min(d.size(), buf.size());
        if (n != 0)   // an empty datagram's data() may be null: memcpy's arguments must not be
            std::memcpy(buf.data(), d.data(), n);
        return netlink::Transport::Received{netlink::Transport::Status::Data, n};
    }
    int fd_ = -1;

private:
    std::deque<std::vector<std::byte>> datagrams_;
};

std::vector<std::byte> request(uint32_t seq, uint16_t flags)
{
    std::vector<std::byte> out(NLMSG_HDRLEN);
    auto *h = reinterpret_cast<nlmsghdr *>(out.data());
    h->nlmsg_len = NLMSG_HDRLEN;
    h->nlmsg_type = 16;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq;
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t cut = size > 1 ? data[0] % size : 0;
    const auto *b = reinterpret_cast<const std::byte *>(data + 1);
    size_t n = size - 1;
    cut = std::min(cut, n);
    std::deque<std::vector<std::byte>> d;
    d.emplace_back(b, b + cut);
    d.emplace_back(b + cut, b + n);

    // parse_ack on an exact-size copy of the whole input.
    std::vector<std::byte> copy(b, b + n);
    if (copy.size() >= sizeof(nlmsghdr))
        (void)netlink::parse_ack(reinterpret_cast<const nlmsghdr *>(copy.data()), copy.size());

    sd_event *e = nullptr;
    if (sd_event_new(&e) < 0)
        return 0;
    EventPtr event(e);
    // An always-readable fd for the io source: an eventfd would do; a pipe's write end
    // is writable, not readable, so use the read end of a pipe with data in it.
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return 0;
    (void)!write(p[1], "x", 1);
    auto feed = std::make_unique<Feed>(std::move(d));
    feed->fd_ = p[0];
    auto req = netlink::Requester::create(e, std::move(feed), {.timeout = std::chrono::milliseconds(1)});
    if (req) {
        uint32_t s = (*req)->reserve(4);
        std::vector<std::byte> batch;
        for (uint32_t i = 0; i < 4; ++i) {
            auto m = request(s + i, NLM_F_REQUEST | NLM_F_ACK);
            batch.insert(batch.end(), m.begin(), m.end());
        }
        int completions = 0;
        (*req)->submit(batch, [&](auto) { ++completions; });
        (*req)->dump(request((*req)->reserve(), NLM_F_REQUEST | NLM_F_DUMP), [](const nlmsghdr *) {},
                     [&](Result<>) { ++completions; });
        for (int i = 0; i < 8 && completions < 2; ++i)
            sd_event_run(e, 2000);
        if (completions > 2)
            __builtin_trap();
    }
    req = std::unexpected(Error{});
    close(p[0]);
    close(p[1]);
    return 0;
}
