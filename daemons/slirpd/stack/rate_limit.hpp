// SPDX-License-Identifier: GPL-2.0-or-later
// New-connection rate limits with a lockout (brute-force protection for a mapped SSH
// port), pure: at most `count` new TCP connections in any `window` from one peer address
// (to any port; an IPv6 peer by its /64), and to one listened address and port (from anyone). The connection that
// would exceed a limit is refused and starts a lockout of that peer or port for
// `lockout`: everything it tries is refused until the lockout ends (attempts during it do
// not extend it). A count of 0 turns a limit off. What is remembered is bounded: entries
// with nothing in their window and no lockout are forgotten.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>

#include "alopex/net.hpp"

namespace alopex::slirp::stack {

struct RateLimit {
    unsigned count = 0;   // 0: no limit
    uint64_t window = 60'000'000;     // µs
    uint64_t lockout = 300'000'000;   // µs
};

class RateLimiter {
public:
    RateLimiter(RateLimit per_peer, RateLimit per_port) : peer_(per_peer), port_(per_port) {}

    enum class Verdict : uint8_t { Admit, Refused, LockedOut };   // LockedOut: refused, and a lockout began
    struct Decision {
        Verdict verdict = Verdict::Admit;
        bool by_port = false;      // which limit refused (the port's, else the peer's)
        uint64_t until = 0;        // the lockout's end, when refused
    };
    Decision admit(const net::Address &peer, const net::Address &address, uint16_t port, uint64_t now);

    size_t remembered() const noexcept { return peers_.size() + ports_.size(); }

private:
    struct Entry {
        std::deque<uint64_t> times;   // admitted, inside the window (at most count)
        uint64_t locked_until = 0;
    };
    template <typename Key>
    static Decision check(std::map<Key, Entry> &m, const Key &k, const RateLimit &l, uint64_t now, bool by_port);
    template <typename Key> static void forget_idle(std::map<Key, Entry> &m, const RateLimit &l, uint64_t now);

    RateLimit peer_, port_;
    std::map<net::Address, Entry> peers_;
    std::map<std::pair<net::Address, uint16_t>, Entry> ports_;
    uint64_t swept_at_ = 0;
};

} // namespace alopex::slirp::stack
