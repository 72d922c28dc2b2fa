// SPDX-License-Identifier: GPL-2.0-or-later
// The Monitor's staged initial sync (MonitorOptions::routes_after_links): links and
// addresses are delivered before the route dump runs and followed live meanwhile; the
// routes come when their dump ends, consistent with every change in between.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "fake_kernel.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::netlink;
using namespace alopex::netlink::test;

namespace {

MonitorOptions staged()
{
    MonitorOptions opt;
    opt.routes_after_links = true;
    return opt;
}

void populate(FakeKernel &k)
{
    k.change(new_link(1, "lo", 65536));
    for (int i : {3, 5, 6})
        k.change(new_link(i, fmt::format("l{}", i).c_str()));
    k.change(new_addr(3, "10.0.3.1", 24));
    k.change(new_addr(5, "10.0.5.1", 24));
    for (const char *dst : {"10.1.0.0", "10.3.0.0"})
        k.change(new_route(dst, 16, 3));
    for (const char *dst : {"10.5.0.0", "10.6.0.0"})
        k.change(new_route(dst, 16, 5));
}

// Every object of the final state reached the consumer: the links and addresses once as
// New (and changes after), the routes exactly once, as New.
void check_final(const Rig &rig)
{
    const Snapshot want = rig.kernel->snapshot();
    REQUIRE(rig.mon->state() == want);
    REQUIRE(rig.consumer.s == want);
    for (const auto &[k, r] : want.routes) {
        INFO("route " << r.dst << "/" << int(r.dst_len));
        CHECK(rig.consumer.count(r) == 1);
        CHECK(rig.consumer.count(r, Change::New) == 1);
    }
    CHECK(rig.consumer.during_dump == 0);
    CHECK(rig.consumer.links_synced == 1);
    CHECK(rig.consumer.synced == 1);
    CHECK(rig.consumer.initial_synced == 1);
    CHECK(rig.mon->links_synced());
    CHECK(rig.mon->synced());
}

} // namespace

TEST_CASE("monitor: routes_after_links delivers links and addresses before the route dump", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *rig.kernel;
    populate(k);
    k.per_part = 1;
    bool checked = false;
    rig.consumer.at_links_synced = [&] {
        // Links and addresses as the kernel has them; no route yet, not even asked for.
        Snapshot want = k.snapshot();
        want.routes.clear();
        CHECK(rig.consumer.s == want);
        CHECK(rig.mon->state() == want);
        CHECK(k.dumps(RTM_GETROUTE) == 0);
        CHECK_FALSE(rig.mon->synced());
        CHECK(rig.mon->links_synced());
        CHECK(rig.consumer.synced == 0);
        checked = true;
    };
    k.before_part = [&](uint16_t type, size_t part) {
        if (type == RTM_GETROUTE && part == 1) {
            // The first route (10.1/16 via link 3) is dumped; then link 3 changes, link 5
            // goes (with its routes: the kernel sends no RTM_DELROUTE for them), and a
            // route appears on link 6.
            k.change(new_link(3, "l3", 1400));
            k.change(del_link(5));
            k.change(new_route("10.7.0.0", 16, 6));
        }
    };
    rig.start(staged());
    REQUIRE(rig.settle());
    REQUIRE(checked);
    check_final(rig);
    // Link 5's routes were dumped or not depending on where the dump was: they never
    // reach the consumer.
    CHECK(rig.consumer.count(object_of(new_route("10.5.0.0", 16, 5))) == 0);
    CHECK(rig.consumer.count(object_of(new_route("10.6.0.0", 16, 5))) == 0);
    CHECK(rig.consumer.s.routes.size() == 3);
    CHECK(rig.errors.empty());
    // The link changes were delivered while the route dump ran (link 3's MTU, link 5
    // and its address gone), not with the routes when it ended.
    CHECK(rig.consumer.live_during_dump == 3);

    // From here on, routes are live as well.
    k.change(new_route("10.8.0.0", 16, 6));
    REQUIRE(rig.settle());
    CHECK(rig.consumer.s == k.snapshot());
}

TEST_CASE("monitor: an overrun during the staged route dump re-dumps everything once", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *rig.kernel;
    populate(k);
    k.per_part = 1;
    k.before_part = [&](uint16_t type, size_t part) {
        if (type == RTM_GETROUTE && part == 1 && k.dumps(RTM_GETROUTE) == 1) {
            // Lost: a link change already delivered and a route already dumped.
            k.change(new_link(3, "l3", 1280), false);
            k.change(route_msg(RTM_DELROUTE, AF_INET, "10.1.0.0", 16, 3), false);
            k.overrun();
        }
    };
    rig.start(staged());
    REQUIRE(rig.settle());
    CHECK(k.dumps(RTM_GETLINK) == 2);
    CHECK(k.dumps(RTM_GETROUTE) == 2);
    CHECK(rig.mon->overruns() == 1);
    CHECK(rig.mon->resyncs() == 0);   // still the initial sync
    check_final(rig);
    CHECK(rig.consumer.s.links.at(3).mtu == 1280);
    CHECK(rig.consumer.count(object_of(new_route("10.1.0.0", 16, 3))) == 0);
    CHECK(rig.errors.empty());
}

TEST_CASE("monitor: an interrupted link dump keeps the staged sync to one delivery", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *rig.kernel;
    populate(k);
    k.per_part = 1;
    k.before_part = [&](uint16_t type, size_t part) {
        if (type == RTM_GETLINK && part == 1 && k.dumps(RTM_GETLINK) == 1)
            k.interrupt_next_part();
    };
    rig.start(staged());
    REQUIRE(rig.settle());
    CHECK(k.dumps(RTM_GETLINK) == 2);
    check_final(rig);
    for (const auto &[i, l] : k.snapshot().links)
        CHECK(rig.consumer.count(l) == 1);
    CHECK(rig.errors.empty());
}

TEST_CASE("monitor: without routes to follow, routes_after_links is one plain sync", "[netlink][monitor]")
{
    Rig rig;
    populate(*rig.kernel);
    MonitorOptions opt = staged();
    opt.ipv4_routes = opt.ipv6_routes = false;
    rig.start(opt);
    REQUIRE(rig.settle());
    CHECK(rig.consumer.links_synced == 0);
    CHECK(rig.consumer.synced == 1);
    CHECK(rig.mon->links_synced());
    CHECK(rig.consumer.s.routes.empty());
}
