// SPDX-License-Identifier: GPL-2.0-or-later
// The impairments alopex-test-ppp-peer puts on a PPP link, seeded so a run replays: on
// IP packets each way, loss, duplication, reordering (a packet held back until the next
// one in its direction, or 30 ms) and a fixed delay; on the line's frames each way, one
// flipped bit (which the FCS has to catch).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace slirp_test {

struct Impairment {
    using Clock = std::chrono::steady_clock;
    using Bytes = std::vector<uint8_t>;

    double loss = 0, dup = 0, reorder = 0, flip = 0;   // percentages
    std::chrono::milliseconds delay{0};
    std::mt19937 rng{1};
    uint64_t lost = 0, duplicated = 0, reordered = 0, flipped_out = 0, flipped_in = 0;

    struct Direction {
        std::optional<Bytes> held;   // reordering
        Clock::time_point since;
        std::deque<std::pair<Clock::time_point, Bytes>> pipe;   // on its way (delay)
    };
    Direction to_slirpd, to_kernel;

    bool active() const { return loss > 0 || dup > 0 || reorder > 0 || flip > 0 || delay.count() > 0; }
    bool chance(double pct) { return pct > 0 && std::uniform_real_distribution<double>(0, 100)(rng) < pct; }

    // A packet arrives for direction `d`: lost, or on its way (twice when duplicated;
    // after the next one when reordered).
    void pass(Direction &d, std::span<const uint8_t> p, Clock::time_point now)
    {
        if (chance(loss)) {
            ++lost;
            return;
        }
        Bytes b(p.begin(), p.end());
        if (!d.held && chance(reorder)) {
            ++reordered;
            d.held = std::move(b);
            d.since = now;
            return;
        }
        if (chance(dup)) {
            ++duplicated;
            d.pipe.emplace_back(now + delay, b);
        }
        d.pipe.emplace_back(now + delay, std::move(b));
        if (d.held) {
            d.pipe.emplace_back(now + delay, std::move(*d.held));
            d.held.reset();
        }
    }

    // The packets of `d` due now, in order.
    std::vector<Bytes> due(Direction &d, Clock::time_point now)
    {
        if (d.held && now - d.since > std::chrono::milliseconds(30)) {
            d.pipe.emplace_back(d.since + std::chrono::milliseconds(30) + delay, std::move(*d.held));
            d.held.reset();
        }
        std::vector<Bytes> out;
        while (!d.pipe.empty() && d.pipe.front().first <= now) {
            out.push_back(std::move(d.pipe.front().second));
            d.pipe.pop_front();
        }
        return out;
    }

    // When `d` next has something to do (held or on its way), if it has.
    std::optional<Clock::time_point> next(const Direction &d) const
    {
        std::optional<Clock::time_point> t;
        if (d.held)
            t = d.since + std::chrono::milliseconds(30);
        if (!d.pipe.empty() && (!t || d.pipe.front().first < *t))
            t = d.pipe.front().first;
        return t;
    }

    // One frame on its way to slirpd, line bytes [from, to) of `line` (its flags at both
    // ends): one bit inside it flipped, or none.
    void flip_frame(Bytes &line, size_t from, size_t to)
    {
        if (to - from < 3 || !chance(flip))
            return;
        size_t at = std::uniform_int_distribution<size_t>(from + 1, to - 2)(rng);
        line[at] ^= static_cast<uint8_t>(1u << std::uniform_int_distribution<int>(0, 7)(rng));
        ++flipped_out;
    }

    // Line bytes from slirpd, before they are decoded: each frame (from one flag on) has
    // one bit flipped with the same chance, in one of its first 64 octets.
    void flip_incoming(std::span<uint8_t> bytes)
    {
        if (flip <= 0)
            return;
        for (uint8_t &b : bytes) {
            if (b == 0x7E) {
                if (!in_countdown_ && chance(flip)) {
                    in_countdown_ = true;
                    in_skip_ = std::uniform_int_distribution<int>(0, 63)(rng);
                }
                continue;
            }
            if (in_countdown_ && in_skip_-- == 0) {
                uint8_t f = static_cast<uint8_t>(b ^ (1u << std::uniform_int_distribution<int>(0, 7)(rng)));
                if (f == 0x7E)
                    f ^= 0x01;   // a flag made up in the middle would split the frame: one bit more
                b = f;
                in_countdown_ = false;
                ++flipped_in;
            }
        }
    }

private:
    bool in_countdown_ = false;
    int in_skip_ = 0;
};

} // namespace slirp_test
