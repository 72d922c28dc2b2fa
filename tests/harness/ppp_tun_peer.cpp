// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-ppp-peer PTY|fd:N TUN: the peer end of a PPP link for slirpd's integration tests,
// until the real pppd runs in the VM. It opens PTY (slirpd's --pty end), negotiates LCP and
// IPCP as pppd does by default (ppp_peer.hpp: ACCM 0, magic, PFC, ACFC; address and DNS
// 0.0.0.0), makes the tun device TUN in its network namespace, gives it the address it
// got, prints "up ADDRESS DNS", and then moves IPv4 packets between TUN and the link, so
// that the kernel's own stack in that namespace talks to slirpd.
//
// Options (after PTY TUN), seeded so a run replays (tests/harness/impairment.hpp): on the
// IP packets each way --loss PCT, --dup PCT, --reorder PCT (held back until the next one
// in its direction, or 30 ms), --delay MS; --flip PCT, a bit flipped in that share of the
// frames each way (the FCS must catch it); --rate BPS, the line paced to BPS bits per
// second each way (10 bits an octet, as 8N1, each there once its bits were sent, as a
// UART's); --pcap FILE, every IP packet crossing the
// link written to FILE; --ipv6 on, IPV6CP as pppd's +ipv6 (fe80:: addresses on TUN,
// "ipv6 up OURS SLIRPD" printed); --vj off, as pppd's novj (no VJ either way); --deflate on, CCP
// with Deflate as pppd with the kernel's ppp_deflate (ccp_peer.hpp; otherwise pppd's
// CCP request goes once and is left unanswered or Protocol-Rejected); --seed N. LCP and
// IPCP are never impaired. It prints
// "negotiated ..." with what pppd's other requests got (VJ, the second DNS server, CCP),
// and "impaired lost N duplicated N reordered N flipped OUT/IN fcs-errors N vj-in N
// vj-out N vj-errors N" every 2 s while it impairs. VJ is used both ways when slirpd
// agrees, as pppd's kernel (slhc) would.
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
#include <string_view>
#include <vector>

#include "impairment.hpp"
#include "line_io.hpp"
#include "pcap_writer.hpp"
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

using Clock = std::chrono::steady_clock;
using slirp_test::Impairment;

// The line's pace one way, as a UART's: an octet is there at the far end once its 10
// bits have been sent, so octets that come to an idle line start with no credit (the
// first is there 1/rate after it came) and then pass at the rate; a token bucket 10 ms
// deep while the line is busy (a late wakeup catches up). Unpaced when rate is 0.
struct Pacer {
    // Octets came to the idle line: they take their time from now.
    void start(Clock::time_point now)
    {
        tokens = 0;
        last = now;
    }
    double octets_per_s = 0, tokens = 0;
    Clock::time_point last = Clock::now();

    double available(Clock::time_point now) const
    {
        double depth = std::max(16.0, octets_per_s / 100);
        return std::min(depth, tokens + std::chrono::duration<double>(now - last).count() * octets_per_s);
    }
    size_t allow(Clock::time_point now, size_t want)
    {
        if (octets_per_s <= 0)
            return want;
        tokens = available(now);
        last = now;
        return std::min(want, static_cast<size_t>(tokens));
    }
    void spend(size_t n) { tokens -= static_cast<double>(n); }
    // How long until an octet may pass (0: now, or the line is unpaced).
    int wait_ms(Clock::time_point now) const
    {
        double have = octets_per_s <= 0 ? 1 : available(now);
        return have >= 1 ? 0 : static_cast<int>((1 - have) * 1000 / octets_per_s) + 1;
    }
};

