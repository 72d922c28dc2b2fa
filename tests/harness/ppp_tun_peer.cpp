// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-ppp-peer PTY|fd:N TUN: the peer end of a PPP link for slirpd's integration tests,
// until the real pppd runs in the VM. It opens PTY (slirpd's --pty end), negotiates LCP and
// IPCP as pppd does by default (ppp_peer.hpp: ACCM 0, magic, PFC, ACFC; address and DNS
// 0.0.0.0), makes the tun device TUN in its network namespace, gives it the address it
// got, prints "up ADDRESS DNS", and then moves IPv4 packets between TUN and the link, so
// that the kernel's own stack in that namespace talks to slirpd.
//
// Options (after PTY TUN) impair the IP packets both ways, seeded so a run replays:
// --loss PCT, --dup PCT, --reorder PCT (a packet is held back and sent after the next
// one in its direction, or after 30 ms), --seed N. LCP and IPCP are never impaired. It
// prints "impaired lost N duplicated N reordered N" every 2 s while it does.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "line_io.hpp"
#include "ppp_peer.hpp"

namespace {

[[noreturn]] void die(const std::string &what)
{
    std::fprintf(stderr, "alopex-test-ppp-peer: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

int open_tun(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        die("/dev/net/tun");
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        die("TUNSETIFF");
    return fd;
}

void run(const std::vector<std::string> &argv)
{
    pid_t p = fork();
    if (p == 0) {
        std::vector<char *> a;
        for (const auto &s : argv)
            a.push_back(const_cast<char *>(s.c_str()));
        a.push_back(nullptr);
        execvp(a[0], a.data());
        _exit(127);
    }
    int st = 0;
    if (p < 0 || waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("ip");
}

std::string dotted(uint32_t a)
{
    in_addr x{htonl(a)};
    return inet_ntoa(x);
}

void write_all(int fd, slirp_test::Bytes &b)
{
    if (!slirp_test::write_all(fd, b))
        die("write to the pty");
}

using Clock = std::chrono::steady_clock;

struct Impairment {
    double loss = 0, dup = 0, reorder = 0;
    std::mt19937 rng{1};
    uint64_t lost = 0, duplicated = 0, reordered = 0;
    struct Direction {
        std::optional<slirp_test::Bytes> held;
        Clock::time_point since;
    };
    Direction to_slirpd, to_kernel;

    bool active() const { return loss > 0 || dup > 0 || reorder > 0; }
    bool chance(double pct) { return pct > 0 && std::uniform_real_distribution<double>(0, 100)(rng) < pct; }

    // The packets to deliver now, in order, for one arriving.
    std::vector<slirp_test::Bytes> pass(Direction &d, std::span<const uint8_t> p)
    {
        std::vector<slirp_test::Bytes> out;
        if (chance(loss)) {
            ++lost;
            return out;
        }
        slirp_test::Bytes b(p.begin(), p.end());
        if (!d.held && chance(reorder)) {
            ++reordered;
            d.held = std::move(b);
            d.since = Clock::now();
            return out;
        }
        out.push_back(b);
        if (chance(dup)) {
            ++duplicated;
            out.push_back(b);
        }
        if (d.held) {
            out.push_back(std::move(*d.held));
            d.held.reset();
        }
        return out;
    }
    std::vector<slirp_test::Bytes> due(Direction &d)
    {
        std::vector<slirp_test::Bytes> out;
        if (d.held && Clock::now() - d.since > std::chrono::milliseconds(30)) {
            out.push_back(std::move(*d.held));
            d.held.reset();
        }
        return out;
    }
};

double percent(const char *s)
{
    char *end = nullptr;
    double v = std::strtod(s, &end);
    if (!end || *end || v < 0 || v > 100) {
        std::fprintf(stderr, "alopex-test-ppp-peer: '%s' is not a percentage\n", s);
        std::exit(2);
    }
    return v;
}

Impairment parse_options(int argc, char **argv)
{
    Impairment imp;
    for (int i = 3; i + 1 < argc; i += 2) {
        std::string o = argv[i];
        if (o == "--loss")
            imp.loss = percent(argv[i + 1]);
        else if (o == "--dup")
            imp.dup = percent(argv[i + 1]);
        else if (o == "--reorder")
            imp.reorder = percent(argv[i + 1]);
        else if (o == "--seed")
            imp.rng.seed(static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10)));
        else {
            std::fprintf(stderr, "alopex-test-ppp-peer: unknown option %s\n", argv[i]);
            std::exit(2);
        }
    }
    return imp;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3 || argc % 2 == 0) {
        std::fprintf(stderr, "usage: alopex-test-ppp-peer PTY TUN [--loss PCT] [--dup PCT] [--reorder PCT] [--seed N]\n");
        return 2;
    }
    Impairment imp = parse_options(argc, argv);
    // "fd:N": a pty master the caller passed (when slirpd opens the slave itself).
    int line = std::strncmp(argv[1], "fd:", 3) == 0 ? std::atoi(argv[1] + 3)
                                                     : open(argv[1], O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (line < 0 || fcntl(line, F_SETFL, fcntl(line, F_GETFL) | O_NONBLOCK) < 0)
        die(argv[1]);
    slirp_test::make_raw(line);
    int tun = open_tun(argv[2]);
    slirp_test::Peer peer;
    peer.keep_frames = false;   // it runs for long: only the IP packets are kept, until written
    peer.start();
    bool announced = false;
    auto last_tick = Clock::now(), last_report = Clock::now();
    auto to_tun = [&](const slirp_test::Bytes &packet) {
        if (write(tun, packet.data(), packet.size()) < 0 && errno != EAGAIN)
            die("write to the tun");
    };
    for (;;) {
        for (auto &b : imp.due(imp.to_slirpd))
            peer.send_ip(b);
        write_all(line, peer.to_link);
        for (auto &packet : peer.ip)
            for (auto &b : imp.pass(imp.to_kernel, packet))
                to_tun(b);
        for (auto &b : imp.due(imp.to_kernel))
            to_tun(b);
        peer.ip.clear();
        if (imp.active() && Clock::now() - last_report > std::chrono::seconds(2)) {
            last_report = Clock::now();
            std::printf("impaired lost %llu duplicated %llu reordered %llu\n", (unsigned long long)imp.lost,
                        (unsigned long long)imp.duplicated, (unsigned long long)imp.reordered);
            std::fflush(stdout);
        }
        if (peer.ipcp_open && !announced) {
            std::string addr = dotted(peer.ipcp_client.address);
            run({"ip", "addr", "add", addr + "/32", "peer", "10.0.0.1", "dev", argv[2]});
            run({"ip", "link", "set", argv[2], "up"});
            std::printf("up %s %s\n", addr.c_str(), dotted(peer.ipcp_client.dns).c_str());
            std::fflush(stdout);
            announced = true;
        }
        pollfd fds[2] = {{line, POLLIN, 0}, {tun, POLLIN, 0}};
        bool holding = imp.to_slirpd.held || imp.to_kernel.held;
        if (poll(fds, 2, holding ? 10 : 200) < 0 && errno != EINTR)
            die("poll");
        // Everything there is, both ways, before the next poll (fast enough for the benchmarks).
        static uint8_t buf[65536];
        if (fds[0].revents & POLLIN) {
            // Up to a short read: a tty hands over 4 KiB at a time, and a read of an empty
            // one waits for the kernel's flush work (the next poll waits for it instead,
            // after this batch is handled).
            for (int i = 0; i < 64; ++i) {
                ssize_t n = read(line, buf, sizeof buf);
                if (n <= 0)
                    break;
                peer.input(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
                if (static_cast<size_t>(n) < sizeof buf)
                    break;
            }
        } else if (fds[0].revents & (POLLHUP | POLLERR)) {
            return 0;   // slirpd went away
        }
        if (fds[1].revents & POLLIN) {
            for (int i = 0; i < 64; ++i) {
                ssize_t n = read(tun, buf, sizeof buf);
                if (n <= 0)
                    break;
                if (peer.ipcp_open)
                    for (auto &b : imp.pass(imp.to_slirpd, std::span<const uint8_t>(buf, static_cast<size_t>(n))))
                        peer.send_ip(b);
            }
        }
        // pppd's restart timer, roughly: resend what is unanswered every second.
        if (Clock::now() - last_tick > std::chrono::seconds(1)) {
            last_tick = Clock::now();
            if (peer.lcp->timer_running())
                peer.lcp->timeout();
            if (peer.ipcp->timer_running())
                peer.ipcp->timeout();
        }
    }
}
