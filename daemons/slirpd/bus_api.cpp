// SPDX-License-Identifier: GPL-2.0-or-later
#include "bus_api.hpp"

#include <fcntl.h>

#include <fmt/format.h>

#include "alopex-config.h"
#include "alopex/bus/audit.hpp"
#include "alopex/ipc/slirp1.hpp"
#include "alopex/ipc/slirp1_spec.hpp"
#include "alopex/log.hpp"
#include "broker1_client.hpp"
#include "serial_line.hpp"

namespace alopex::slirp {

namespace line = ipc::slirp1::line;

namespace {

std::string map_target(const std::vector<PortMap> &maps, const net::Address &address, uint16_t port)
{
    for (const auto &m : maps)
        if (m.address == address && m.port == port)
            return m.targets_text();
    return "";
}

const char *both_ways(bool send, bool receive)
{
    return send && receive ? "both" : send ? "send" : receive ? "receive" : "no";
}

} // namespace

const bus::Vtable<LineBus> &line_vtable()
{
    static const auto vt =
        bus::Vtable<LineBus>(line::spec)
            .method(line::method::Version, &LineBus::bus_version)
            .method(line::method::ListConnections, &LineBus::list_connections)
            .method(line::method::CloseConnection, &LineBus::close_connection)
            .method(line::method::Reload, &LineBus::bus_reload)
            .method(line::method::Capture, &LineBus::capture)
            .property(line::property::Instance, [](const LineBus &b) { return b.opt_.instance; })
            .property(line::property::Device, [](const LineBus &b) { return b.opt_.device; })
            .property(line::property::LineOpen, [](const LineBus &b) { return b.line_open(); })
            .property(line::property::Phase, [](const LineBus &b) { return b.phase(); })
            .property(line::property::Mode, [](const LineBus &b) { return std::string(to_string(b.opt_.settings.mode)); })
            .property(line::property::LocalAddress, [](const LineBus &b) { return b.local_address(); })
            .property(line::property::PeerAddress, [](const LineBus &b) { return b.peer_address(); })
            .property(line::property::DnsServers, [](const LineBus &b) { return b.dns_servers(); })
            .property(line::property::Listeners, [](const LineBus &b) {
                std::vector<std::tuple<std::string, std::string, std::string, uint64_t>> out;
                for (const auto &l : b.session_.tcp().listeners())
                    out.emplace_back(l->config.bind.to_string(), l->bound.to_string(), l->config.target_text(),
                                     l->accepted);
                return out;
            })
            .property(line::property::Options, [](const LineBus &b) { return b.options(); })
            .property(line::property::EchoRttUsec,
                      [](const LineBus &b) { return b.session_.link().stats().echo_rtt_usec; })
            .property(line::property::Counters, [](const LineBus &b) { return b.session_.counters(); })
            .property(line::property::Connections,
                      [](const LineBus &b) { return static_cast<uint32_t>(b.session_.ip().tcp_connections()); })
            .property(line::property::PortMaps, [](const LineBus &b) {
                std::vector<std::tuple<std::string, std::string, uint16_t, std::string>> out;
                for (const auto *maps : {&b.session_.tcp_ports(), &b.session_.udp_ports()})
                    for (const auto &m : *maps)
                        out.emplace_back(maps == &b.session_.tcp_ports() ? "tcp" : "udp", m.address.to_string(), m.port,
                                         m.targets_text());
                return out;
            })
            .property(line::property::Backends, [](const LineBus &b) {
                uint64_t now = 0;
                sd_event_now(b.event_, CLOCK_MONOTONIC, &now);
                std::vector<std::tuple<std::string, uint16_t, std::string, std::string, uint32_t, uint64_t, uint64_t>> out;
                for (const auto &[key, pool] : b.session_.tcp().pools())
                    for (const auto &be : pool->backends())
                        out.emplace_back(key.first.to_string(), key.second, be.target.to_string(),
                                         BackendPool::state(be, now), be.failures, be.connects, be.failed);
                return out;
            });
    return vt;
}

Result<std::unique_ptr<LineBus>> LineBus::create(sd_event *event, sd_bus *bus, Session &session,
                                                 const SerialLine *serial, Options options)
{
    std::unique_ptr<LineBus> b(new LineBus(event, session, serial, std::move(options)));
    ALOPEX_TRY(names, ipc::slirp1::instance_of(b->opt_.instance));
    b->names_ = std::move(names);
    ALOPEX_TRY_VOID(b->attach(bus));
    b->session_.on_lockout = [self = b.get()](std::string details) {
        if (self->recorder_)
            self->recorder_->record("slirp.Lockout", details);
    };
    auto rec = ipc::broker1::Recorder::create(bus, event);
    if (rec)
        b->recorder_ = std::move(*rec);
    else
        log::warning("not recording in the audit ledger: {}", rec.error().to_string());
    LineBus *self = b.get();
    session.on_state_changed = [self] { self->state_changed(); };
    return b;
}

LineBus::~LineBus()
{
    session_.on_state_changed = nullptr;
    session_.on_lockout = nullptr;
}

Result<> LineBus::attach(sd_bus *bus)
{
    service_ = std::make_unique<bus::Service>(bus, event_);
    ALOPEX_TRY(reg, service_->add(names_.path.c_str(), line_vtable(), *this));
    registration_ = std::move(reg);
    return {};
}

Result<> LineBus::request_name()
{
    if (int r = sd_bus_request_name(service_->bus(), names_.service.c_str(), 0); r < 0)
        return failf(-r, "cannot own {}: {}", names_.service, strerror(-r));
    return {};
}

void LineBus::state_changed()
{
    for (const auto *p : {&line::property::Phase, &line::property::PeerAddress, &line::property::LocalAddress,
                          &line::property::DnsServers, &line::property::Options, &line::property::LineOpen})
        service_->changed(names_.path, line::spec, *p);
}

bool LineBus::line_open() const
{
    return serial_ ? serial_->is_open() : session_.line() != nullptr;
}

std::string LineBus::phase() const
{
    const auto &l = session_.link();
    switch (l.phase()) {
    case ppp::Phase::Dead: return "dead";
    case ppp::Phase::Establish: return "establishing";
    case ppp::Phase::Authenticate: return "authenticating";
    case ppp::Phase::Terminate: return "terminating";
    case ppp::Phase::Network: return l.ipcp_state() == ppp::State::Opened ? "opened" : "network";
    }
    return "dead";
}

std::string LineBus::peer_address() const
{
    const auto &l = session_.link();
    bool up = l.ipcp_state() == ppp::State::Opened && !l.ipcp_options().peer().empty();
    return up ? l.ipcp_options().peer().to_string() : "";
}

std::string LineBus::local_address() const
{
    const auto &l = session_.link();
    if (!l.ipcp_options().config().client)
        return l.ipcp_options().config().local.to_string();
    return l.ipcp_state() == ppp::State::Opened ? l.ipcp_options().local().to_string() : "";
}

std::vector<std::string> LineBus::dns_servers() const
{
    const auto &l = session_.link();
    std::vector<std::string> out;
    if (l.ipcp_state() == ppp::State::Opened)
        for (const auto *d : {&l.ipcp_options().dns1(), &l.ipcp_options().dns2()})
            if (!d->empty())
                out.push_back(d->to_string());
    return out;
}

std::map<std::string, std::string> LineBus::options() const
{
    const auto &l = session_.link();
    if (l.lcp_state() != ppp::State::Opened)
        return {};
    const auto &s = l.lcp_settings();
    return {{"send-mru", std::to_string(s.send_mru)},
            {"receive-mru", std::to_string(s.receive_mru)},
            {"send-accm", fmt::format("{:08x}", s.send_accm)},
            {"receive-accm", fmt::format("{:08x}", s.receive_accm)},
            {"pfc", both_ways(s.send_pfc, s.receive_pfc)},
            {"acfc", both_ways(s.send_acfc, s.receive_acfc)},
            {"magic", fmt::format("{:08x}", s.our_magic)},
            {"auth", s.auth == ppp::proto_chap ? "chap" : s.auth == ppp::proto_pap ? "pap" : "none"},
            {"peer-name", l.auth_protocol() && l.phase() == ppp::Phase::Network ? net::quoted(l.auth_peer()) : ""}};
}

void LineBus::bus_version(bus::Call &c)
{
    c.reply(std::string(ALOPEX_VERSION));
}

void LineBus::list_connections(bus::Call &c)
{
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    std::vector<std::tuple<uint64_t, std::string, uint16_t, std::string, uint16_t, std::string, std::string, uint64_t,
                           uint64_t, uint64_t, uint64_t>>
        out;
    session_.ip().each_tcp([&](const stack::TcpKey &k, uint64_t id, const stack::tcp::Connection &conn) {
        out.emplace_back(id, k.remote.to_string(), k.remote_port, k.local.to_string(), k.local_port,
                         map_target(session_.tcp_ports(), k.local, k.local_port), std::string(to_string(conn.state())),
                         conn.stats().bytes_in, conn.stats().bytes_out,
                         now > conn.last_activity() ? now - conn.last_activity() : 0, session_.queue_delay(k));
    });
    std::sort(out.begin(), out.end());
    c.reply(out);
}

void LineBus::close_connection(bus::Call &c, uint64_t id)
{
    auto *conn = session_.ip().find_tcp(id);
    if (!conn) {
        c.fail(bus_error::NoSuchId, "id: no connection {}", id);
        return;
    }
    if (!c.authorize(ipc::slirp1::polkit_action))
        return;
    if (recorder_)
        bus::call_details_async(c, {}, [r = recorder_.get()](std::string d) { r->record("slirp.CloseConnection", d); });
    conn->kill(stack::tcp::CloseReason::Aborted);
    log::info("connection {} closed over D-Bus", id);
    c.reply();
}

Result<std::vector<std::string>> LineBus::reload(std::string_view why)
{
    ALOPEX_TRY(next, load_settings(opt_.config_file));
    const Settings &cur = opt_.settings;
    std::vector<std::string> pending;
    const auto &a = cur.link;
    const auto &b = next.link;
    if (cur.line.device != next.line.device || cur.line.baud != next.line.baud ||
        cur.line.hardware_flow != next.line.hardware_flow || cur.line.rate != next.line.rate)
        pending.push_back("line");
    if (a.ipcp.local != b.ipcp.local || a.ipcp.peer != b.ipcp.peer || a.ipcp.dns1 != b.ipcp.dns1 ||
        a.ipcp.dns2 != b.ipcp.dns2)
        pending.push_back("addresses");
    if (cur.listens != next.listens)
        pending.push_back("listen");
    if (a.lcp.mru != b.lcp.mru || a.echo_interval_usec != b.echo_interval_usec ||
        a.echo_failures != b.echo_failures || a.ipcp.vj != b.ipcp.vj || cur.deflate != next.deflate ||
        cur.mode != next.mode || a.ipv6cp.enabled != b.ipv6cp.enabled)
        pending.push_back("ppp");
    if (cur.backends.failures != next.backends.failures || cur.backends.skip_usec != next.backends.skip_usec)
        pending.push_back("backends");
    if (cur.socks5 != next.socks5)
        pending.push_back("socks5");
    if (cur.auth != next.auth)
        pending.push_back("auth");
    const auto &la = cur.limits, &lb = next.limits;
    if (la.connections != lb.connections || la.connections_per_port != lb.connections_per_port ||
        la.idle_timeout_usec != lb.idle_timeout_usec || la.buffer != lb.buffer || la.udp_flows != lb.udp_flows ||
        la.udp_idle_timeout_usec != lb.udp_idle_timeout_usec || la.new_per_peer != lb.new_per_peer ||
        la.new_per_port != lb.new_per_port || la.rate_window_usec != lb.rate_window_usec ||
        la.lockout_usec != lb.lockout_usec)
        pending.push_back("limits");
    // Port maps change now, unless the mode does (at the next restart) or has none.
    bool maps_now = cur.mode == next.mode && cur.mode != Role::Client;
    if (maps_now)
        session_.set_port_maps(next.tcp_ports, next.udp_ports);
    if (next.dns_upstreams && next.dns_upstreams != cur.dns_upstreams)
        session_.set_dns_upstreams(*next.dns_upstreams);
    // What needs a restart keeps its running value in opt_.settings, so that a later
    // Reload still reports it.
    Settings kept = std::move(next);
    kept.line = cur.line;
    kept.link = cur.link;
    kept.mode = cur.mode;
    kept.listens = cur.listens;
    if (!maps_now) {
        kept.tcp_ports = cur.tcp_ports;
        kept.udp_ports = cur.udp_ports;
    }
    kept.limits = cur.limits;
    kept.backends = cur.backends;
    kept.socks5 = cur.socks5;
    kept.auth = cur.auth;
    opt_.settings = std::move(kept);
    service_->changed(names_.path, line::spec, line::property::PortMaps);
    log::info("reloaded {} ({}){}", opt_.config_file, why,
              pending.empty() ? "" : fmt::format("; [{}] take effect at the next restart", fmt::join(pending, "], [")));
    return pending;
}

void LineBus::bus_reload(bus::Call &c)
{
    if (!c.authorize(ipc::slirp1::polkit_action))
        return;
    auto r = reload("D-Bus");
    if (!r) {
        c.fail(Error{EINVAL, r.error().message, bus_error::InvalidArgument});
        return;
    }
    if (recorder_)
        bus::call_details_async(c, fmt::format("[\"{}\"]", fmt::join(*r, "\",\"")),
                                [rec = recorder_.get()](std::string d) { rec->record("slirp.Reload", d); });
    c.reply(*r);
}

void LineBus::capture(bus::Call &c, bus::UnixFd fd, uint32_t seconds)
{
    if (seconds < 1 || seconds > 3600) {
        c.fail(bus_error::InvalidArgument, "seconds: from 1 to 3600, not {}", seconds);
        return;
    }
    int flags = fcntl(fd.fd, F_GETFL);
    if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) {
        c.fail(bus_error::InvalidArgument, "fd: not open for writing");
        return;
    }
    if (session_.capturing()) {
        c.fail(bus_error::Busy, "a capture is running already");
        return;
    }
    if (!c.authorize(ipc::slirp1::polkit_action))
        return;
    int own = fcntl(fd.fd, F_DUPFD_CLOEXEC, 3);
    if (own < 0) {
        c.fail(bus_error::IOError, "fd: {}", strerror(errno));
        return;
    }
    if (auto r = session_.start_capture(Fd(own), uint64_t{seconds} * 1'000'000); !r) {
        c.fail(Error{r.error().code, r.error().message, r.error().code == EBUSY ? bus_error::Busy : bus_error::IOError});
        return;
    }
    if (recorder_)
        bus::call_details_async(c, fmt::format("{{\"seconds\":{}}}", seconds),
                                [rec = recorder_.get()](std::string d) { rec->record("slirp.Capture", d); });
    c.reply();
}

} // namespace alopex::slirp
