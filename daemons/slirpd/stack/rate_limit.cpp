// SPDX-License-Identifier: GPL-2.0-or-later
#include "rate_limit.hpp"

namespace alopex::slirp::stack {

template <typename Key>
RateLimiter::Decision RateLimiter::check(std::map<Key, Entry> &m, const Key &k, const RateLimit &l, uint64_t now,
                                         bool by_port)
{
    Entry &e = m[k];
    if (e.locked_until > now)
        return {Verdict::Refused, by_port, e.locked_until};
    while (!e.times.empty() && e.times.front() + l.window <= now)
        e.times.pop_front();
    if (e.times.size() >= l.count) {
        e.locked_until = now + l.lockout;
        e.times.clear();
        return {Verdict::LockedOut, by_port, e.locked_until};
    }
    return {};
}

template <typename Key> void RateLimiter::forget_idle(std::map<Key, Entry> &m, const RateLimit &l, uint64_t now)
{
    std::erase_if(m, [&](const auto &kv) {
        const Entry &e = kv.second;
        return e.locked_until <= now && (e.times.empty() || e.times.back() + l.window <= now);
    });
}

RateLimiter::Decision RateLimiter::admit(const net::Address &from, const net::Address &address, uint16_t port,
                                         uint64_t now)
{
    // An IPv6 peer is its /64: a host picks any address of its own subnet at will.
    net::Address peer = from.is_v6() ? net::Prefix(from, 64).network().address() : from;
    if (now >= swept_at_ + 10'000'000 || remembered() > 4096) {
        forget_idle(peers_, peer_, now);
        forget_idle(ports_, port_, now);
        swept_at_ = now;
    }
    std::pair<net::Address, uint16_t> listened{address, port};
    // A port's limit is checked first: a locked port refuses without counting against the peer.
    if (port_.count) {
        if (auto d = check(ports_, listened, port_, now, true); d.verdict != Verdict::Admit)
            return d;
    }
    if (peer_.count) {
        if (auto d = check(peers_, peer, peer_, now, false); d.verdict != Verdict::Admit)
            return d;
        peers_[peer].times.push_back(now);
    }
    if (port_.count)
        ports_[listened].times.push_back(now);
    return {};
}

} // namespace alopex::slirp::stack
