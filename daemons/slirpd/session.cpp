// SPDX-License-Identifier: GPL-2.0-or-later
#include "session.hpp"

#include <sys/random.h>

#include <algorithm>
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
    if (!config.link.ipcp.local.is_v4() || (!config.link.ipcp.client && !config.link.ipcp.peer.is_v4()))
        return fail(EINVAL, "slirpd: the local and peer addresses must be IPv4");
    uint32_t local = wire::be32(config.link.ipcp.local.data());
    stack::StackConfig sc;
    sc.address = local;
    sc.mtu = 1500;
    sc.tcp.receive_buffer = sc.tcp.send_buffer = config.limits.buffer;
    const auto &l = config.limits;
    sc.limits = {l.connections, l.connections_per_port, l.idle_timeout_usec,
                 {l.new_per_peer, l.rate_window_usec, l.lockout_usec}, {l.new_per_port, l.rate_window_usec, l.lockout_usec}};
    s->stack_ = std::make_unique<stack::Stack>(
        sc,
        [self](std::span<const uint8_t> p) {
            self->link_->send_ip(p, self->now());
            if (!self->link_->queue().empty())
                self->rearm();   // the pace's timer
        },
        random32());
    s->stack_->set_link_busy([self](const stack::TcpKey &k) { return self->link_busy(k); });
    s->stack_->on_lockout([self](const net::Address &peer, const net::Address &address, uint16_t port, bool by_port,
                                 uint64_t until) {
        uint64_t now = self->now();
        uint64_t secs = until > now ? (until - now + 999'999) / 1'000'000 : 0;
        std::string a = address.to_string(), p = peer.to_string();
        log::warning("{} over its new-connection rate limit ({} to {}:{}): refused for {} s",
                     by_port ? fmt::format("port {}:{}", a, port) : fmt::format("peer {}", p), p, a, port, secs);
        if (self->on_lockout)
            self->on_lockout(fmt::format(R"({{"limit":"{}","peer":"{}","address":"{}","port":{},"seconds":{}}})",
                                         by_port ? "port" : "peer", p, a, port, secs));
    });
    ppp::Link::Callbacks cb;
    cb.line_output = [self](std::span<const uint8_t> bytes) {
        if (self->line_)
            self->line_->write(bytes);
    };
    cb.ip_input = [self](std::span<const uint8_t> p) { self->stack_->input(p, self->now()); };
    cb.network_up = [self] { self->network_up(); };
    cb.line_busy = [self] { return self->line_ && self->line_->congested(); };
    cb.frame_seen = [self](bool sent, uint16_t protocol, std::span<const uint8_t> info) {
        if (self->capture_)
            self->capture_->frame(sent, protocol, info);
    };
    cb.ipv6_up = [self] { self->ipv6_up(); };
    cb.authenticated = [self](bool passed) {
        const auto &l = *self->link_;
        const char *how = l.auth_protocol() == ppp::proto_chap ? "CHAP" : "PAP";
        if (passed)
            log::info("the peer authenticated as {} ({})", net::quoted(l.auth_peer()), how);
        else if (l.auth_protocol() == 0)
            log::warning("the peer refused to authenticate: link terminated");
        else
            log::warning("the peer failed to authenticate as {} ({}: {}): link terminated",
                         net::quoted(l.auth_peer()), how, l.auth_reason());
    };
    cb.output_space = [self] {
        if (self->stack_->output_blocked())   // from the loop, not from inside a send
            sd_event_source_set_enabled(self->resume_.get(), SD_EVENT_ONESHOT);
    };
    s->link_ = std::make_unique<ppp::Link>(config.link, random32, std::move(cb));
    if (!config.dns_upstreams.empty()) {
        auto dns = DnsProxy::create(event, *s->stack_, net::Address::v4(local), config.dns_upstreams, {});
        if (!dns)
            return std::unexpected(dns.error());
        s->dns_ = std::move(*dns);
    }
    s->tcp_ = std::make_unique<TcpForwarder>(event, *s->stack_, TcpForwarder::Options{.backends = config.backends},
                                             [self] { self->rearm(); });
    s->tcp_->set_socks5(config.socks5);
    s->local_ = local;
    s->udp_ = std::make_unique<UdpForwarder>(event, *s->stack_, config.limits.udp_flows,
                                             config.limits.udp_idle_timeout_usec, [self] { self->rearm(); });
    s->set_port_maps(config.tcp_ports, config.udp_ports);
    ALOPEX_TRY_VOID(s->tcp_->listen(config.listens, [self](const Listen &l) -> net::Address {
        const auto &ipcp = self->link_->ipcp_options();
        if (l.address.is_v6())
            return self->link_->ipv6cp_state() == ppp::State::Opened ? l.address : net::Address();
        if (self->link_->ipcp_state() != ppp::State::Opened)
            return {};
        if (!l.address.empty())
            return l.address;
        return ipcp.peer().is_v4() ? ipcp.peer() : net::Address();
    }));
    sd_event_source *t = nullptr;
    if (int r = sd_event_add_time(event, &t, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_timer, self); r < 0)
        return failf(-r, "cannot add the PPP timer: {}", strerror(-r));
    s->timer_.reset(t);
    sd_event_source_set_enabled(t, SD_EVENT_OFF);
    sd_event_source *d = nullptr;
    if (int r = sd_event_add_defer(event, &d, on_resume, self); r < 0)
        return failf(-r, "cannot add the output event: {}", strerror(-r));
    s->resume_.reset(d);
    sd_event_source_set_enabled(d, SD_EVENT_OFF);
    return s;
}

