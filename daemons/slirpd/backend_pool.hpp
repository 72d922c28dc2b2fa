// SPDX-License-Identifier: GPL-2.0-or-later
// The backends of one TCP port map, pure: which to try for a new connection, round robin,
// with a circuit breaker (BackendPolicy): a backend whose connects failed `failures` times
// in a row is skipped for `skip`; after that the next connection tries it again (one
// failure then skips it again at once, a success closes the breaker). When every backend
// is being skipped, the one whose skip ends first is tried rather than none. A connection
// that cannot reach its backend goes on to the next in the order (failover).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "settings.hpp"

namespace alopex::slirp {

class BackendPool {
public:
    struct Backend {
        HostTarget target;
        unsigned failures = 0;        // in a row
        uint64_t skipped_until = 0;   // 0: not skipped
        bool retrying = false;        // the skip is over: one failure skips it again
        uint64_t connects = 0, failed = 0;
    };
    BackendPool(std::vector<HostTarget> targets, BackendPolicy policy);

    // The backends to try for a new connection at `now`, in order (never empty).
    std::vector<size_t> order(uint64_t now);
    void succeeded(size_t i);
    void failed(size_t i, uint64_t now);
    const std::vector<Backend> &backends() const noexcept { return backends_; }
    // "up", "skipped" or "retrying" at `now`.
    static std::string state(const Backend &b, uint64_t now);

private:
    std::vector<Backend> backends_;
    BackendPolicy policy_;
    size_t next_ = 0;
};

} // namespace alopex::slirp