struct Options {
    Impairment imp;
    bool vj = true;
    bool deflate = false;
    bool ipv6 = false;
    double rate_bps = 0;
    std::string pcap;
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

Options parse_options(int argc, char **argv)
{
    Options o;
    for (int i = 3; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        const char *v = argv[i + 1];
        if (k == "--loss")
            o.imp.loss = percent(v);
        else if (k == "--dup")
            o.imp.dup = percent(v);
        else if (k == "--reorder")
            o.imp.reorder = percent(v);
        else if (k == "--flip")
            o.imp.flip = percent(v);
        else if (k == "--delay")
            o.imp.delay = std::chrono::milliseconds(std::strtoul(v, nullptr, 10));
        else if (k == "--rate")
            o.rate_bps = std::strtod(v, nullptr);
        else if (k == "--pcap")
            o.pcap = v;
        else if (k == "--vj")
            o.vj = std::string_view(v) != "off";
        else if (k == "--deflate")
            o.deflate = std::string_view(v) == "on";
        else if (k == "--ipv6")
            o.ipv6 = std::string(v) == "on";
        else if (k == "--seed")
            o.imp.rng.seed(static_cast<unsigned>(std::strtoul(v, nullptr, 10)));
        else {
            std::fprintf(stderr, "alopex-test-ppp-peer: unknown option %s\n", argv[i]);
            std::exit(2);
        }
    }
    return o;
}

// One link: the pty, the tun, the PPP peer and what impairs, paces and records it.
struct TunPeer {
    int line = -1, tun = -1;
    std::string tun_name;
    slirp_test::Peer peer;
    Options opt;
    Pacer out, in;
    bool in_idle = true;   // the last read emptied the pty: the next octets start afresh
    slirp_test::PcapWriter pcap;
    bool announced = false, ccp_announced = false, ipv6_announced = false;
    Clock::time_point last_tick = Clock::now(), last_report = Clock::now();

    // IP packets due for slirpd go onto the line (paced), those from slirpd to the kernel.
    void move_packets(Clock::time_point now)
    {
        if (peer.to_link.empty())
            out.start(now);   // whatever comes now starts on an idle line
        for (auto &b : opt.imp.due(opt.imp.to_slirpd, now)) {
            pcap.packet(b);
            size_t from = peer.to_link.size();
            peer.send_ip(b);
            opt.imp.flip_frame(peer.to_link, from, peer.to_link.size());
        }
        size_t n = out.allow(now, peer.to_link.size());
        if (n > 0) {
            ssize_t w = write(line, peer.to_link.data(), n);
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                die("write to the pty");
            if (w > 0) {
                out.spend(static_cast<size_t>(w));
                peer.to_link.erase(peer.to_link.begin(), peer.to_link.begin() + w);
            }
        }
        for (auto &packet : peer.ip) {
            pcap.packet(packet);
            opt.imp.pass(opt.imp.to_kernel, packet, now);
        }
        peer.ip.clear();
        for (auto &b : opt.imp.due(opt.imp.to_kernel, now))
            if (write(tun, b.data(), b.size()) < 0 && errno != EAGAIN)
                die("write to the tun");
    }

    // The impairment and Deflate counts, now: every 2 s while it impairs, and once more
    // when slirpd goes (so that a test sees the final ones).
    void print_counts() const
    {
        const auto &i = opt.imp;
        std::printf("impaired lost %llu duplicated %llu reordered %llu flipped %llu/%llu fcs-errors %llu "
                    "vj-in %llu vj-out %llu vj-errors %llu\n",
                    (unsigned long long)i.lost, (unsigned long long)i.duplicated, (unsigned long long)i.reordered,
                    (unsigned long long)i.flipped_out, (unsigned long long)i.flipped_in,
                    (unsigned long long)peer.decoder.stats().fcs_errors, (unsigned long long)peer.vj_compressed_in,
                    (unsigned long long)peer.vj_compressed_out, (unsigned long long)peer.vj_errors);
        if (peer.ccp)
            std::printf("deflate in %llu out %llu errors %llu resets-sent %llu resets-received %llu\n",
                        (unsigned long long)peer.ccp->compressed_in, (unsigned long long)peer.ccp->compressed_out,
                        (unsigned long long)peer.ccp->errors, (unsigned long long)peer.ccp->resets_sent,
                        (unsigned long long)peer.ccp->resets_received);
        std::fflush(stdout);
    }

