// SPDX-License-Identifier: GPL-2.0-or-later
// The Monitor over a fake kernel: subscribe before dump, and live events that arrive
// while the initial dump runs are neither lost nor delivered twice.
#include <catch2/catch.hpp>

#include <linux/neighbour.h>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "fake_kernel.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::netlink;
using namespace alopex::netlink::test;

namespace {

// Every object of the final state reached the consumer exactly once, as New, and nothing
// else did.
void check_initial_delivery(const Rig &rig)
{
    const Snapshot &want = rig.kernel->snapshot();
    REQUIRE(rig.mon->state() == want);
    REQUIRE(rig.consumer.s == want);
    for (const auto &[k, l] : want.links) {
        INFO("link " << l.ifindex << " " << l.name);
        CHECK(rig.consumer.count(l) == 1);
        CHECK(rig.consumer.count(l, Change::New) == 1);
    }
    for (const auto &[k, a] : want.addresses) {
        INFO("address " << a.address);
        CHECK(rig.consumer.count(a, Change::New) == 1);
    }
    for (const auto &[k, r] : want.routes) {
        INFO("route " << r.dst << "/" << int(r.dst_len));
        CHECK(rig.consumer.count(r, Change::New) == 1);
    }
    CHECK(rig.consumer.log.size() == want.links.size() + want.addresses.size() + want.routes.size());
    // Delivered at the end, as one diff: links, then addresses, then routes.
    CHECK(rig.consumer.during_dump == 0);
    CHECK(std::ranges::is_sorted(rig.consumer.log, {}, [](const Event &e) { return e.object.index(); }));
    CHECK(rig.consumer.synced == 1);
    CHECK(rig.consumer.initial_synced == 1);
}

} // namespace

TEST_CASE("monitor: joins the groups before the first dump request", "[netlink][monitor]")
{
    SECTION("everything")
    {
        Rig rig;
        rig.kernel->change(new_link(1, "lo", 65536));
        rig.start();
        // create() has subscribed and sent the first request, nothing more.
        REQUIRE(rig.kernel->calls == std::vector<std::string>{"subscribe", "dump link"});
        auto g = rig.kernel->groups;
        std::ranges::sort(g);
        CHECK(g == std::vector<unsigned>{RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE,
                                         RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE});
        REQUIRE(rig.settle());
        CHECK(rig.kernel->calls == std::vector<std::string>{"subscribe", "dump link", "dump addr", "dump route"});
        check_initial_delivery(rig);
    }
    SECTION("links only")
    {
        Rig rig;
        MonitorOptions opt;
        opt.ipv4_addresses = opt.ipv6_addresses = opt.ipv4_routes = opt.ipv6_routes = false;
        rig.start(opt);
        REQUIRE(rig.settle());
        CHECK(rig.kernel->groups == std::vector<unsigned>{RTNLGRP_LINK});
        CHECK(rig.kernel->calls == std::vector<std::string>{"subscribe", "dump link"});
    }
}

// A link appears right after the monitor's first call to the kernel. Subscribed first, the
// monitor sees it in the event stream (and again in the dump). Had it dumped first, the
// dump would predate the link and, not being subscribed yet, it would never hear of it.
TEST_CASE("monitor: a change between subscribe and dump is not lost", "[netlink][monitor]")
{
    Rig rig;
    rig.kernel->per_part = 100;  // the whole dump is taken when the request is sent
    rig.kernel->change(new_link(1, "lo", 65536));
    bool fired = false;
    rig.kernel->after_call = [&](const std::string &) {
        if (!std::exchange(fired, true))
            rig.kernel->change(new_link(7, "late"));
    };
    rig.start();
    REQUIRE(rig.settle());
    REQUIRE(fired);
    CHECK(rig.mon->state().links.contains(7));
    check_initial_delivery(rig);
    CHECK(rig.consumer.count(object_of(new_link(7, "late")), Change::New) == 1);
    CHECK(rig.errors.empty());
}

