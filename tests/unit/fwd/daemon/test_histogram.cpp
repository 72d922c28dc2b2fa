// SPDX-License-Identifier: GPL-2.0-or-later
// The event-to-commit latency histogram: bucket edges, the open last bucket, quantiles.
#include <cstdint>
#include <limits>

#include <catch2/catch.hpp>

#include "histogram.hpp"

using alopex::fwd::Histogram;

TEST_CASE("histogram: bounds are the documented microsecond buckets")
{
    Histogram h;
    auto b = h.buckets();
    REQUIRE(b.size() == 9);
    const uint64_t want[] = {50, 100, 200, 500, 1000, 2000, 5000, 10000,
                             std::numeric_limits<uint64_t>::max()};
    for (size_t i = 0; i < b.size(); ++i) {
        CHECK(b[i].first == want[i]);
        CHECK(b[i].second == 0);
    }
    CHECK(h.total() == 0);
    CHECK(h.quantile_bound(0.5) == 0);
}

TEST_CASE("histogram: values land in the first bucket whose bound they do not exceed")
{
    Histogram h;
    for (uint64_t v : {0ull, 50ull, 51ull, 100ull, 101ull, 999ull, 1000ull, 1001ull, 10000ull,
                       10001ull, 18446744073709551615ull})
        h.record(v);
    auto b = h.buckets();
    CHECK(b[0].second == 2);   // 0, 50
    CHECK(b[1].second == 2);   // 51, 100
    CHECK(b[2].second == 1);   // 101
    CHECK(b[3].second == 0);
    CHECK(b[4].second == 2);   // 999, 1000
    CHECK(b[5].second == 1);   // 1001
    CHECK(b[6].second == 0);
    CHECK(b[7].second == 1);   // 10000
    CHECK(b[8].second == 2);   // 10001, max
    CHECK(h.total() == 11);
    CHECK(h.max() == std::numeric_limits<uint64_t>::max());
}

TEST_CASE("histogram: quantiles by bucket")
{
    Histogram h;
    for (int i = 0; i < 98; ++i)
        h.record(40);
    h.record(700);
    h.record(3000);
    CHECK(h.quantile_bound(0.5) == 50);
    CHECK(h.quantile_bound(0.98) == 50);
    CHECK(h.quantile_bound(0.99) == 1000);
    CHECK(h.quantile_bound(1.0) == 5000);
}