Result<> Session::start_capture(Fd fd, uint64_t usec)
{
    if (capture_)
        return fail(EBUSY, "a capture is running");
    ALOPEX_TRY(c, Capture::start(event_, std::move(fd), usec, [this] {
                   capture_frames_ += capture_->frames();
                   capture_dropped_ += capture_->dropped();
                   log::info("capture ended: {} frames, {} dropped", capture_->frames(), capture_->dropped());
                   capture_.reset();
               }));
    capture_ = std::move(c);
    log::info("capture started for {} s", usec / 1'000'000);
    return {};
}

// IPV6CP Opened: slirpd's link-local address is the stack's, and the DNS proxy answers
// there too.
void Session::ipv6_up()
{
    const auto &o = link_->ipv6cp_options();
    auto ours = ppp::link_local(o.local_id());
    auto had = stack_->ipv6_address();
    if (dns_ && had && *had != ours)
        stack_->unbind_udp(stack::to_address(*had), 53);
    stack_->set_ipv6_address(ours);
    if (dns_)
        dns_->listen_on(stack::to_address(ours));
    log::info("IPv6 up: {}, peer {}", stack::to_address(ours),
              o.peer_id() ? stack::to_address(ppp::link_local(o.peer_id())).to_string() : std::string("unnamed"));
}

// A paced line: TCP segments no longer than what the line carries in frame_time (with
// the headers VJ leaves), so that a keystroke never waits long behind a bulk frame, and
// a receive window of about 100 ms of the line, so that the peer does not queue seconds
// of data on its side. Unpaced: what the MTU and the buffers give.
void Session::network_up()
{
    const auto &ipcp = link_->ipcp_options();
    if (ipcp.config().client) {   // the address the server gave is ours now
        local_ = wire::be32(ipcp.local().data());
        stack_->set_address(local_);
    }
    if (!link_->paced()) {
        stack_->set_segment_limits(0, 0);
        return;
    }
    uint64_t rate = link_->line_rate();
    uint64_t frame = rate * frame_time_usec / 1'000'000;
    uint64_t headers = link_->vj_to_peer() ? 10 : 46;   // VJ's few octets or IP + TCP, and PPP's
    auto mss = static_cast<uint16_t>(std::clamp<uint64_t>(frame > headers ? frame - headers : 0, 128, 1460));
    auto window = static_cast<uint32_t>(std::max<uint64_t>(4u * mss, rate / 10));
    stack_->set_segment_limits(mss, window);
    flow_cap_ = std::max<size_t>(1024, rate / 20);
    queue_cap_ = std::max<size_t>(16 * 1024, rate);
    log::info("paced at {} octets/s: TCP segments of at most {} octets, window {}", rate, mss, window);
}

// Whether a TCP connection must hold new data back: the line's own queue is backed up,
// or (paced) the connection's flow has flow_cap_ queued, or the queue is at queue_cap_
// and the flow has something queued already (a flow with nothing queued may always
// send: its packet is one the queue serves first).
bool Session::link_busy(const stack::TcpKey &k) const
{
    if (line_ && line_->congested())
        return true;
    if (!link_->paced())
        return false;
    const auto &q = link_->queue();
    size_t mine = q.bytes_of(flow_of(k));
    return mine >= flow_cap_ || (mine > 0 && q.bytes() >= queue_cap_);
}

int Session::on_resume(sd_event_source *, void *userdata) noexcept
{
    auto *self = static_cast<Session *>(userdata);
    return log::contained("paced output", [self] {
        self->stack_->resume_output(self->now());
        self->rearm();
    });
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
    return log::contained("PPP timer", [self] {
        uint64_t now = self->now();
        self->link_->advance(now);
        self->stack_->advance(now);
        self->rearm();
        self->report();
    });
}