TEST_CASE("monitor: changes during the initial dump are neither lost nor delivered twice", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *rig.kernel;
    k.per_part = 3;
    k.change(new_link(1, "lo", 65536));
    for (int i : {3, 5, 6, 7, 8})
        k.change(new_link(i, fmt::format("l{}", i).c_str()));
    k.change(new_addr(3, "10.0.3.1", 24));
    k.change(new_addr(6, "10.0.6.1", 24));
    k.change(new_addr(6, "2001:db8:6::1", 64));
    for (const char *dst : {"10.1.0.0", "10.3.0.0", "10.5.0.0", "10.7.0.0"})
        k.change(new_route(dst, 16, 3));

    std::vector<std::pair<uint16_t, size_t>> fired;
    k.before_part = [&](uint16_t type, size_t part) {
        if (type == RTM_GETLINK && part == 1) {
            // The first datagram carried links 1, 3 and 5.
            k.change(new_link(2, "behind"));        // only in the event stream
            k.change(new_link(3, "l3", 1400));      // dumped with the old MTU
            k.change(del_link(5));                  // dumped, then gone
            k.change(new_link(20, "ahead"));        // in the dump and in the stream
            k.change(new_link(7, "l7", 9000));      // dumped with the new MTU already
            k.change(del_link(8));                  // never dumped
        } else if (type == RTM_GETADDR && part == 0) {
            k.change(new_addr(20, "10.0.20.1", 24));
            k.change(new_addr(2, "2001:db8:2::1", 64));
        } else if (type == RTM_GETROUTE && part == 0) {
            k.change(new_route("10.2.0.0", 16, 20));
        } else if (type == RTM_GETROUTE && part == 1) {
            // While the monitor reads the last datagram: it must take this in before it
            // declares the sync, not deliver link 6 first and then change it.
            k.change(new_link(6, "l6", 4000));
        } else {
            return;
        }
        fired.emplace_back(type, part);
    };
    rig.start();
    REQUIRE(rig.settle());
    CHECK(fired.size() == 4);
    check_initial_delivery(rig);
    CHECK(k.calls.size() == 4);  // no restart was needed
    CHECK(rig.mon->resyncs() == 0);
    CHECK(rig.mon->overruns() == 0);
    CHECK(rig.errors.empty());
    CHECK(rig.consumer.count(object_of(new_link(5, "l5"))) == 0);
    CHECK(rig.consumer.count(object_of(new_link(8, "l8"))) == 0);
    CHECK(rig.consumer.s.links.at(3).mtu == 1400);
    CHECK(rig.consumer.s.links.at(7).mtu == 9000);
    CHECK(rig.consumer.s.links.at(2).name == "behind");
    CHECK(rig.consumer.s.links.at(6).mtu == 4000);

    // After the sync every live message is delivered at once, as a change.
    auto before = rig.consumer.log.size();
    k.change(new_link(7, "l7", 1280));
    REQUIRE(rig.settle());
    REQUIRE(rig.consumer.log.size() == before + 1);
    CHECK(rig.consumer.log.back().change == Change::Changed);
    CHECK(std::get<Link>(*rig.consumer.log.back().previous).mtu == 9000);

    // A link that goes takes its address and route along.
    k.change(del_link(20));
    REQUIRE(rig.settle());
    CHECK(rig.consumer.log.size() == before + 4);
    CHECK(rig.consumer.count(object_of(new_link(20, "x")), Change::Removed) == 1);
    CHECK(rig.consumer.s == k.snapshot());
    CHECK(rig.mon->state() == k.snapshot());
}

TEST_CASE("monitor: a duplicate or out-of-band event changes nothing", "[netlink][monitor]")
{
    Rig rig;
    rig.kernel->change(new_link(1, "lo", 65536));
    rig.start();
    REQUIRE(rig.settle());
    auto n = rig.consumer.log.size();
    // The same state again (the kernel repeats itself on some changes).
    auto again = new_link(1, "lo", 65536);
    rig.kernel->raw_event(again.bytes());
    // Messages the monitor does not model are skipped.
    Msg other(RTM_NEWNEIGH);
    other.extra<ndmsg>()->ndm_family = AF_INET;
    rig.kernel->raw_event(other.bytes());
    REQUIRE(rig.settle());
    CHECK(rig.consumer.log.size() == n);
    CHECK(rig.errors.empty());
}
