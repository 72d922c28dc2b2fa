// SPDX-License-Identifier: GPL-2.0-or-later
// Two of slirpd's TCP engines, one opened actively and one passively, moving a megabyte
// each way over a virtual network that loses, duplicates, reorders and delays segments
// (seeded, so a failure replays), then closing. Every byte must arrive once and in
// order, both ends must close in order, and the buffers must stay within their bounds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <map>
#include <random>

#include "tcp_rig.hpp"

using namespace tcp_rig;

namespace {

struct Net {
    double loss = 0, dup = 0;
    uint64_t delay = 5'000, jitter = 0;
    std::mt19937 rng;
    struct Packet {
        int to;
        Tcp h;
        Bytes data;
    };
    std::multimap<uint64_t, Packet> in_flight;
    uint64_t delivered = 0, lost = 0;

    void send(int to, const Tcp &h, std::span<const uint8_t> d, uint64_t now)
    {
        std::uniform_real_distribution<double> u(0, 1);
        if (u(rng) < loss) {
            ++lost;
            return;
        }
        int copies = u(rng) < dup ? 2 : 1;
        for (int i = 0; i < copies; ++i) {
            uint64_t j = jitter ? std::uniform_int_distribution<uint64_t>(0, jitter)(rng) : 0;
            in_flight.emplace(now + delay + j, Packet{to, h, Bytes(d.begin(), d.end())});
        }
    }
};

struct End : tcp::Events {
    Bytes to_send, got;
    size_t sent = 0;
    bool closed_ = false, shut = false;
    tcp::CloseReason reason{};
    tcp::Connection *c = nullptr;
    uint64_t *now = nullptr;
    size_t max_memory = 0;
    uint64_t done_at = 0;   // when the peer's stream was all here

    void pump()
    {
        if (closed_)
            return;
        while (sent < to_send.size()) {
            size_t n = c->write(std::span(to_send).subspan(sent), *now);
            if (closed_ || n == 0)
                break;
            sent += n;
        }
        if (!closed_ && sent == to_send.size() && !shut) {
            shut = true;
            c->shutdown(*now);
        }
    }
    void drain()
    {
        while (!closed_ && !c->received().empty()) {
            auto r = c->received();
            got.insert(got.end(), r.begin(), r.end());
            max_memory = std::max(max_memory, c->memory());
            c->consume(r.size(), *now);
        }
        if (c->peer_finished() && !done_at)
            done_at = *now;
    }
    void established() override { pump(); }
    void writable() override { pump(); }
    void readable() override { drain(); }
    void closed(tcp::CloseReason r) override
    {
        closed_ = true;
        reason = r;
    }
};

struct Pair {
    Net net;
    uint64_t now = 1'000'000;
    End a, b;
    tcp::Connection ca, cb;

    Pair(tcp::Config cfg, uint32_t seed)
        : ca(cfg, 1000, 2000, 0xfffff000u, [this](const Tcp &h, auto d) { net.send(1, h, d, now); }),
          cb(cfg, 2000, 1000, 77, [this](const Tcp &h, auto d) { net.send(0, h, d, now); })
    {
        net.rng.seed(seed);
        a.c = &ca, b.c = &cb;
        a.now = b.now = &now;
        ca.set_events(&a);
        cb.set_events(&b);
    }

    bool trace = getenv("TCP_TRACE") != nullptr;
    void deliver(const Net::Packet &p)
    {
        Tcp h = p.h;
        if (trace)
            fprintf(stderr, "%llu ->%d seq %u ack %u fl %02x len %zu win %u | a %s una? b %s\n",
                    (unsigned long long)now, p.to, h.seq, h.ack, h.flags, p.data.size(), h.window,
                    std::string(to_string(ca.state())).c_str(), std::string(to_string(cb.state())).c_str());
        h.payload = p.data;
        if (p.to == 1) {
            if (cb.state() == tcp::State::Closed && !b.closed_ && (h.flags & tcp_flag::syn) && !(h.flags & tcp_flag::ack)) {
                cb.syn_arrived(h, now);
                cb.accept(now);   // the host side connected at once
            } else {
                cb.input(h, now);
            }
        } else {
            ca.input(h, now);
        }
    }

