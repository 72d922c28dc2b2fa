// SPDX-License-Identifier: GPL-2.0-or-later
// Record's rate limit: one token bucket per caller uid. Pure: the time comes in.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <unordered_map>

namespace alopex::broker {

class TokenBuckets {
public:
    // Each uid starts with `burst` tokens and gains `rate` per second, up to `burst`.
    TokenBuckets(uint32_t rate, uint32_t burst) : rate_(rate), burst_(burst) {}

    // Takes one token of `uid` at time `now_ns` (a monotonic clock); false when none is
    // left. Only callers the table allows reach this, so the map stays as small as the
    // [record] callers list.
    bool take(uid_t uid, uint64_t now_ns);

    // New numbers (a reload): every bucket starts full again.
    void configure(uint32_t rate, uint32_t burst);
    uint32_t rate() const { return rate_; }
    uint32_t burst() const { return burst_; }

private:
    struct Bucket {
        uint64_t tokens_milli; // thousandths of a token
        uint64_t at_ns;
    };
    uint32_t rate_, burst_;
    std::unordered_map<uid_t, Bucket> buckets_;
};

} // namespace alopex::broker
