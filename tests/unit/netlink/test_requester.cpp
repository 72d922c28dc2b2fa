// SPDX-License-Identifier: GPL-2.0-or-later
// netlink::Requester against a peer the test plays itself (a datagram socketpair): the
// loop keeps running while answers are late, answers are matched by sequence number,
// deadlines fail requests, the receive budget holds batches back, dumps stream.
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>

#include <catch2/catch.hpp>

#include "alopex/fd.hpp"
#include "alopex/netlink/requester.hpp"
#include "netlink_peer.hpp"

using namespace alopex;
using namespace alopex::test;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    EventPtr event;
    Fd peer;
    PeerChannel *channel = nullptr;
    std::unique_ptr<netlink::Requester> req;
    int ticks = 0;
    EventSourcePtr ticker;

    explicit Fixture(netlink::RequesterOptions opt = {}, size_t room = 1 << 20)
    {
        sd_event *e = nullptr;
        REQUIRE(sd_event_new(&e) >= 0);
        event.reset(e);
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) == 0);
        peer.reset(fds[1]);
        auto ch = std::make_unique<PeerChannel>(fds[0], room);
        channel = ch.get();
        auto r = netlink::Requester::create(e, std::move(ch), opt);
        REQUIRE(r);
        req = std::move(*r);
        // Something else the loop serves meanwhile (what a D-Bus Version call would be).
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
    void run_for(std::chrono::milliseconds d)
    {
        auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until)
            REQUIRE(sd_event_run(event.get(), 5000) >= 0);
    }
    template <typename P> void run_until(P pred, std::chrono::milliseconds limit = 2000ms)
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

} // namespace

TEST_CASE("the loop keeps running while the peer is slow; answers complete the batch in seq order")
{
    Fixture f;
    uint32_t s = f.req->reserve(3);
    std::vector<std::byte> batch;
    for (uint32_t i = 0; i < 3; ++i)
        append(batch, message(RTM_NEWADDR, s + i, NLM_F_REQUEST | NLM_F_ACK));
    std::optional<Result<std::vector<netlink::Ack>>> got;
    f.req->submit(batch, [&](Result<std::vector<netlink::Ack>> r) { got = std::move(r); });
    CHECK_FALSE(got.has_value());   // never inside submit()
    REQUIRE(f.received().size() == 1);

    f.run_for(150ms);   // the peer says nothing for a while: the loop goes on
    CHECK_FALSE(got.has_value());
    CHECK(f.ticks > 10);

    f.reply(answer(s + 2, 0));
    f.reply(answer(s, EEXIST, "Address already assigned"));
    f.run_for(20ms);
    CHECK_FALSE(got.has_value());   // one answer still missing
    f.reply(answer(s + 1, 0));
    f.run_until([&] { return got.has_value(); });
    REQUIRE(got->has_value());
    REQUIRE((*got)->size() == 3);
    CHECK((**got)[0].seq == s);
    CHECK((**got)[0].error == EEXIST);
    CHECK((**got)[0].text == "Address already assigned");
    CHECK((**got)[1].error == 0);
    CHECK((**got)[2].seq == s + 2);
}

TEST_CASE("a deadline fails the request; a late answer is ignored")
{
    Fixture f({.timeout = 50ms});
    uint32_t s = f.req->reserve();
    std::optional<Result<std::vector<netlink::Ack>>> got;
    f.req->submit(message(RTM_NEWLINK, s, NLM_F_REQUEST | NLM_F_ACK), [&](auto r) { got = std::move(r); });
    f.run_until([&] { return got.has_value(); });
    REQUIRE_FALSE(got->has_value());
    CHECK(got->error().code == ETIMEDOUT);

    // The next request still works; the old answer does not complete it.
    uint32_t s2 = f.req->reserve();
    std::optional<Result<std::vector<netlink::Ack>>> got2;
    f.req->submit(message(RTM_NEWLINK, s2, NLM_F_REQUEST | NLM_F_ACK), [&](auto r) { got2 = std::move(r); });
    f.reply(answer(s, 0));
    f.run_for(20ms);
    CHECK_FALSE(got2.has_value());
    f.reply(answer(s2, 0));
    f.run_until([&] { return got2.has_value(); });
    CHECK(got2->has_value());
}

