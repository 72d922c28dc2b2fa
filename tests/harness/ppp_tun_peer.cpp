// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-ppp-peer PTY TUN: the peer end of a PPP link for slirpd's integration tests,
// until the real pppd runs in the VM. It opens PTY (slirpd's --pty end), negotiates LCP and
// IPCP as pppd does by default (ppp_peer.hpp: ACCM 0, magic, PFC, ACFC; address and DNS
// 0.0.0.0), makes the tun device TUN in its network namespace, gives it the address it
// got, prints "up ADDRESS DNS", and then moves IPv4 packets between TUN and the link, so
// that the kernel's own stack in that namespace talks to slirpd.
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
#include <string>

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
    size_t done = 0;
    while (done < b.size()) {
        ssize_t n = write(fd, b.data() + done, b.size() - done);
        if (n > 0) {
            done += static_cast<size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            pollfd p{fd, POLLOUT, 0};
            poll(&p, 1, 100);
        } else {
            die("write to the pty");
        }
    }
    b.clear();
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: alopex-test-ppp-peer PTY TUN\n");
        return 2;
    }
    int line = open(argv[1], O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (line < 0)
        die(argv[1]);
    termios t{};
    if (tcgetattr(line, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(line, TCSANOW, &t);
    }
    int tun = open_tun(argv[2]);
    slirp_test::Peer peer;
    peer.start();
    bool announced = false;
    auto last_tick = std::chrono::steady_clock::now();
    for (;;) {
        write_all(line, peer.to_link);
        for (auto &packet : peer.ip)
            if (write(tun, packet.data(), packet.size()) < 0 && errno != EAGAIN)
                die("write to the tun");
        peer.ip.clear();
        if (peer.ipcp_open && !announced) {
            std::string addr = dotted(peer.ipcp_client.address);
            run({"ip", "addr", "add", addr + "/32", "peer", "10.0.0.1", "dev", argv[2]});
            run({"ip", "link", "set", argv[2], "up"});
            std::printf("up %s %s\n", addr.c_str(), dotted(peer.ipcp_client.dns).c_str());
            std::fflush(stdout);
            announced = true;
        }
        pollfd fds[2] = {{line, POLLIN, 0}, {tun, POLLIN, 0}};
        if (poll(fds, 2, 200) < 0 && errno != EINTR)
            die("poll");
        uint8_t buf[4096];
        if (fds[0].revents & POLLIN) {
            ssize_t n = read(line, buf, sizeof buf);
            if (n > 0)
                peer.input(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
        } else if (fds[0].revents & (POLLHUP | POLLERR)) {
            return 0;   // slirpd went away
        }
        if (fds[1].revents & POLLIN) {
            ssize_t n = read(tun, buf, sizeof buf);
            if (n > 0 && peer.ipcp_open)
                peer.send_ip(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
        }
        // pppd's restart timer, roughly: resend what is unanswered every second.
        if (std::chrono::steady_clock::now() - last_tick > std::chrono::seconds(1)) {
            last_tick = std::chrono::steady_clock::now();
            if (peer.lcp->timer_running())
                peer.lcp->timeout();
            if (peer.ipcp->timer_running())
                peer.ipcp->timeout();
        }
    }
}
