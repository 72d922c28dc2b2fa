// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-tcp: slirpd's whole stack with TCP listeners, fed what a peer may send and
// driven by a host side that accepts, refuses, writes, reads, closes and aborts, on a
// virtual clock. The input is a list of steps, an octet `op` each (op & 7):
//   0  a TCP segment to 10.0.0.1 built from the next octets (source port, destination,
//      flags, seq, ack, window, options, payload length), checksums right so that it gets
//      in; with options bit 4 the ACK is relative: the end of what slirpd last sent to
//      that port plus a signed 16-bit offset (so handshakes can complete); with bit 5,
//      up to four SACK blocks near that end (anywhere with bit 6);
//   1  the clock advances (op >> 3) * 20 ms;     2  every connection writes (op >> 3) * 200 bytes;
//   3  every connection's received data is read;  4  every connection shuts down;
//   5  connection (op >> 3) is aborted;           6  a raw packet (length octet, bytes);
//   7  every pending SYN is accepted (op & 8) or refused.
// Whatever slirpd sends must be a valid IPv4 packet to the peer carrying valid TCP or
// ICMP; connections and their memory stay within the configured bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "fuzz_input.hpp"
#include "ipv4.hpp"
#include "stack.hpp"
#include "tcp.hpp"
#include "transport.hpp"

using namespace alopex::slirp::stack;

namespace {

constexpr uint32_t peer = 0x0A000002, us = 0x0A000001;

struct App : tcp::Events {
    tcp::Connection *c;
    bool dead = false;
    explicit App(tcp::Connection *conn) : c(conn) {}
    void closed(tcp::CloseReason) override { dead = true; }
};

std::vector<uint8_t> segment(alopex::fuzz::Input &in, const std::map<uint16_t, uint32_t> &sent_end)
{
    Tcp t;
    t.src_port = static_cast<uint16_t>(40000 + in.byte() % 8);
    t.dst_port = in.byte() & 1 ? 22 : 80;
    t.flags = in.byte();
    t.seq = static_cast<uint32_t>(in.number());
    t.ack = static_cast<uint32_t>(in.number());
    t.window = static_cast<uint16_t>(in.byte() << 8 | in.byte());
    uint8_t opts = in.byte();
    if (opts & 16) {
        auto it = sent_end.find(t.src_port);
        t.ack = (it == sent_end.end() ? 0 : it->second) + static_cast<uint32_t>(static_cast<int16_t>(t.ack));
    }
    if (opts & 1)
        t.options.mss = static_cast<uint16_t>(in.byte() << 8 | in.byte());
    if (opts & 2)
        t.options.window_scale = in.byte();
    t.options.sack_permitted = opts & 4;
    if (opts & 8)
        t.options.timestamps = {{1, 2}};
    if (opts & 32) {
        // SACK blocks near what slirpd sent on that port (or anywhere, with bit 64).
        auto it = sent_end.find(t.src_port);
        uint32_t base = opts & 64 ? static_cast<uint32_t>(in.number()) : (it == sent_end.end() ? 0 : it->second);
        t.options.sack_blocks = in.byte() % 5;
        for (uint8_t b = 0; b < t.options.sack_blocks; ++b) {
            uint32_t start = base + static_cast<uint32_t>(static_cast<int16_t>(in.byte() << 8 | in.byte()));
            t.options.sack[b] = {start, start + static_cast<uint32_t>(static_cast<int8_t>(in.byte())) * 64u};
        }
    }
    std::vector<uint8_t> payload(in.byte() * 8u, 'x');
    std::vector<uint8_t> seg, out;
    build_tcp(seg, peer, us, t, payload);
    build_ipv4(out, {.protocol = proto_tcp, .src = peer, .dst = us}, seg);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    alopex::fuzz::Input in{data, size};
    StackConfig config;
    config.limits.max_connections = 6;
    config.limits.max_per_port = 4;
    config.tcp.receive_buffer = config.tcp.send_buffer = 8192;
    uint64_t now = 1'000'000;
    std::map<uint16_t, uint32_t> sent_end;   // by the peer's port
    Stack stack(config, [&](std::span<const uint8_t> out) {
        auto ip = parse_ipv4(out);
        if (!ip || ip->dst != peer || out.size() > config.mtu)
            std::abort();
        if (ip->protocol == proto_tcp) {
            auto t = parse_tcp(*ip);
            if (!t)
                std::abort();
            for (uint8_t b = 0; b < t->options.sack_blocks; ++b)
                if (!tcp::lt(t->options.sack[b].start, t->options.sack[b].end))
                    std::abort();   // our own blocks are never empty or reversed
            sent_end[t->dst_port] = t->seq + static_cast<uint32_t>(t->payload.size()) +
                                    ((t->flags & tcp_flag::syn) ? 1 : 0) + ((t->flags & tcp_flag::fin) ? 1 : 0);
        } else if (ip->protocol != proto_icmp || !parse_icmp(ip->payload).has_value()) {
            std::abort();
        }
    });
    // The host side hears of every connection at once (a RST may end one still pending).
    std::vector<std::unique_ptr<App>> apps;
    std::vector<App *> pending;
    auto acceptor = [&](tcp::Connection &c, const TcpKey &) {
        apps.push_back(std::make_unique<App>(&c));
        c.set_events(apps.back().get());
        pending.push_back(apps.back().get());
    };
    stack.listen_tcp(alopex::net::Address::v4(us), 22, acceptor);
    stack.listen_tcp(alopex::net::Address::v4(us), 80, acceptor);
    std::vector<uint8_t> junk(2000, 'y');
    while (in.n) {
        uint8_t op = in.byte();
        std::erase_if(pending, [](App *a) { return a->dead; });
        std::erase_if(apps, [](const auto &a) { return a->dead; });
        switch (op & 7) {
        case 0: stack.input(segment(in, sent_end), now); break;
        case 1:
            now += (op >> 3) * 20'000u;
            stack.advance(now);
            break;
        case 2:
            for (auto &a : apps)
                if (!a->dead)
                    a->c->write(std::span(junk).first((op >> 3) * 60u), now);
            break;
        case 3:
            for (auto &a : apps)
                if (!a->dead)
                    a->c->consume(a->c->received().size(), now);
            break;
        case 4:
            for (auto &a : apps)
                if (!a->dead)
                    a->c->shutdown(now);
            break;
        case 5:
            if (size_t i = op >> 3; i < apps.size() && !apps[i]->dead) {
                apps[i]->c->abort();
                apps[i]->dead = true;
            }
            break;
        case 6: {
            size_t n = std::min<size_t>(in.byte(), in.n);
            stack.input(std::span<const uint8_t>(in.p, n), now);
            in.p += n, in.n -= n;
            break;
        }
        case 7:
            for (App *a : pending) {
                if (op & 8) {
                    a->c->accept(now);
                } else {
                    a->c->refuse();
                    a->dead = true;
                }
            }
            pending.clear();
            break;
        }
        if (stack.tcp_connections() > config.limits.max_connections)
            std::abort();
        size_t memory = 0;
        stack.each_tcp([&](const TcpKey &, uint64_t, const tcp::Connection &c) { memory += c.memory(); });
        if (memory > config.limits.max_connections * (3 * (8192 + 16384) + 2 * 8192))
            std::abort();
    }
    for (auto &a : apps)
        if (!a->dead)   // a dead one's connection may be freed already
            a->c->set_events(nullptr);
    return 0;
}
