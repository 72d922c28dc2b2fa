// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-slirpd: wiring only. PPP lives in ppp/, the IPv4 stack in stack/, the line in
// line.cpp, the session on the event loop in session.cpp.
//
// Issue 11, in progress: the line is a pty slirpd makes (--pty) or stdin/stdout (--stdio);
// the serial device through the broker, the configuration file, port maps, TCP/UDP and
// the D-Bus interface come next.
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "alopex/daemon.hpp"
#include "alopex/file.hpp"
#include "alopex/log.hpp"
#include "alopex/notify.hpp"
#include "line.hpp"
#include "session.hpp"
#include "settings.hpp"

using namespace alopex;
using namespace alopex::slirp;

namespace {

constexpr const char *usage =
    "Usage: alopex-slirpd --pty | --stdio [--config FILE] [--help] [--version]\n"
    "\n"
    "PPP in userspace with its own IPv4 stack (work in progress: LCP, IPCP and ping of\n"
    "slirpd's address, 10.0.0.1 unless FILE says otherwise; see alopex-slirpd(8)).\n"
    "  --pty          make a pty pair and print the peer's end (\"pty: /dev/pts/N\")\n"
    "  --stdio        PPP on stdin and stdout\n"
    "  --config FILE  addresses, DNS offered, MRU, echoes (alopex-slirp.toml(5))\n";

enum class Mode { Pty, Stdio };


// [dns] upstreams, or the nameservers of /etc/resolv.conf now.
std::vector<net::Address> dns_upstreams(const Settings &settings)
{
    if (settings.dns_upstreams)
        return *settings.dns_upstreams;
    auto text = read_regular_file("/etc/resolv.conf", 64 * 1024);
    auto servers = text ? parse_resolv_conf(*text) : std::vector<net::Address>{};
    if (servers.empty())
        log::warning("no nameserver in /etc/resolv.conf: the peer's DNS queries are refused");
    else
        log::info("DNS proxy: upstreams from /etc/resolv.conf: {}", servers.front().to_string());
    return servers;
}

int serve(Mode mode, const Settings &settings)
{
    auto event = daemon::event_loop();
    if (!event) {
        log::err("{}", event.error().to_string());
        return 1;
    }
    sd_event *e = event->get();
    SessionConfig config;
    config.link = settings.link;
    config.dns_upstreams = dns_upstreams(settings);
    config.tcp_ports = settings.tcp_ports;
    config.udp_ports = settings.udp_ports;
    config.limits = settings.limits;
    for (const auto *maps : {&settings.tcp_ports, &settings.udp_ports})
        for (const auto &m : *maps)
            log::info("{} {}:{} -> {}", maps == &settings.tcp_ports ? "TCP" : "UDP", net::Address::v4(m.address),
                      m.port, m.target.to_string());
    auto session = Session::create(e, config);
    if (!session) {
        log::err("{}", session.error().to_string());
        return 1;
    }
    Session *s = session->get();
    auto input = [s](std::span<const uint8_t> b) { s->line_input(b); };
    auto hangup = [s] { s->hangup(); };
    auto line = mode == Mode::Pty ? Line::open_pty(e, input, hangup) : Line::open_stdio(e, input, hangup);
    if (!line) {
        log::err("{}", line.error().to_string());
        return 1;
    }
    s->set_line(line->get());
    auto signals = daemon::Signals::watch(e, "", [] {});
    if (!signals) {
        log::err("{}", signals.error().to_string());
        return 1;
    }
    if (mode == Mode::Pty) {
        std::printf("pty: %s\n", (*line)->slave_path().c_str());
        std::fflush(stdout);
    }
    s->start();
    notify::ready(mode == Mode::Pty ? "pty " + (*line)->slave_path() : "stdio");
    return daemon::run(e);
}

} // namespace

int main(int argc, char **argv)
{
    std::optional<Mode> mode;
    std::optional<std::string> config_file;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--pty" && !mode)
            mode = Mode::Pty;
        else if (a == "--stdio" && !mode)
            mode = Mode::Stdio;
        else if (a == "--config" && i + 1 < argc && !config_file)
            config_file = argv[++i];
        else {
            char *one[] = {argv[0], argv[i], nullptr};
            if (auto done = daemon::parse_args(2, one, "alopex-slirpd", usage))
                return *done;
        }
    }
    if (!mode) {
        std::fputs(usage, stderr);
        return 2;
    }
    log::init("alopex-slirpd");
    // An invalid file stops the start ("file:line:col: what").
    auto settings = config_file ? load_settings(*config_file) : Result<Settings>(default_settings());
    if (!settings) {
        log::err("{}", settings.error().to_string());
        return 1;
    }
    return serve(*mode, *settings);
}
