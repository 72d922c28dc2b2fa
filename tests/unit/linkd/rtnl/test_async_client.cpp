// SPDX-License-Identifier: GPL-2.0-or-later
// rtnl::AsyncClient against a peer the test plays (a datagram socketpair): nothing waits
// for the kernel, the loop keeps running while the answers are late, every request gets
// its own outcome (the kernel's errno and text, or build()'s refusal), and a kernel that
// never answers fails the batch with ETIMEDOUT at the deadline.
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>

#include <catch2/catch.hpp>

#include "async_client.hpp"
#include "netlink_peer.hpp"

using namespace alopex;
using namespace alopex::linkd;
using namespace alopex::test;
using namespace std::chrono_literals;

namespace {

struct Rig {
    EventPtr event;
    Fd peer;
    std::unique_ptr<rtnl::AsyncClient> client;
    int ticks = 0;
    EventSourcePtr ticker;

    explicit Rig(std::chrono::microseconds timeout = 5s)
    {
        sd_event *e = nullptr;
        REQUIRE(sd_event_new(&e) >= 0);
        event.reset(e);
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) == 0);
        peer.reset(fds[1]);
        auto c = rtnl::AsyncClient::create(e, std::make_unique<PeerChannel>(fds[0], 1 << 20), timeout);
        REQUIRE(c);
        client = std::move(*c);
        // What else the loop serves meanwhile (a D-Bus Version call).
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
    template <typename P> void run_until(P pred, std::chrono::milliseconds limit)
    {
        auto until = std::chrono::steady_clock::now() + limit;
        while (!pred() && std::chrono::steady_clock::now() < until)
            REQUIRE(sd_event_run(event.get(), 5000) >= 0);
    }
    // The sequence numbers of the messages the peer received.
    std::vector<uint32_t> received_seqs()
    {
        std::vector<uint32_t> out;
        std::vector<std::byte> buf(1 << 16);
        for (;;) {
            ssize_t n = ::recv(peer.get(), buf.data(), buf.size(), MSG_DONTWAIT);
            if (n <= 0)
                break;
            size_t len = size_t(n);
            for (auto *h = reinterpret_cast<const nlmsghdr *>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
                out.push_back(h->nlmsg_seq);
        }
        return out;
    }
    void reply(const std::vector<std::byte> &b) { REQUIRE(::send(peer.get(), b.data(), b.size(), 0) >= 0); }
};

rtnl::Request mtu(int ifindex, uint32_t v)
{
    rtnl::Request r;
    r.op = rtnl::Request::Op::SetLink;
    r.link.ifindex = ifindex;
    r.link.mtu = v;
    r.what = fmt::format("MTU {} on {}", v, ifindex);
    return r;
}

} // namespace

TEST_CASE("the loop runs while the kernel is slow; each request gets its own outcome")
{
    Rig r;
    auto bad = mtu(-1, 1400);   // build() refuses it: never sent
    std::optional<Result<std::vector<Result<>>>> got;
    r.client->submit({mtu(3, 1400), bad, mtu(4, 9000)}, [&](auto res) { got = std::move(res); });
    CHECK_FALSE(got.has_value());   // never inside submit()
    auto seqs = r.received_seqs();
    REQUIRE(seqs.size() == 2);
    auto ticks = r.ticks;
    r.run_until([&] { return r.ticks > ticks + 20; }, 2000ms);
    CHECK_FALSE(got.has_value());   // nothing answered yet: still waiting, not blocking
    CHECK(r.ticks > ticks + 20);
    r.reply(answer(seqs[1], EINVAL, "MTU too large"));
    r.reply(answer(seqs[0], 0));
    r.run_until([&] { return got.has_value(); }, 2000ms);
    REQUIRE(got.has_value());
    REQUIRE(*got);
    const auto &v = **got;
    REQUIRE(v.size() == 3);
    CHECK(v[0]);
    REQUIRE_FALSE(v[1]);
    CHECK(v[1].error().message.find("MTU 1400 on -1: ") == 0);
    REQUIRE_FALSE(v[2]);
    CHECK(v[2].error().code == EINVAL);
    CHECK(v[2].error().message == "MTU 9000 on 4: MTU too large");
}

TEST_CASE("a kernel that never answers: ETIMEDOUT at the deadline, the loop ran meanwhile")
{
    Rig r(100ms);
    std::optional<Result<std::vector<Result<>>>> got;
    auto t0 = std::chrono::steady_clock::now();
    r.client->submit({mtu(3, 1400)}, [&](auto res) { got = std::move(res); });
    r.run_until([&] { return got.has_value(); }, 3000ms);
    REQUIRE(got.has_value());
    REQUIRE_FALSE(*got);
    CHECK(got->error().code == ETIMEDOUT);
    CHECK(std::chrono::steady_clock::now() - t0 >= 90ms);
    CHECK(r.ticks > 10);
}
