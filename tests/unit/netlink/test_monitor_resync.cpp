// SPDX-License-Identifier: GPL-2.0-or-later
// The Monitor over a fake kernel: ENOBUFS resyncs and delivers exactly the differences;
// an overrun or NLM_F_DUMP_INTR during a dump starts the dump over.
#include <catch2/catch.hpp>

#include "fake_kernel.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::netlink;
using namespace alopex::netlink::test;
using namespace alopex::test;

namespace {

void populate(FakeKernel &k)
{
    k.change(new_link(1, "lo", 65536));
    k.change(new_link(2, "a"));
    k.change(new_link(3, "b"));
    k.change(new_addr(2, "10.0.2.1", 24));
    k.change(new_addr(3, "10.0.3.1", 24));
    k.change(new_route("10.9.0.0", 16, 3));
}

// The consumer's state, the monitor's and the kernel's agree, and every object was
// delivered once, as New (for a dump that had to restart before the first sync).
void check_delivered_once(const Rig &rig)
{
    const Snapshot want = rig.kernel->snapshot();
    REQUIRE(rig.mon->state() == want);
    REQUIRE(rig.consumer.s == want);
    for (const auto &[k, l] : want.links)
        CHECK(rig.consumer.count(l, Change::New) == 1);
    for (const auto &[k, a] : want.addresses)
        CHECK(rig.consumer.count(a, Change::New) == 1);
    for (const auto &[k, r] : want.routes)
        CHECK(rig.consumer.count(r, Change::New) == 1);
    CHECK(rig.consumer.log.size() == want.links.size() + want.addresses.size() + want.routes.size());
    CHECK(rig.consumer.during_dump == 0);
}

} // namespace

TEST_CASE("monitor: ENOBUFS triggers one resync that delivers exactly the difference", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *rig.kernel;
    populate(k);
    rig.start();
    REQUIRE(rig.settle());
    check_delivered_once(rig);
    auto n = rig.consumer.log.size();

    // Changes whose notifications were lost, then the overrun that says so.
    k.change(new_link(4, "d"), false);
    k.change(new_link(2, "a", 1400), false);
    k.change(del_link(3), false);  // takes 10.0.3.1/24 and 10.9.0.0/16 along
    k.overrun();
    REQUIRE(rig.settle());

    CHECK(rig.mon->overruns() == 1);
    CHECK(rig.mon->resyncs() == 1);
    CHECK(k.dumps(RTM_GETLINK) == 2);
    CHECK(k.dumps(RTM_GETADDR) == 2);
    CHECK(k.dumps(RTM_GETROUTE) == 2);
    CHECK(rig.consumer.synced == 2);
    CHECK(rig.consumer.initial_synced == 1);
    CHECK(rig.consumer.during_dump == 0);
    CHECK(rig.errors.empty());

    // Exactly the five differences, removals first (routes, addresses, links), then links.
    REQUIRE(rig.consumer.log.size() == n + 5);
    const auto &e = rig.consumer.log;
    CHECK(e[n].change == Change::Removed);
    CHECK(std::get<Route>(e[n].object).dst == ip("10.9.0.0"));
    CHECK(e[n + 1].change == Change::Removed);
    CHECK(std::get<Address>(e[n + 1].object).address == ip("10.0.3.1"));
    CHECK(e[n + 2].change == Change::Removed);
    CHECK(std::get<Link>(e[n + 2].object).ifindex == 3);
    CHECK(e[n + 3].change == Change::Changed);
    CHECK(std::get<Link>(e[n + 3].object).mtu == 1400);
    CHECK(std::get<Link>(*e[n + 3].previous).mtu == 1500);
    CHECK(e[n + 4].change == Change::New);
    CHECK(std::get<Link>(e[n + 4].object).ifindex == 4);
    CHECK(rig.consumer.s == k.snapshot());
    CHECK(rig.mon->state() == k.snapshot());

    // An overrun with nothing lost: one more resync, no events, one more "synced".
    k.overrun();
    REQUIRE(rig.settle());
    CHECK(rig.mon->resyncs() == 2);
    CHECK(rig.consumer.log.size() == n + 5);
    CHECK(rig.consumer.synced == 3);
}

