// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>

#include "rate_limit.hpp"

namespace alopex::broker {

bool TokenBuckets::take(uid_t uid, uint64_t now_ns)
{
    const uint64_t full = uint64_t{burst_} * 1000;
    auto [it, fresh] = buckets_.try_emplace(uid, Bucket{full, now_ns});
    Bucket &b = it->second;
    if (!fresh && now_ns > b.at_ns) {
        // Whole thousandths earned since at_ns; the remainder of the time is kept.
        const uint64_t ns_per_milli = 1'000'000 / rate_; // rate_ <= 65536: never 0
        uint64_t earned = (now_ns - b.at_ns) / ns_per_milli;
        if (earned > 0) {
            b.tokens_milli = std::min(full, b.tokens_milli + std::min(earned, full));
            b.at_ns = b.tokens_milli == full ? now_ns : b.at_ns + earned * ns_per_milli;
        }
    }
    if (b.tokens_milli < 1000)
        return false;
    b.tokens_milli -= 1000;
    return true;
}

void TokenBuckets::configure(uint32_t rate, uint32_t burst)
{
    if (rate == rate_ && burst == burst_)
        return;
    rate_ = rate;
    burst_ = burst;
    buckets_.clear();
}

} // namespace alopex::broker