    void report(Clock::time_point now)
    {
        if (peer.ccp && peer.ccp->up && !ccp_announced) {
            std::printf("ccp up: deflate to slirpd %s, from slirpd %s\n", peer.ccp->comp_live ? "yes" : "no",
                        peer.ccp->decomp_live ? "yes" : "no");
            std::fflush(stdout);
            ccp_announced = true;
        }
        if ((opt.imp.active() || peer.ccp) && now - last_report > std::chrono::seconds(2)) {
            last_report = now;
            print_counts();
        }
        if (peer.ipv6cp_open && !ipv6_announced) {   // fe80::ID on the tun, as pppd's kernel side
            auto text = [](uint64_t id) {
                char b[64];
                std::snprintf(b, sizeof b, "fe80::%x:%x:%x:%x", unsigned(id >> 48), unsigned(id >> 32 & 0xFFFF),
                              unsigned(id >> 16 & 0xFFFF), unsigned(id & 0xFFFF));
                return std::string(b);
            };
            std::string ours = text(peer.ipv6cp_options.local_id()), theirs = text(peer.ipv6cp_options.peer_id());
            run({"ip", "link", "set", tun_name, "up"});
            run({"ip", "-6", "addr", "add", ours + "/128", "peer", theirs + "/128", "dev", tun_name, "nodad"});
            std::printf("ipv6 up %s %s\n", ours.c_str(), theirs.c_str());
            std::fflush(stdout);
            ipv6_announced = true;
        }
        if (peer.ipcp_open && !announced) {
            std::string addr = dotted(peer.ipcp_client.address);
            run({"ip", "addr", "add", addr + "/32", "peer", "10.0.0.1", "dev", tun_name});
            run({"ip", "link", "set", tun_name, "up"});
            const auto &c = peer.ipcp_client;
            std::printf("negotiated vj=%s dns2=%s ccp=%s\n",
                        peer.vj_in && peer.vj_out ? "both"
                        : peer.vj_in              ? "from-slirpd"
                        : peer.vj_out             ? "to-slirpd"
                                                  : "off",
                        c.dns2_rejected ? "rejected" : dotted(c.dns2).c_str(),
                        peer.ccp            ? (peer.ccp->up ? "deflate" : "negotiating")
                        : peer.ccp_rejected ? "protocol-rejected"
                                            : "unanswered");
            std::printf("up %s %s\n", addr.c_str(), dotted(c.dns).c_str());
            std::fflush(stdout);
            announced = true;
        }
    }

    int timeout_ms(Clock::time_point now) const
    {
        int t = 200;
        for (const auto *d : {&opt.imp.to_slirpd, &opt.imp.to_kernel})
            if (auto when = opt.imp.next(*d))
                t = std::min<int>(t, static_cast<int>(std::max<int64_t>(
                                         0, std::chrono::ceil<std::chrono::milliseconds>(*when - now).count())));
        if (!peer.to_link.empty() && out.wait_ms(now) > 0)
            t = std::min(t, out.wait_ms(now));
        if (in.wait_ms(now) > 0)
            t = std::min(t, in.wait_ms(now));
        return t;
    }

    // Returns false when slirpd went away.
    bool read_line(Clock::time_point now)
    {
        // Up to a short read: a tty hands over 4 KiB at a time, and a read of an empty one
        // waits for the kernel's flush work (the next poll waits for it instead, after this
        // batch is handled).
        static uint8_t buf[65536];
        if (in_idle && in.octets_per_s > 0) {
            in_idle = false;   // octets came to an idle line: the first takes 1/rate
            in.start(now);
            return true;
        }
        for (int i = 0; i < 64; ++i) {
            size_t want = in.allow(now, sizeof buf);
            if (want == 0)
                return true;
            ssize_t n = read(line, buf, want);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                return false;
            if (n < 0) {
                in_idle = true;
                return true;
            }
            in.spend(static_cast<size_t>(n));
            std::span<uint8_t> got(buf, static_cast<size_t>(n));
            if (peer.ipcp_open)
                opt.imp.flip_incoming(got);
            peer.input(got);
            if (static_cast<size_t>(n) < want) {
                in_idle = true;
                return true;
            }
        }
        return true;
    }

