// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-slirpd: wiring only. PPP lives in ppp/, the IPv4 stack in stack/, the line in
// line.cpp and serial_line.cpp, the session on the event loop in session.cpp.
//
// The line is a pty slirpd makes (--pty), stdin/stdout (--stdio), or, for a service
// instance (--instance NAME, alopex-slirpd@NAME.service), the serial device of
// /etc/alopex/slirp/NAME.toml opened by the broker. The D-Bus interface comes next.
#include <cctype>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "alopex/daemon.hpp"
#include "alopex/file.hpp"
#include "alopex/log.hpp"
#include "alopex/notify.hpp"
#include "alopex/paths.hpp"
#include "line.hpp"
#include "serial_line.hpp"
#include "session.hpp"
#include "settings.hpp"

using namespace alopex;
using namespace alopex::slirp;

namespace {

constexpr const char *usage =
    "Usage: alopex-slirpd --pty | --stdio [--config FILE] [--help] [--version]\n"
    "       alopex-slirpd --instance NAME\n"
    "\n"
    "PPP in userspace with its own TCP/IP stack: the peer's connections to mapped ports\n"
    "become ordinary sockets on this host (see alopex-slirpd(8)).\n"
    "  --pty            make a pty pair and print the peer's end (\"pty: /dev/pts/N\")\n"
    "  --stdio          PPP on stdin and stdout\n"
    "  --config FILE    addresses, DNS, port maps, limits (alopex-slirp.toml(5))\n"
    "  --instance NAME  the serial line of $CONFIGURATION_DIRECTORY/slirp/NAME.toml\n"
    "                   (default /etc/alopex/slirp/NAME.toml), opened by alopex-brokerd\n";

enum class Mode { Pty, Stdio, Instance };

// Instance names become file names and, later, object paths: letters, digits, '_', '-',
// '.', at most 64, not starting with '.'.
bool valid_instance(std::string_view n)
{
    if (n.empty() || n.size() > 64 || n.front() == '.')
        return false;
    for (char c : n)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
            return false;
    return true;
}


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

SessionConfig session_config(const Settings &settings)
{
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
    return config;
}

// A service instance: the bus (for the broker), the serial line through it, reopened
// when it goes. READY=1 does not wait for the device (a gadget line may come later).
int serve_instance(const std::string &name, const Settings &settings)
{
    auto base = daemon::loop_and_bus();
    if (!base) {
        log::err("{}", base.error().to_string());
        return 1;
    }
    sd_event *e = base->event.get();
    auto session = Session::create(e, session_config(settings));
    if (!session) {
        log::err("{}", session.error().to_string());
        return 1;
    }
    auto line = SerialLine::create(e, base->bus.get(), settings.line, **session);
    if (!line) {
        log::err("{}", line.error().to_string());
        return 1;
    }
    auto signals = daemon::Signals::watch(e, "", [] {});
    if (!signals) {
        log::err("{}", signals.error().to_string());
        return 1;
    }
    (*line)->start();
    notify::ready(fmt::format("instance {}: {}", name, settings.line.device));
    return daemon::run(e);
}

int serve(Mode mode, const Settings &settings)
{
    auto event = daemon::event_loop();
    if (!event) {
        log::err("{}", event.error().to_string());
        return 1;
    }
    sd_event *e = event->get();
    auto session = Session::create(e, session_config(settings));
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
    std::optional<std::string> config_file, instance;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--pty" && !mode)
            mode = Mode::Pty;
        else if (a == "--stdio" && !mode)
            mode = Mode::Stdio;
        else if (a == "--config" && i + 1 < argc && !config_file)
            config_file = argv[++i];
        else if (a == "--instance" && i + 1 < argc && !mode) {
            mode = Mode::Instance;
            instance = argv[++i];
        }
        else {
            char *one[] = {argv[0], argv[i], nullptr};
            if (auto done = daemon::parse_args(2, one, "alopex-slirpd", usage))
                return *done;
        }
    }
    if (!mode || (mode == Mode::Instance && config_file)) {
        std::fputs(usage, stderr);
        return 2;
    }
    if (instance && !valid_instance(*instance)) {
        std::fprintf(stderr, "alopex-slirpd: '%s' is not an instance name (letters, digits, '_', '-', '.')\n",
                     instance->c_str());
        return 2;
    }
    log::init("alopex-slirpd");
    if (instance)
        config_file = (paths::config_dir() / "slirp" / (*instance + ".toml")).string();
    // An invalid file stops the start ("file:line:col: what").
    auto settings = config_file ? load_settings(*config_file) : Result<Settings>(default_settings());
    if (!settings) {
        log::err("{}", settings.error().to_string());
        return 1;
    }
    if (mode == Mode::Instance) {
        if (settings->line.device.empty()) {
            log::err("{}: [line] device is needed for an instance", *config_file);
            return 1;
        }
        return serve_instance(*instance, *settings);
    }
    return serve(*mode, *settings);
}
