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

struct Fixture : PeerLoop {
    PeerChannel *channel = nullptr;
    std::unique_ptr<netlink::Requester> req;

    explicit Fixture(netlink::RequesterOptions opt = {}, size_t room = 1 << 20)
    {
        auto ch = make_channel(room);
        channel = ch.get();
        auto r = netlink::Requester::create(event.get(), std::move(ch), opt);
        REQUIRE(r);
        req = std::move(*r);
    }
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

TEST_CASE("a whole batch whose answers would not fit grows the receive buffer first")
{
    // Room for 2 answers, an nf_tables batch (sent whole) asking for 5: the channel is
    // asked for room for all 5 before the batch goes, and the batch completes.
    Fixture f({.answer_cost = 1000}, 2000);
    uint32_t s = f.req->reserve(5);
    std::vector<std::byte> batch;
    for (uint32_t i = 0; i < 5; ++i)
        append(batch, message(0x0a00, s + i, NLM_F_REQUEST | NLM_F_ACK));
    std::optional<Result<std::vector<netlink::Ack>>> got;
    f.req->submit(batch, [&](auto r) { got = std::move(r); });
    CHECK(f.channel->reserved == 5000);
    CHECK(f.received().size() == 1);
    for (uint32_t i = 0; i < 5; ++i)
        f.reply(answer(s + i, 0));
    f.run_until([&] { return got.has_value(); });
    REQUIRE(got->has_value());
    CHECK((*got)->size() == 5);
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
