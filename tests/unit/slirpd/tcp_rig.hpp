// SPDX-License-Identifier: GPL-2.0-or-later
// Test rig for slirpd's TCP engine: one Connection whose segments are captured, a
// scripted peer's segments fed in, and the application's events recorded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tcp.hpp"

namespace tcp_rig {

using namespace alopex::slirp::stack;
using Bytes = std::vector<uint8_t>;

// A segment's header fields (no options, a window of 65535) for tests that build packets.
inline Tcp header(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
    Tcp t;
    t.src_port = sport;
    t.dst_port = dport;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.window = 65535;
    return t;
}

struct Sent {
    Tcp h;
    Bytes data;
    bool has(uint8_t f) const { return (h.flags & f) == f; }
};

struct App : tcp::Events {
    std::vector<std::string> events;
    tcp::CloseReason reason{};
    bool is_closed = false;
    void established() override { events.push_back("established"); }
    void readable() override { events.push_back("readable"); }
    void writable() override { events.push_back("writable"); }
    void peer_closed() override { events.push_back("peer_closed"); }
    void closed(tcp::CloseReason r) override
    {
        events.push_back("closed");
        reason = r;
        is_closed = true;
    }
    bool saw(const std::string &e) const
    {
        for (const auto &x : events)
            if (x == e)
                return true;
        return false;
    }
};

inline Bytes pattern(size_t n, unsigned seed = 0)
{
    Bytes b(n);
    for (size_t i = 0; i < n; ++i)
        b[i] = static_cast<uint8_t>((i * 7 + seed + i / 251) & 0xff);
    return b;
}

struct Rig {
    std::vector<Sent> out;
    App app;
    uint64_t now = 1'000'000;
    tcp::Connection c;
    static constexpr uint32_t iss = 1000, peer_iss = 5000;

    explicit Rig(tcp::Config cfg = {})
        : c(cfg, 22, 40000, iss, [this](const Tcp &h, std::span<const uint8_t> d) {
              out.push_back({h, Bytes(d.begin(), d.end())});
          })
    {
        c.set_events(&app);
    }

    Tcp seg(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window = 65535) const
    {
        Tcp t;
        t.src_port = 40000;
        t.dst_port = 22;
        t.seq = seq;
        t.ack = ack;
        t.flags = flags;
        t.window = window;
        return t;
    }
    void feed(Tcp t, const Bytes &data = {})
    {
        t.payload = data;
        c.input(t, now);
    }
    void at(uint64_t t)
    {
        now = t;
        c.advance(now);
    }
    void run_until(uint64_t t)   // every timer up to t, in order
    {
        while (c.next_deadline() <= t) {
            now = c.next_deadline();
            c.advance(now);
        }
        now = t;
    }

    // A passive open completed: SYN (MSS 1460, WS 7, SACK-permitted if `sack`), SYN-ACK, ACK.
    // Peer's next seq is peer_iss + 1.
    void open(uint16_t peer_window = 65535, bool ws = true, bool sack = false)
    {
        Tcp syn = seg(tcp_flag::syn, peer_iss, 0, 65535);
        syn.options.mss = 1460;
        syn.options.sack_permitted = sack;
        if (ws)
            syn.options.window_scale = 7;
        c.syn_arrived(syn, now);
        c.accept(now);
        now += 10'000;   // the handshake's RTT: 10 ms
        feed(seg(tcp_flag::ack, peer_iss + 1, iss + 1, peer_window));
        out.clear();
        app.events.clear();
    }
    Bytes received()
    {
        auto r = c.received();
        Bytes b(r.begin(), r.end());
        c.consume(b.size(), now);
        return b;
    }
};

} // namespace tcp_rig