    // Runs the network and the timers until both ends are finished (or the time limit).
    void run(uint64_t limit)
    {
        ca.connect(now);
        while (now < limit && !(ca.finished() && cb.finished())) {
            uint64_t next = std::min(ca.next_deadline(), cb.next_deadline());
            if (!net.in_flight.empty())
                next = std::min(next, net.in_flight.begin()->first);
            if (next == UINT64_MAX)
                break;
            now = std::max(now, next);
            if (!net.in_flight.empty() && net.in_flight.begin()->first <= now) {
                auto p = net.in_flight.begin()->second;
                net.in_flight.erase(net.in_flight.begin());
                deliver(p);
                continue;
            }
            if (ca.next_deadline() <= now)
                ca.advance(now);
            if (cb.next_deadline() <= now)
                cb.advance(now);
        }
    }
};

size_t first_difference(const Bytes &a, const Bytes &b)   // SIZE_MAX: equal
{
    if (a == b)
        return SIZE_MAX;
    auto m = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    return static_cast<size_t>(m.first - a.begin());
}

void transfer(tcp::Config cfg, double loss, double dup, uint64_t jitter, uint32_t seed, size_t bytes)
{
    Pair p(cfg, seed);
    p.net.loss = loss;
    p.net.dup = dup;
    p.net.jitter = jitter;
    p.a.to_send = pattern(bytes, 1);
    p.b.to_send = pattern(bytes / 2, 2);
    p.run(p.now + 3600'000'000ull);
    INFO("seed " << seed << " lost " << p.net.lost << " states " << to_string(p.ca.state()) << "/"
                 << to_string(p.cb.state()));
    if (getenv("TCP_PAIR_TIME"))
        fprintf(stderr, "seed %u%s: data in %.3f s virtual; a: rexmit %llu fast %llu timeouts %llu; b: %llu %llu %llu\n",
                seed, cfg.sack ? " sack" : "", (p.b.done_at - 1e6) / 1e6, (unsigned long long)p.ca.stats().retransmits,
                (unsigned long long)p.ca.stats().fast_retransmits, (unsigned long long)p.ca.stats().timeouts,
                (unsigned long long)p.cb.stats().retransmits, (unsigned long long)p.cb.stats().fast_retransmits,
                (unsigned long long)p.cb.stats().timeouts);
    CHECK(p.b.got.size() == p.a.to_send.size());
    CHECK(p.a.got.size() == p.b.to_send.size());
    CHECK(first_difference(p.b.got, p.a.to_send) == SIZE_MAX);
    CHECK(first_difference(p.a.got, p.b.to_send) == SIZE_MAX);
    CHECK(p.a.reason == tcp::CloseReason::Done);
    CHECK(p.b.reason == tcp::CloseReason::Done);
    CHECK(p.ca.finished());
    CHECK(p.cb.finished());
    // The documented bound: buffers' storage at most twice their limits, out-of-order
    // data within the window.
    size_t bound = 3 * (cfg.receive_buffer + (1u << 14)) + 2 * cfg.send_buffer;
    CHECK(p.a.max_memory <= bound);
    CHECK(p.b.max_memory <= bound);
    CHECK(p.a.max_memory > 0);
}

} // namespace

TEST_CASE("tcp pair: a clean network moves both streams and closes", "[slirp][tcp]")
{
    transfer({}, 0, 0, 0, 1, 1 << 20);
}

TEST_CASE("tcp pair: 5 % loss, duplicates and reordering, several seeds", "[slirp][tcp]")
{
    // TCP_PAIR_SEEDS=N runs N seeds (a longer search), SACK and NewReno each.
    uint32_t seeds = getenv("TCP_PAIR_SEEDS") ? static_cast<uint32_t>(std::atoi(getenv("TCP_PAIR_SEEDS"))) : 6;
    tcp::Config newreno;
    newreno.sack = false;
    for (uint32_t seed = 1; seed <= seeds; ++seed) {
        transfer({}, 0.05, 0.02, 8'000, seed, 1 << 20);
        transfer(newreno, 0.05, 0.02, 8'000, seed, 1 << 20);
    }
}

TEST_CASE("tcp pair: small buffers (zero windows all the time) and 20 % loss", "[slirp][tcp]")
{
    tcp::Config cfg;
    cfg.receive_buffer = 3000;
    cfg.send_buffer = 2000;
    cfg.mss = 536;
    uint32_t seeds = getenv("TCP_PAIR_SEEDS") ? static_cast<uint32_t>(std::atoi(getenv("TCP_PAIR_SEEDS"))) : 3;
    for (uint32_t seed = 1; seed <= seeds; ++seed) {
        cfg.sack = seed % 3 != 2;
        transfer(cfg, 0.2, 0.05, 20'000, seed, 100'000);
    }
}
TEST_CASE("tcp pair: with SACK, 1 MiB through 5 % loss arrives sooner and with fewer timeouts", "[slirp][tcp]")
{
    // The same seeded networks, SACK against NewReno: the virtual time until the stream
    // is all there, and the sender's timeouts, over 20 seeds (LOSS= and JITTER= µs to try
    // others; TCP_PAIR_TIME=1 prints the sums).
    double loss = getenv("LOSS") ? std::atof(getenv("LOSS")) : 0.05;
    uint64_t jitter = getenv("JITTER") ? std::strtoull(getenv("JITTER"), nullptr, 10) : 0;
    tcp::Config newreno;
    newreno.sack = false;
    double secs[2] = {0, 0};
    uint64_t timeouts[2] = {0, 0};
    for (int v = 0; v < 2; ++v) {
        for (uint32_t seed = 1; seed <= 20; ++seed) {
            Pair p(v == 0 ? tcp::Config{} : newreno, seed);
            p.net.loss = loss;
            p.net.jitter = jitter;
            p.a.to_send = pattern(1 << 20, 1);
            p.run(p.now + 3600'000'000ull);
            REQUIRE(p.b.got == p.a.to_send);
            secs[v] += static_cast<double>(p.b.done_at - 1'000'000) / 1e6;
            timeouts[v] += p.ca.stats().timeouts;
        }
    }
    if (getenv("TCP_PAIR_TIME"))
        fprintf(stderr, "SACK %.2f s, %llu timeouts; NewReno %.2f s, %llu timeouts\n", secs[0],
                (unsigned long long)timeouts[0], secs[1], (unsigned long long)timeouts[1]);
    CHECK(secs[0] < 0.75 * secs[1]);
    CHECK(timeouts[0] < timeouts[1] / 2);
}