TEST_CASE("batches wait while the answers outstanding would not fit the receive buffer")
{
    // Room for 2 answers: the second batch of 2 goes only after the first one's answers.
    Fixture f({.answer_cost = 1000}, 2000);
    uint32_t a = f.req->reserve(2), b = f.req->reserve(2);
    std::vector<std::byte> ba, bb;
    for (uint32_t i = 0; i < 2; ++i) {
        append(ba, message(RTM_NEWROUTE, a + i, NLM_F_REQUEST | NLM_F_ACK));
        append(bb, message(RTM_NEWROUTE, b + i, NLM_F_REQUEST | NLM_F_ACK));
    }
    int done = 0;
    f.req->submit(ba, [&](auto r) { done += r ? 1 : 100; });
    f.req->submit(bb, [&](auto r) { done += r ? 1 : 100; });
    CHECK(f.received().size() == 1);
    f.reply(answer(a, 0));
    f.reply(answer(a + 1, 0));
    f.run_until([&] { return done == 1; });
    auto second = f.received();
    REQUIRE(second.size() == 1);
    CHECK(reinterpret_cast<const nlmsghdr *>(second[0].data())->nlmsg_seq == b);
    f.reply(answer(b, 0));
    f.reply(answer(b + 1, 0));
    f.run_until([&] { return done == 2; });
}

TEST_CASE("rtnetlink batches are split at message boundaries; nf_tables batches go whole")
{
    Fixture split({.max_send = NLMSG_LENGTH(4) * 2});
    uint32_t s = split.req->reserve(5);
    std::vector<std::byte> batch;
    for (uint32_t i = 0; i < 5; ++i)
        append(batch, message(RTM_NEWADDR, s + i, NLM_F_REQUEST | NLM_F_ACK));
    split.req->submit(batch, [](auto) {});
    CHECK(split.received().size() == 3);

    // BEGIN (no ACK asked) fails: the batch ends at once with that error.
    Fixture whole;
    uint32_t n = whole.req->reserve(3);
    std::vector<std::byte> nft;
    append(nft, message(NFNL_MSG_BATCH_BEGIN, n, NLM_F_REQUEST));
    append(nft, message(0x0a00, n + 1, NLM_F_REQUEST | NLM_F_ACK));
    append(nft, message(NFNL_MSG_BATCH_END, n + 2, NLM_F_REQUEST));
    std::optional<Result<std::vector<netlink::Ack>>> got;
    whole.req->submit(nft, [&](auto r) { got = std::move(r); });
    CHECK(whole.received().size() == 1);
    whole.reply(answer(n, EPERM));
    whole.run_until([&] { return got.has_value(); });
    REQUIRE(got->has_value());
    REQUIRE((*got)->size() == 1);
    CHECK((**got)[0].error == EPERM);
}

TEST_CASE("dumps stream their replies; an interrupted dump is EINTR; lost answers fail what was sent")
{
    Fixture f;
    uint32_t s = f.req->reserve();
    std::vector<uint16_t> seen;
    std::optional<Result<>> done;
    f.req->dump(message(RTM_GETLINK, s, NLM_F_REQUEST | NLM_F_DUMP),
                [&](const nlmsghdr *h) { seen.push_back(h->nlmsg_type); }, [&](Result<> r) { done = r; });
    std::vector<std::byte> part;
    append(part, message(RTM_NEWLINK, s, NLM_F_MULTI));
    append(part, message(RTM_NEWLINK, s, NLM_F_MULTI | NLM_F_DUMP_INTR));
    f.reply(part);
    f.reply(message(NLMSG_DONE, s, NLM_F_MULTI));
    f.run_until([&] { return done.has_value(); });
    CHECK(seen.size() == 2);
    REQUIRE_FALSE(done->has_value());
    CHECK(done->error().code == EINTR);

    uint32_t s2 = f.req->reserve();
    std::optional<Result<std::vector<netlink::Ack>>> got;
    f.req->submit(message(RTM_NEWLINK, s2, NLM_F_REQUEST | NLM_F_ACK), [&](auto r) { got = std::move(r); });
    f.channel->lost = true;
    f.reply(answer(s2 + 100, 0));   // wakes the loop; the channel reports ENOBUFS first
    f.run_until([&] { return got.has_value(); });
    REQUIRE_FALSE(got->has_value());
    CHECK(got->error().code == ENOBUFS);
}

TEST_CASE("parse_ack refuses malformed answers")
{
    auto good = answer(7, EINVAL, "bad attribute");
    auto a = netlink::parse_ack(reinterpret_cast<const nlmsghdr *>(good.data()), good.size());
    REQUIRE(a);
    CHECK(a->error == EINVAL);
    CHECK(a->text == "bad attribute");
    CHECK_FALSE(netlink::parse_ack(reinterpret_cast<const nlmsghdr *>(good.data()), 10));
    auto impossible = answer(7, 0);
    reinterpret_cast<nlmsgerr *>(NLMSG_DATA(reinterpret_cast<nlmsghdr *>(impossible.data())))->error = 5;
    CHECK_FALSE(netlink::parse_ack(reinterpret_cast<const nlmsghdr *>(impossible.data()), impossible.size()));
    auto torn = answer(7, EINVAL, "x");
    reinterpret_cast<nlattr *>(torn.data() + NLMSG_LENGTH(sizeof(nlmsgerr)))->nla_len = 200;
    CHECK_FALSE(netlink::parse_ack(reinterpret_cast<const nlmsghdr *>(torn.data()), torn.size()));
}