void Session::set_line(Line *line)
{
    line_ = line;
    if (line_)
        line_->on_drained = [this] {
            stack_->resume_output(now());
            rearm();
        };
    report();
}

void Session::set_port_maps(std::vector<PortMap> tcp, std::vector<PortMap> udp)
{
    auto same = [](const PortMap &a, const PortMap &b) {
        return a.address == b.address && a.port == b.port && a.targets_text() == b.targets_text();
    };
    auto contains = [&](const std::vector<PortMap> &v, const PortMap &m) {
        return std::any_of(v.begin(), v.end(), [&](const PortMap &x) { return same(x, m); });
    };
    for (const auto &m : tcp_ports_)
        if (!contains(tcp, m))
            tcp_->remove(m.address, m.port);
    for (const auto &m : udp_ports_)
        if (!contains(udp, m))
            udp_->remove(m.address, m.port);
    for (const auto &m : tcp)
        if (!contains(tcp_ports_, m))
            tcp_->add(m);
    for (const auto &m : udp)
        if (!contains(udp_ports_, m))
            udp_->add(m);
    tcp_ports_ = std::move(tcp);
    udp_ports_ = std::move(udp);
}

void Session::set_dns_upstreams(std::vector<net::Address> upstreams)
{
    if (dns_) {
        dns_->set_upstreams(std::move(upstreams));
        return;
    }
    if (upstreams.empty())
        return;
    if (auto d = DnsProxy::create(event_, *stack_, net::Address::v4(local_), std::move(upstreams), {}); d) {
        dns_ = std::move(*d);
        if (auto a6 = stack_->ipv6_address())
            dns_->listen_on(stack::to_address(*a6));
    } else
        log::warning("DNS proxy: {}", d.error().to_string());
}

void Session::report()
{
    bool network = link_->ipcp_state() == ppp::State::Opened;
    bool line = line_ != nullptr;
    if (link_->phase() == reported_phase_ && network == reported_network_ && line == reported_line_)
        return;
    reported_line_ = line;
    reported_phase_ = link_->phase();
    reported_network_ = network;
    if (network) {
        const auto &s = link_->lcp_settings();
        const auto &ipcp = link_->ipcp_options();
        std::string peer = ipcp.peer().empty() ? "unnamed" : ipcp.peer().to_string();
        std::string dns;
        for (const auto *d : {&ipcp.dns1(), &ipcp.dns2()})
            if (!d->empty())
                dns += (dns.empty() ? ", DNS " : " ") + d->to_string();
        log::info("PPP up: {} {}, peer {}{} (MRU {}, ACCM {:08x}{}{})", ipcp.config().client ? "got" : "address",
                  ipcp.local().to_string(), peer, ipcp.config().client ? dns : "", s.send_mru, s.send_accm,
                  s.send_pfc ? ", PFC" : "", s.send_acfc ? ", ACFC" : "");
        notify::status(fmt::format("network: {}, peer {}", ipcp.local().to_string(), peer));
    } else {
        log::info("PPP phase {}", to_string(reported_phase_));
        notify::status(fmt::format("phase {}", to_string(reported_phase_)));
    }
    if (on_state_changed)
        on_state_changed();
}

