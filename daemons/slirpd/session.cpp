// SPDX-License-Identifier: GPL-2.0-or-later
#include "session.hpp"

#include <sys/random.h>
#include <time.h>

#include <fmt/format.h>

#include "alopex/log.hpp"
#include "alopex/notify.hpp"
#include "wire.hpp"

namespace alopex::slirp {

namespace {

uint32_t random32()
{
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, 0) != sizeof v) {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = static_cast<uint32_t>(ts.tv_nsec) ^ static_cast<uint32_t>(ts.tv_sec);
    }
    return v;
}

} // namespace

Result<std::unique_ptr<Session>> Session::create(sd_event *event, SessionConfig config)
{
    std::unique_ptr<Session> s(new Session(event));
    Session *self = s.get();
    if (!config.link.ipcp.local.is_v4() || !config.link.ipcp.peer.is_v4())
        return fail(EINVAL, "slirpd: the local and peer addresses must be IPv4");
    uint32_t local = wire::be32(config.link.ipcp.local.data());
    stack::StackConfig sc;
    sc.address = local;
    sc.mtu = 1500;
    sc.tcp.receive_buffer = sc.tcp.send_buffer = config.limits.buffer;
    sc.limits = {config.limits.connections, config.limits.connections_per_port, config.limits.idle_timeout_usec};
    s->stack_ = std::make_unique<stack::Stack>(
        sc, [self](std::span<const uint8_t> p) { self->link_->send_ip(p); }, random32());
    s->link_ = std::make_unique<ppp::Link>(
        config.link, random32,
        ppp::Link::Callbacks{[self](std::span<const uint8_t> bytes) {
                                 if (self->line_)
                                     self->line_->write(bytes);
                             },
                             [self](std::span<const uint8_t> p) { self->stack_->input(p, self->now()); }, {}, {}});
    if (!config.dns_upstreams.empty()) {
        auto dns = DnsProxy::create(event, *s->stack_, local, config.dns_upstreams, {});
        if (!dns)
            return std::unexpected(dns.error());
        s->dns_ = std::move(*dns);
    }
    s->tcp_ = std::make_unique<TcpForwarder>(event, *s->stack_, TcpForwarder::Options{}, [self] { self->rearm(); });
    for (const auto &m : config.tcp_ports)
        s->tcp_->add(m);
    s->udp_ = std::make_unique<UdpForwarder>(event, *s->stack_, config.limits.udp_flows,
                                             config.limits.udp_idle_timeout_usec, [self] { self->rearm(); });
    for (const auto &m : config.udp_ports)
        s->udp_->add(m);
    sd_event_source *t = nullptr;
    if (int r = sd_event_add_time(event, &t, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_timer, self); r < 0)
        return failf(-r, "cannot add the PPP timer: {}", strerror(-r));
    s->timer_.reset(t);
    sd_event_source_set_enabled(t, SD_EVENT_OFF);
    return s;
}

uint64_t Session::now() const
{
    uint64_t n = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &n);
    return n;
}

void Session::start()
{
    link_->start(now());
    rearm();
    report();
}

void Session::line_input(std::span<const uint8_t> bytes)
{
    link_->line_input(bytes, now());
    rearm();
    report();
}

void Session::hangup()
{
    log::notice("the line hung up");
    link_->stop(now());
    rearm();
    report();
}

void Session::rearm()
{
    uint64_t next = std::min(link_->next_deadline(), stack_->next_deadline());
    if (next == UINT64_MAX) {
        sd_event_source_set_enabled(timer_.get(), SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_time(timer_.get(), next);
    sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT);
}

int Session::on_timer(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<Session *>(userdata);
    try {
        uint64_t now = self->now();
        self->link_->advance(now);
        self->stack_->advance(now);
        self->rearm();
        self->report();
    } catch (const std::exception &e) {
        log::err("PPP timer: {}", e.what());
    }
    return 0;
}

void Session::report()
{
    bool network = link_->ipcp_state() == ppp::State::Opened;
    if (link_->phase() == reported_phase_ && network == reported_network_)
        return;
    reported_phase_ = link_->phase();
    reported_network_ = network;
    if (network) {
        const auto &s = link_->lcp_settings();
        log::info("PPP up: peer {} (MRU {}, ACCM {:08x}{}{})", link_->ipcp_options().config().peer.to_string(),
                  s.send_mru, s.send_accm, s.send_pfc ? ", PFC" : "", s.send_acfc ? ", ACFC" : "");
        notify::status(fmt::format("network: peer {}", link_->ipcp_options().config().peer.to_string()));
    } else {
        log::info("PPP phase {}", to_string(reported_phase_));
        notify::status(fmt::format("phase {}", to_string(reported_phase_)));
    }
}

} // namespace alopex::slirp
