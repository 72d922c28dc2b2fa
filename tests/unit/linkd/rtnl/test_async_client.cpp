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

struct Rig : PeerLoop {
    std::unique_ptr<rtnl::AsyncClient> client;

    explicit Rig(std::chrono::microseconds timeout = 5s)
    {
        auto c = rtnl::AsyncClient::create(event.get(), make_channel(), timeout);
        REQUIRE(c);
        client = std::move(*c);
    }
    // The sequence numbers of the messages the peer received.
    std::vector<uint32_t> received_seqs()
    {
        std::vector<uint32_t> out;
        for (auto &d : received()) {
            size_t len = d.size();
            for (auto *h = reinterpret_cast<const nlmsghdr *>(d.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
                out.push_back(h->nlmsg_seq);
        }
        return out;
    }
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
    r.run_for(100ms);
    CHECK_FALSE(got.has_value());   // nothing answered yet: still waiting, not blocking
    CHECK(r.ticks > ticks + 20);
    r.reply(answer(seqs[1], EINVAL, "MTU too large"));
    r.reply(answer(seqs[0], 0));
    r.run_until([&] { return got.has_value(); });
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
    REQUIRE_FALSE(*got);
    CHECK(got->error().code == ETIMEDOUT);
    CHECK(std::chrono::steady_clock::now() - t0 >= 90ms);
    CHECK(r.ticks > 10);
}
