// SPDX-License-Identifier: GPL-2.0-or-later
// The event-to-commit latency histogram of alopex-fwd: a netlink event delivered by the
// monitor -> the element batch it caused acknowledged by the kernel. Fixed microsecond
// buckets (upper bounds, inclusive); the last one is open (UINT64_MAX). Pure.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace alopex::fwd {

class Histogram {
public:
    static constexpr std::array<uint64_t, 9> bounds{
        50, 100, 200, 500, 1000, 2000, 5000, 10000, std::numeric_limits<uint64_t>::max()};

    void record(uint64_t usec) noexcept
    {
        for (size_t i = 0; i < bounds.size(); ++i)
            if (usec <= bounds[i]) {
                ++counts_[i];
                break;
            }
        ++total_;
        if (usec > max_)
            max_ = usec;
    }

    // (upper bound, count) for every bucket, in order: the LatencyHistogram property.
    std::vector<std::pair<uint64_t, uint64_t>> buckets() const
    {
        std::vector<std::pair<uint64_t, uint64_t>> out;
        out.reserve(bounds.size());
        for (size_t i = 0; i < bounds.size(); ++i)
            out.emplace_back(bounds[i], counts_[i]);
        return out;
    }

    // The upper bound of the bucket holding quantile q (0 < q <= 1); 0 when empty.
    uint64_t quantile_bound(double q) const noexcept
    {
        if (total_ == 0)
            return 0;
        auto want = static_cast<uint64_t>(q * static_cast<double>(total_) + 0.999999);
        if (want == 0)
            want = 1;
        uint64_t seen = 0;
        for (size_t i = 0; i < bounds.size(); ++i) {
            seen += counts_[i];
            if (seen >= want)
                return bounds[i];
        }
        return bounds.back();
    }

    uint64_t total() const noexcept { return total_; }
    uint64_t max() const noexcept { return max_; }

private:
    std::array<uint64_t, bounds.size()> counts_{};
    uint64_t total_ = 0, max_ = 0;
};

} // namespace alopex::fwd
