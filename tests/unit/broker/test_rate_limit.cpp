// SPDX-License-Identifier: GPL-2.0-or-later
// Record's token buckets: a burst, then the refill rate, per uid.
#include <catch2/catch.hpp>

#include "rate_limit.hpp"

using namespace alopex::broker;

namespace {
constexpr uint64_t s = 1'000'000'000;
}

TEST_CASE("a burst, then one token per 1/rate seconds")
{
    TokenBuckets b(4, 3); // 4 per second, burst 3
    uint64_t t = 1000 * s;
    CHECK(b.take(10, t));
    CHECK(b.take(10, t));
    CHECK(b.take(10, t));
    CHECK_FALSE(b.take(10, t));
    CHECK_FALSE(b.take(10, t + s / 4 - 1));
    CHECK(b.take(10, t + s / 4));
    CHECK_FALSE(b.take(10, t + s / 4));
    // Others have their own bucket.
    CHECK(b.take(11, t));
    // A long pause refills up to the burst, not beyond.
    t += 3600 * s;
    CHECK(b.take(10, t));
    CHECK(b.take(10, t));
    CHECK(b.take(10, t));
    CHECK_FALSE(b.take(10, t));
}

TEST_CASE("time that earned less than a token is not lost")
{
    TokenBuckets b(1, 1);
    uint64_t t = 5 * s;
    CHECK(b.take(1, t));
    // Refused attempts every 0.3 s do not reset the clock: the token is there at t+1s.
    CHECK_FALSE(b.take(1, t + 3 * s / 10));
    CHECK_FALSE(b.take(1, t + 6 * s / 10));
    CHECK_FALSE(b.take(1, t + 9 * s / 10));
    CHECK(b.take(1, t + s));
}

TEST_CASE("new numbers start every bucket full; the same numbers keep them")
{
    TokenBuckets b(1, 2);
    CHECK(b.take(1, 0));
    CHECK(b.take(1, 0));
    CHECK_FALSE(b.take(1, 0));
    b.configure(1, 2);
    CHECK_FALSE(b.take(1, 0));
    b.configure(1, 5);
    CHECK(b.burst() == 5);
    CHECK(b.take(1, 0));
}
