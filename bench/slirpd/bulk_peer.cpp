// SPDX-License-Identifier: GPL-2.0-or-later
// bench-bulk-peer PTY BYTES: a PPP peer that is not the bottleneck of slirpd's bulk
// benchmark. It negotiates as pppd does (tests/unit/slirpd/ppp_peer.hpp), then opens one
// TCP connection to 10.0.0.1:80 with slirpd's own TCP engine (as issue 12's client mode
// will) and reads BYTES from it, everything in one process on one loop: no tun device,
// no kernel TCP, no second process. Prints "bulk BYTES SECONDS" (from the SYN to the last
// byte) and its own CPU seconds.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ipv4.hpp"
#include "line_io.hpp"
#include "ppp_peer.hpp"
#include "tcp.hpp"
#include "transport.hpp"

namespace st = alopex::slirp::stack;

namespace {

uint64_t now_us()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

[[noreturn]] void die(const char *what)
{
    std::fprintf(stderr, "bench-bulk-peer: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

struct Sink : st::tcp::Events {
    st::tcp::Connection *c = nullptr;
    uint64_t got = 0, *now = nullptr;
    bool done = false;
    void readable() override
    {
        auto r = c->received();
        got += r.size();
        c->consume(r.size(), *now);
    }
    void peer_closed() override { done = true; }
    void closed(st::tcp::CloseReason) override { done = true; }
};

void write_all(int fd, slirp_test::Bytes &b)
{
    if (!slirp_test::write_all(fd, b))
        die("write to the pty");
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: bench-bulk-peer PTY BYTES\n");
        return 2;
    }
    uint64_t want = std::strtoull(argv[2], nullptr, 10);
    int line = open(argv[1], O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (line < 0)
        die(argv[1]);
    slirp_test::make_raw(line);
    slirp_test::Peer peer;
    peer.keep_frames = false;
    peer.start();
    static uint8_t buf[65536];
    uint64_t tick = now_us();
    while (!peer.ipcp_open) {   // LCP and IPCP as pppd would
        write_all(line, peer.to_link);
        pollfd p{line, POLLIN, 0};
        poll(&p, 1, 100);
        ssize_t n = read(line, buf, sizeof buf);
        if (n > 0)
            peer.input(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
        if (now_us() - tick > 1'000'000) {
            tick = now_us();
            if (peer.lcp->timer_running())
                peer.lcp->timeout();
            if (peer.ipcp->timer_running())
                peer.ipcp->timeout();
        }
    }
    write_all(line, peer.to_link);
    uint32_t us = peer.ipcp_client.address, them = 0x0A000001;
    uint64_t now = now_us();
    st::tcp::Config cfg;
    cfg.receive_buffer = 1 << 20;
    std::vector<uint8_t> seg, pkt;
    st::tcp::Connection conn(cfg, 40000, 80, 12345, [&](const st::Tcp &h, std::span<const uint8_t> payload) {
        seg.clear();
        pkt.clear();
        st::build_tcp(seg, us, them, h, payload);
        st::build_ipv4(pkt, {.protocol = st::proto_tcp, .src = us, .dst = them}, seg);
        peer.send_ip(pkt);
    });
    Sink sink;
    sink.c = &conn;
    sink.now = &now;
    conn.set_events(&sink);
    rusage r0{};
    getrusage(RUSAGE_SELF, &r0);
    uint64_t t0 = now;
    conn.connect(now);
    while (!sink.done && sink.got < want) {
        write_all(line, peer.to_link);
        uint64_t next = conn.next_deadline();
        int timeout = next == UINT64_MAX ? 100 : static_cast<int>(std::min<uint64_t>((next - std::min(next, now)) / 1000 + 1, 100));
        pollfd p{line, POLLIN, 0};
        poll(&p, 1, timeout);
        // Up to a short read, not to EAGAIN: a tty hands over 4 KiB at a time, and a read
        // of an empty one waits for the kernel's flush work. The next poll waits for that
        // instead, once this batch is handled and acknowledged.
        for (int i = 0; i < 64; ++i) {
            ssize_t n = read(line, buf, sizeof buf);
            if (n <= 0)
                break;
            peer.input(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
            if (static_cast<size_t>(n) < sizeof buf)
                break;
        }
        now = now_us();
        for (auto &packet : peer.ip) {
            auto ip = st::parse_ipv4(packet);
            if (!ip || ip->protocol != st::proto_tcp)
                continue;
            auto tcp = st::parse_tcp(*ip);
            if (tcp && tcp->dst_port == 40000)
                conn.input(*tcp, now);
        }
        peer.ip.clear();
        if (conn.next_deadline() <= now)
            conn.advance(now);
    }
    double secs = static_cast<double>(now_us() - t0) / 1e6;
    rusage r1{};
    getrusage(RUSAGE_SELF, &r1);
    auto cpu = [](const rusage &r) {
        return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
               static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
    };
    std::printf("bulk %llu %.6f cpu %.3f\n", static_cast<unsigned long long>(sink.got), secs, cpu(r1) - cpu(r0));
    conn.set_events(nullptr);
    return sink.got >= want ? 0 : 1;
}