std::map<std::string, uint64_t> Session::counters() const
{
    const auto &f = link_->framing_stats();
    const auto &k = link_->stats();
    const auto &ip = stack_->stats();
    const auto &t = tcp_->stats();
    const auto &u = udp_->stats();
    const auto tt = stack_->tcp_totals();
    std::map<std::string, uint64_t> c = {
        {"line-bytes-in", f.bytes},          {"frames-in", f.frames},
        {"fcs-errors", f.fcs_errors},        {"frames-too-long", f.too_long},
        {"frames-too-short", f.too_short},   {"aborts", f.aborts},
        {"escapes-in", f.escapes},           {"dropped-controls", f.dropped_controls},
        {"line-bytes-out", k.bytes_out},     {"frames-out", k.frames_out},
        {"bad-frames", k.bad_frames},        {"ip-in", k.ip_in},
        {"ip-out", k.ip_out},                {"ip-dropped", k.ip_dropped},
        {"protocol-rejects", k.protocol_rejects}, {"echo-timeouts", k.echo_timeouts},
        {"vj-compressed-out", k.vj_compressed_out}, {"vj-uncompressed-out", k.vj_uncompressed_out},
        {"vj-compressed-in", k.vj_compressed_in}, {"vj-uncompressed-in", k.vj_uncompressed_in},
        {"vj-errors", k.vj_errors},          {"vj-tossed", k.vj_tossed},
        {"vj-octets-saved", k.vj_octets_saved},
        {"queued-packets", k.queued_packets}, {"queue-drops", k.queue_drops},
        {"queue-delay-max-usec", k.queue_delay_max_usec},
        {"deflate-out", k.deflate_out},      {"deflate-plain-out", k.deflate_plain_out},
        {"deflate-in", k.deflate_in},        {"deflate-plain-in", k.deflate_plain_in},
        {"deflate-octets-out", k.deflate_octets_out},
        {"deflate-compressed-octets-out", k.deflate_compressed_octets_out},
        {"deflate-octets-in", k.deflate_octets_in},
        {"deflate-compressed-octets-in", k.deflate_compressed_octets_in},
        {"deflate-errors", k.deflate_errors}, {"deflate-dropped", k.deflate_dropped},
        {"deflate-resets-sent", k.deflate_resets_sent}, {"deflate-resets-received", k.deflate_resets_received},
        {"link-restarts", k.link_restarts},  {"line-dropped", line_ ? line_->dropped() : 0},
        {"packets-in", ip.packets_in},       {"bad-packets", ip.bad_packets},
        {"fragments", ip.fragments},         {"echo-replies", ip.echo_replies},
        {"tcp-resets", ip.resets},           {"port-unreachables", ip.port_unreachables},
        {"ipv6-in", k.ipv6_in},               {"ipv6-out", k.ipv6_out},
        {"icmpv6-in", ip.icmpv6_in},          {"icmpv6-bad", ip.icmpv6_bad},
        {"echo6-replies", ip.echo6_replies},  {"icmpv6-errors", ip.icmpv6_errors},
        {"auth-successes", k.auth_successes}, {"auth-failures", k.auth_failures},
        {"auth-refused", k.auth_refused},     {"auth-packets-in", k.auth_packets_in},
        {"auth-discarded", k.auth_discarded},
        {"listen-accepted", t.listen_accepted}, {"listen-refused", t.listen_refused},
        {"tcp-accepted", ip.tcp_accepted},   {"tcp-opened", ip.tcp_opened},        {"tcp-limited", ip.tcp_limited},
        {"tcp-rate-limited", ip.tcp_rate_limited}, {"lockouts", ip.lockouts},
        {"tcp-idle-resets", ip.tcp_idle_resets}, {"host-unreachables", ip.host_unreachables},
        {"tcp-connected", t.connected},      {"tcp-refused", t.refused},
        {"tcp-unreachable", t.unreachable},  {"tcp-host-resets", t.host_resets},
        {"tcp-failovers", t.failovers},      {"socks-connected", t.socks_connected},
        {"socks-failed", t.socks_failed},
        {"bytes-to-host", t.bytes_to_host},  {"bytes-from-host", t.bytes_from_host},
        {"udp-datagrams-out", u.datagrams_out}, {"udp-datagrams-in", u.datagrams_in},
        {"udp-flows", u.flows_opened},       {"udp-errors", u.errors},
        {"tcp-segments-in", tt.segments_in}, {"tcp-segments-out", tt.segments_out},
        {"tcp-retransmits", tt.retransmits}, {"tcp-fast-retransmits", tt.fast_retransmits},
        {"tcp-timeouts", tt.timeouts},       {"tcp-sack-recoveries", tt.sack_recoveries},
        {"tcp-lost-retransmits", tt.lost_retransmits}, {"tcp-out-of-order", tt.out_of_order}};
    for (auto [name, cs] : {std::pair{"lcp", link_->lcp_stats()}, std::pair{"ipcp", link_->ipcp_stats()},
                            std::pair{"ccp", link_->ccp_stats()}}) {
        c[fmt::format("{}-packets-in", name)] = cs.packets_in;
        c[fmt::format("{}-discarded", name)] = cs.discarded;
    }
    c["capture-frames"] = capture_frames_ + (capture_ ? capture_->frames() : 0);
    c["capture-dropped"] = capture_dropped_ + (capture_ ? capture_->dropped() : 0);
    c["echo-rtt-usec"] = k.echo_rtt_usec;
    c["escapes-out"] = k.escapes_out;
    c["lcp-echo-requests-in"] = link_->lcp_stats().echo_requests;
    c["lcp-echo-replies-in"] = link_->lcp_stats().echo_replies;
    if (const auto *d = dns_.get()) {
        c["dns-queries"] = d->stats().queries;
        c["dns-answers"] = d->stats().answers;
        c["dns-timeouts"] = d->stats().timeouts;
        c["dns-dropped"] = d->stats().dropped;
    }
    return c;
}

} // namespace alopex::slirp