TEST_CASE("monitor: an overrun during the initial dump restarts it", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *rig.kernel;
    populate(k);
    k.per_part = 1;
    k.before_part = [&](uint16_t type, size_t part) {
        if (type == RTM_GETLINK && part == 1 && k.dumps(RTM_GETLINK) == 1) {
            // Link 1 was already dumped; its change is lost with the overrun, so only a
            // new dump can bring it in.
            k.change(new_link(1, "lo", 1280), false);
            k.overrun();
        }
    };
    rig.start();
    REQUIRE(rig.settle());
    CHECK(k.dumps(RTM_GETLINK) == 2);
    CHECK(k.dumps(RTM_GETADDR) == 2);
    CHECK(k.dumps(RTM_GETROUTE) == 2);
    CHECK(rig.mon->overruns() == 1);
    CHECK(rig.mon->resyncs() == 0);  // still the initial sync
    CHECK(rig.consumer.synced == 1);
    CHECK(rig.consumer.initial_synced == 1);
    CHECK(rig.mon->state().links.at(1).mtu == 1280);
    check_delivered_once(rig);
    CHECK(rig.errors.empty());
}

TEST_CASE("monitor: NLM_F_DUMP_INTR restarts the dump", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *rig.kernel;
    populate(k);
    k.per_part = 1;

    SECTION("in the initial link dump")
    {
        k.before_part = [&](uint16_t type, size_t part) {
            if (type == RTM_GETLINK && part == 2 && k.dumps(RTM_GETLINK) == 1) {
                k.change(new_link(2, "a", 1280), false);
                k.interrupt_next_part();
            }
        };
        rig.start();
        REQUIRE(rig.settle());
        CHECK(k.dumps(RTM_GETLINK) == 2);
        CHECK(rig.mon->state().links.at(2).mtu == 1280);
    }
    SECTION("in the initial address dump")
    {
        k.before_part = [&](uint16_t type, size_t part) {
            if (type == RTM_GETADDR && part == 0 && k.dumps(RTM_GETADDR) == 1) {
                k.change(new_link(3, "renamed"), false);
                k.interrupt_next_part();
            }
        };
        rig.start();
        REQUIRE(rig.settle());
        CHECK(k.dumps(RTM_GETLINK) == 2);  // the whole sequence starts over
        CHECK(k.dumps(RTM_GETADDR) == 2);
        CHECK(rig.mon->state().links.at(3).name == "renamed");
    }
    CHECK(rig.mon->resyncs() == 0);
    CHECK(rig.consumer.synced == 1);
    check_delivered_once(rig);
    CHECK(rig.errors.empty());
}

TEST_CASE("monitor: an interrupted resync restarts and still delivers one difference", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *rig.kernel;
    populate(k);
    k.per_part = 1;
    rig.start();
    REQUIRE(rig.settle());
    auto n = rig.consumer.log.size();

    k.before_part = [&](uint16_t type, size_t part) {
        if (type == RTM_GETLINK && part == 2 && k.dumps(RTM_GETLINK) == 2) {
            k.change(new_link(1, "lo", 1280), false);  // behind the dump's cursor
            k.interrupt_next_part();
        }
    };
    k.change(new_link(9, "z"), false);
    k.overrun();
    REQUIRE(rig.settle());
    CHECK(k.dumps(RTM_GETLINK) == 3);
    CHECK(rig.mon->resyncs() == 1);
    CHECK(rig.consumer.synced == 2);
    REQUIRE(rig.consumer.log.size() == n + 2);
    CHECK(rig.consumer.count(object_of(new_link(1, "lo")), Change::Changed) == 1);
    CHECK(rig.consumer.count(object_of(new_link(9, "z")), Change::New) == 1);
    CHECK(rig.consumer.s == k.snapshot());
    CHECK(rig.errors.empty());
}
