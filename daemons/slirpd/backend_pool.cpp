// SPDX-License-Identifier: GPL-2.0-or-later
#include "backend_pool.hpp"

#include <algorithm>

namespace alopex::slirp {

BackendPool::BackendPool(std::vector<HostTarget> targets, BackendPolicy policy) : policy_(policy)
{
    for (auto &t : targets)
        backends_.push_back({std::move(t)});
}

std::vector<size_t> BackendPool::order(uint64_t now)
{
    std::vector<size_t> out;
    size_t n = backends_.size();
    for (size_t k = 0; k < n; ++k) {
        size_t i = (next_ + k) % n;
        Backend &b = backends_[i];
        if (b.skipped_until && b.skipped_until <= now) {   // the skip is over: try it again
            b.skipped_until = 0;
            b.retrying = true;
        }
        if (!b.skipped_until)
            out.push_back(i);
    }
    if (out.empty()) {
        auto soonest = std::min_element(backends_.begin(), backends_.end(), [](const Backend &a, const Backend &b) {
            return a.skipped_until < b.skipped_until;
        });
        out.push_back(static_cast<size_t>(soonest - backends_.begin()));
    }
    next_ = (out.front() + 1) % n;
    return out;
}

void BackendPool::succeeded(size_t i)
{
    Backend &b = backends_[i];
    ++b.connects;
    b.failures = 0;
    b.skipped_until = 0;
    b.retrying = false;
}

void BackendPool::failed(size_t i, uint64_t now)
{
    Backend &b = backends_[i];
    ++b.failed;
    ++b.failures;
    if (b.retrying || b.failures >= policy_.failures) {
        b.skipped_until = std::max<uint64_t>(now + policy_.skip_usec, 1);
        b.retrying = false;
    }
}

std::string BackendPool::state(const Backend &b, uint64_t now)
{
    if (b.skipped_until > now)
        return "skipped";
    return b.retrying || b.skipped_until ? "retrying" : "up";
}

} // namespace alopex::slirp
