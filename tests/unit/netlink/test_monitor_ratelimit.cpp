// SPDX-License-Identifier: GPL-2.0-or-later
// The Monitor over a fake kernel: re-dumps are rate-limited (min_resync_interval between
// dump starts, measured on the loop's CLOCK_MONOTONIC) and overruns that pile up while
// one is due coalesce into it.
#include <catch2/catch.hpp>

#include <chrono>

#include "fake_kernel.hpp"

using namespace alopex;
using namespace alopex::netlink;
using namespace alopex::netlink::test;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t interval_usec = 200'000;

Rig &started(Rig &rig, size_t per_part = 2)
{
    auto &k = *rig.kernel;
    k.per_part = per_part;
    k.change(new_link(1, "lo", 65536));
    k.change(new_link(2, "a"));
    k.change(new_link(3, "b"));
    k.change(new_addr(2, "10.0.2.1", 24));
    MonitorOptions opt;
    opt.min_resync_interval = 200ms;
    rig.start(opt);
    REQUIRE(rig.settle());
    REQUIRE(k.link_dump_times.size() == 1);
    return rig;
}

void check_spacing(const std::vector<uint64_t> &t)
{
    for (size_t i = 1; i < t.size(); ++i) {
        INFO("dump " << i << " started " << (t[i] - t[i - 1]) << " usec after dump " << i - 1);
        CHECK(t[i] - t[i - 1] >= interval_usec);
    }
}

} // namespace

TEST_CASE("monitor: three overruns in quick succession give one rate-limited resync", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *started(rig).kernel;
    k.change(new_link(4, "lost"), false);
    for (int i = 0; i < 3; ++i) {
        k.overrun();
        // Let the monitor read it before the next one arrives.
        REQUIRE(rig.run_until([&] { return rig.mon->overruns() == static_cast<uint64_t>(i + 1); }, 1000));
        CHECK(rig.mon->resync_pending());
    }
    REQUIRE(rig.settle(3000));
    CHECK(rig.mon->overruns() == 3);
    CHECK(rig.mon->resyncs() == 1);
    CHECK(k.dumps(RTM_GETLINK) == 2);  // not three back-to-back re-dumps
    CHECK(rig.consumer.synced == 2);
    REQUIRE(k.link_dump_times.size() == 2);
    check_spacing(k.link_dump_times);
    CHECK(rig.consumer.s == k.snapshot());
    CHECK(rig.consumer.count(object_of(new_link(4, "lost")), Change::New) == 1);
}

TEST_CASE("monitor: request_resync is rate-limited and coalesced the same way", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *started(rig).kernel;
    rig.mon->request_resync();
    rig.mon->request_resync();
    rig.mon->request_resync();
    CHECK(k.dumps(RTM_GETLINK) == 1);  // not started synchronously
    REQUIRE(rig.settle(3000));
    CHECK(rig.mon->resyncs() == 1);
    REQUIRE(k.link_dump_times.size() == 2);
    check_spacing(k.link_dump_times);
}

TEST_CASE("monitor: overruns during re-dumps keep the dumps spaced", "[netlink][monitor]")
{
    Rig rig;
    auto &k = *started(rig, 1).kernel;
    // Each of the next two re-dumps is overrun half-way and must start over.
    k.before_part = [&](uint16_t type, size_t part) {
        auto n = k.dumps(RTM_GETLINK);
        if (type == RTM_GETLINK && part == 1 && (n == 2 || n == 3)) {
            k.change(new_link(static_cast<int>(10 + n), "lost"), false);
            k.overrun();
        }
    };
    k.overrun();
    REQUIRE(rig.settle(5000));
    CHECK(rig.mon->overruns() == 3);
    CHECK(k.dumps(RTM_GETLINK) == 4);
    CHECK(rig.mon->resyncs() == 1);  // only the last one completed
    CHECK(rig.consumer.synced == 2);
    REQUIRE(k.link_dump_times.size() == 4);
    check_spacing(k.link_dump_times);
    CHECK(rig.consumer.s == k.snapshot());
    CHECK(rig.mon->state().links.contains(12));
    CHECK(rig.mon->state().links.contains(13));
    CHECK(rig.errors.empty());
}