    void read_tun(Clock::time_point now)
    {
        static uint8_t buf[65536];
        // Not while a slow line has a lot waiting (the kernel's TCP then backs off).
        for (int i = 0; i < 64 && peer.to_link.size() < (256u << 10); ++i) {
            ssize_t n = read(tun, buf, sizeof buf);
            if (n <= 0)
                break;
            // IPv4 once IPCP is open, IPv6 once IPV6CP is (--ipv6 on); else the kernel's
            // IPv6 router solicitations on the tun stay here.
            if ((peer.ipcp_open && buf[0] >> 4 == 4) || (peer.ipv6cp_open && buf[0] >> 4 == 6))
                opt.imp.pass(opt.imp.to_slirpd, std::span<const uint8_t>(buf, static_cast<size_t>(n)), now);
        }
    }

    // pppd's restart timer, roughly: resend what is unanswered every second.
    void tick(Clock::time_point now)
    {
        if (now - last_tick > std::chrono::seconds(1)) {
            last_tick = now;
            if (peer.lcp->timer_running())
                peer.lcp->timeout();
            if (peer.ipcp->timer_running())
                peer.ipcp->timeout();
            if (peer.ccp && peer.ccp->cp->timer_running())
                peer.ccp->cp->timeout();
        }
    }
};

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3 || argc % 2 == 0) {
        std::fprintf(stderr, "usage: alopex-test-ppp-peer PTY TUN [--loss PCT] [--dup PCT] [--reorder PCT] "
                             "[--delay MS] [--flip PCT] [--rate BPS] [--pcap FILE] [--vj on|off] [--deflate on|off] "
                             "[--ipv6 on|off] [--seed N]\n");
        return 2;
    }
    TunPeer t;
    t.opt = parse_options(argc, argv);
    t.out.octets_per_s = t.in.octets_per_s = t.opt.rate_bps / 10;
    if (!t.opt.pcap.empty() && !t.pcap.open(t.opt.pcap))
        die(t.opt.pcap);
    // "fd:N": a pty master the caller passed (when slirpd opens the slave itself).
    t.line = std::strncmp(argv[1], "fd:", 3) == 0 ? std::atoi(argv[1] + 3)
                                                   : open(argv[1], O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (t.line < 0 || fcntl(t.line, F_SETFL, fcntl(t.line, F_GETFL) | O_NONBLOCK) < 0)
        die(argv[1]);
    slirp_test::make_raw(t.line);
    t.tun_name = argv[2];
    t.tun = open_tun(argv[2]);
    t.peer.keep_frames = false;   // it runs for long: only the IP packets are kept, until written
    t.peer.ipcp_client.ask_vj = t.peer.ipcp_client.accept_vj = t.opt.vj;
    if (t.opt.deflate)
        t.peer.enable_deflate();
    if (t.opt.ipv6)
        t.peer.enable_ipv6();
    t.peer.start();
    for (;;) {
        auto now = Clock::now();
        t.move_packets(now);
        t.report(now);
        // Only what the pace allows now is waited for (a paced line would otherwise spin).
        short events = (t.in.wait_ms(now) == 0 ? POLLIN : 0) |
                       (!t.peer.to_link.empty() && t.out.wait_ms(now) == 0 ? POLLOUT : 0);
        pollfd fds[2] = {{t.line, events, 0}, {t.tun, POLLIN, 0}};
        if (poll(fds, 2, t.timeout_ms(now)) < 0 && errno != EINTR)
            die("poll");
        now = Clock::now();
        bool gone = (fds[0].revents & POLLIN) ? !t.read_line(now) : (fds[0].revents & (POLLHUP | POLLERR)) != 0;
        if (gone) {   // slirpd went away: the final counts, then done
            if (t.opt.imp.active() || t.peer.ccp)
                t.print_counts();
            return 0;
        }
        if (fds[1].revents & POLLIN)
            t.read_tun(now);
        t.tick(now);
    }
}
