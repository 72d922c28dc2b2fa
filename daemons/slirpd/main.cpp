// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-slirpd: wiring only. PPP lives in ppp/, the IPv4 stack in stack/, the line in
// line.cpp and serial_line.cpp, the session on the event loop in session.cpp.
//
// The line is a pty slirpd makes (--pty), stdin/stdout (--stdio), or, for a service
// instance (--instance NAME, alopex-slirpd@NAME.service), the serial device of
// /etc/alopex/slirp/NAME.toml opened by the broker. The D-Bus interface comes next.
#include <sys/resource.h>

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
#include "bus_api.hpp"
#include "serial_line.hpp"
#include "session.hpp"
#include "secrets.hpp"
#include "settings.hpp"

using namespace alopex;
using namespace alopex::slirp;

namespace {

constexpr const char *usage =
    "Usage: alopex-slirpd --pty | --stdio [--config FILE] [--help] [--version]\n"
    "       alopex-slirpd --instance NAME [--pty | --stdio]\n"
    "\n"
    "PPP in userspace with its own TCP/IP stack: the peer's connections to mapped ports\n"
    "become ordinary sockets on this host (see alopex-slirpd(8)).\n"
    "  --pty            make a pty pair and print the peer's end (\"pty: /dev/pts/N\")\n"
    "  --stdio          PPP on stdin and stdout\n"
    "  --config FILE    addresses, DNS, port maps, limits (alopex-slirp.toml(5))\n"
    "  --instance NAME  settings from $CONFIGURATION_DIRECTORY/slirp/NAME.toml (default\n"
    "                   /etc/alopex/slirp/NAME.toml), org.alopex.Slirp1.NAME on the system\n"
    "                   bus, and the serial line of its [line] opened by alopex-brokerd\n"
    "                   (or a pty, stdio)\n";

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

Result<SessionConfig> session_config(const Settings &settings, bool on_device)
{
    SessionConfig config;
    config.link = settings.link;
    config.link.line_rate = pace_octets(settings.line, on_device);
    // Deflate costs far more CPU than a fast pty moves: by default only on a paced line.
    config.link.ccp.deflate = settings.deflate.value_or(config.link.line_rate != 0);
    if (config.link.line_rate)
        log::info("output paced to {} bit/s", config.link.line_rate * 10);
    if (settings.mode != Role::Client)   // a client serves the peer nothing: no DNS proxy
        config.dns_upstreams = dns_upstreams(settings);
    else
        log::info("PPP client: the address and DNS servers come from the server");
    config.tcp_ports = settings.tcp_ports;
    config.udp_ports = settings.udp_ports;
    config.listens = settings.listens;
    config.limits = settings.limits;
    config.backends = settings.backends;
    if (const auto &s5 = settings.socks5) {
        TcpForwarder::Socks5Upstream up;
        up.server.inet = s5->server;
        if (!s5->username.empty()) {
            ALOPEX_TRY(password, read_socks5_password(*s5));
            up.auth = Socks5Auth{s5->username, std::move(password)};
        }
        log::info("TCP elsewhere -> SOCKS5 {}{}", s5->server.to_string(),
                  s5->username.empty() ? "" : fmt::format(" as {}", s5->username));
        config.socks5 = std::move(up);
    }
    if (!settings.auth.protocols.empty()) {
        const auto &a = settings.auth;
        ALOPEX_TRY(secrets, read_secrets(a.secrets_file, a.secrets_credential, a.name));
        if (secrets.empty())
            log::warning("[auth]: no secret for {} in the secrets: every peer fails", a.name);
        config.link.auth.protocols = a.protocols;
        config.link.auth.name = a.name;
        config.link.auth.secrets = std::move(secrets);
        std::vector<std::string> names;
        for (uint16_t p : a.protocols)
            names.push_back(p == ppp::proto_chap ? "CHAP" : "PAP");
        log::info("the peer must authenticate ({}) as one of {} name{}", fmt::join(names, " or "),
                  config.link.auth.secrets.size(), config.link.auth.secrets.size() == 1 ? "" : "s");
    }
    for (const auto *maps : {&settings.tcp_ports, &settings.udp_ports})
        for (const auto &m : *maps)
            log::info("{} {} -> {}", maps == &settings.tcp_ports ? "TCP" : "UDP",
                      net::Endpoint{m.address, m.port}.to_string(), m.targets_text());
    return config;
}

struct Run {
    Mode line = Mode::Instance;                // where the line comes from (Instance: [line] device)
    std::optional<std::string> instance;       // with it: the bus (org.alopex.Slirp1.NAME)
    std::string config_file;                   // "" for the defaults
};

struct Lines {
    std::unique_ptr<SerialLine> serial;   // the device through the broker, or
    std::unique_ptr<Line> line;           // a pty, stdio
    std::string device;                   // as the bus shows it
};

Result<Lines> open_line(const Run &run, const Settings &settings, sd_event *e, sd_bus *bus, Session &s)
{
    Lines out;
    if (run.line == Mode::Instance) {
        ALOPEX_TRY(l, SerialLine::create(e, bus, settings.line, s));
        out.serial = std::move(l);
        out.device = settings.line.device;
        return out;
    }
    auto input = [&s](std::span<const uint8_t> b) { s.line_input(b); };
    auto hangup = [&s] { s.hangup(); };
    ALOPEX_TRY(l, run.line == Mode::Pty ? Line::open_pty(e, input, hangup) : Line::open_stdio(e, input, hangup));
    out.line = std::move(l);
    out.device = run.line == Mode::Pty ? "pty " + out.line->slave_path() : "stdio";
    return out;
}

// The loop, and for an instance the system bus (the broker, its object); a plain pty or
// stdio is not on a bus.
Result<daemon::LoopAndBus> make_loop(const Run &run)
{
    if (run.instance)
        return daemon::loop_and_bus();
    ALOPEX_TRY(ev, daemon::event_loop());
    return daemon::LoopAndBus{std::move(ev), {}};
}

// Everything on one loop: the session, the line (a pty, stdio, or the serial device
// through the broker, reopened when it goes), and for an instance its bus object.
// READY=1 does not wait for a serial device (a gadget line may come later).
int serve(const Run &run, const Settings &settings)
{
    auto loop = make_loop(run);
    auto config = loop ? session_config(settings, run.line == Mode::Instance) : std::unexpected(loop.error());
    if (!config) {
        log::err("{}", config.error().to_string());
        return 1;
    }
    sd_event *e = loop->event.get();
    sd_bus *bus = loop->bus.get();
    auto session = Session::create(e, std::move(*config));
    if (!session) {
        log::err("{}", session.error().to_string());
        return 1;
    }
    Session *s = session->get();
    auto lines = open_line(run, settings, e, bus, *s);
    if (!lines) {
        log::err("{}", lines.error().to_string());
        return 1;
    }
    auto &[serial, line, device] = *lines;
    std::unique_ptr<LineBus> api;
    if (run.instance) {
        auto b = LineBus::create(e, bus, *s, serial.get(), {*run.instance, device, run.config_file, settings});
        if (!b) {
            log::err("{}", b.error().to_string());
            return 1;
        }
        api = std::move(*b);
    }
    auto signals = daemon::Signals::watch(e, "", [&api] {
        if (!api)
            return;
        if (auto r = api->reload("SIGHUP"); !r)
            log::err("reload refused, keeping the running settings: {}", r.error().to_string());
    });
    if (!signals) {
        log::err("{}", signals.error().to_string());
        return 1;
    }
    if (api) {
        if (auto r = api->request_name(); !r) {
            log::err("{}", r.error().to_string());
            return 1;
        }
    }
    if (line) {
        s->set_line(line.get());
        if (run.line == Mode::Pty) {
            std::printf("pty: %s\n", line->slave_path().c_str());
            std::fflush(stdout);
        }
        s->start();
    } else {
        serial->start();
    }
    notify::ready(run.instance ? fmt::format("instance {}: {}", *run.instance, device) : device);
    int rc = daemon::run(e);
    // For the journal: what the link saw in its life (the counters that are not 0).
    std::string seen;
    for (const auto &[name, value] : s->counters())
        if (value != 0)
            seen += fmt::format(" {}={}", name, value);
    log::info("stopping; counters:{}", seen.empty() ? " all 0" : seen);
    // The line goes before the session: what the session sends while it stops (RSTs of
    // the connections still open) must not reach it.
    s->set_line(nullptr);
    return rc;
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
        else if (a == "--instance" && i + 1 < argc && !instance)
            instance = argv[++i];
        else {
            char *one[] = {argv[0], argv[i], nullptr};
            if (auto done = daemon::parse_args(2, one, "alopex-slirpd", usage))
                return *done;
        }
    }
    if ((!mode && !instance) || (instance && config_file)) {
        std::fputs(usage, stderr);
        return 2;
    }
    if (instance && !valid_instance(*instance)) {
        std::fprintf(stderr, "alopex-slirpd: '%s' is not an instance name (letters, digits, '_', '-', '.')\n",
                     instance->c_str());
        return 2;
    }
    log::init("alopex-slirpd");
    // Every TCP connection is a host socket: the soft limit of open files up to the hard
    // one (systemd's default soft limit is 1024).
    if (rlimit nofile{}; getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (instance)
        config_file = (paths::config_dir() / "slirp" / (*instance + ".toml")).string();
    // An invalid file stops the start ("file:line:col: what").
    auto settings = config_file ? load_settings(*config_file) : Result<Settings>(default_settings());
    if (!settings) {
        log::err("{}", settings.error().to_string());
        return 1;
    }
    Run run{mode.value_or(Mode::Instance), instance, config_file.value_or("")};
    if (run.line == Mode::Instance && settings->line.device.empty()) {
        log::err("{}: [line] device is needed for an instance", *config_file);
        return 1;
    }
    return serve(run, *settings);
}
