// SPDX-License-Identifier: GPL-2.0-or-later
#include "link.hpp"

#include <algorithm>
#include <cerrno>

namespace alopex::slirp::ppp {

namespace {

constexpr size_t frame_overhead = 4 + 4;   // address, control, protocol; FCS-32 at most

LinkConfig with_auth(LinkConfig c)
{
    c.lcp.auth = c.auth.protocols;
    return c;
}

DecoderOptions unnegotiated(const LcpWants &w)
{
    // Before LCP: every control character is escaped by the peer, so a raw one was
    // inserted by the line; frames up to what we can take (1500 at least).
    return {std::max<size_t>(w.mru, default_mru) + frame_overhead, default_accm, Fcs::Fcs16};
}

} // namespace

std::string_view to_string(Phase p)
{
    static constexpr std::string_view names[] = {"dead", "establish", "authenticate", "network", "terminate"};
    return names[static_cast<int>(p)];
}

Link::Link(LinkConfig config, std::function<uint32_t()> random, Callbacks callbacks)
    : config_(with_auth(std::move(config))), cb_(std::move(callbacks)), random_(std::move(random)),
      lcp_options_(config_.lcp, random_),
      ipcp_options_(config_.ipcp), ipv6cp_options_(config_.ipv6cp, random_), ccp_options_(config_.ccp),
      decoder_(unnegotiated(config_.lcp))
{
    auto send = [this](uint16_t protocol, std::vector<uint8_t> info) { this->send(protocol, info); };
    lcp_ = std::make_unique<ControlProtocol>(
        proto_lcp, negotiator_for(lcp_options_), send,
        ControlProtocol::Layer{[this] { lcp_up(); }, [this] { lcp_down(); },
                               [this] { phase_ = Phase::Establish; }, [this] { lcp_finished(); }},
        config_.limits);
    lcp_->set_lcp_extras({[this](uint16_t protocol) {
                              if (protocol == proto_ipcp)
                                  ipcp_->protocol_rejected();
                              else if (protocol == proto_ipv6cp && ipv6cp_)
                                  ipv6cp_->protocol_rejected();
                          },
                          [this](uint8_t id, std::span<const uint8_t>) {
                              if (id != echo_id_)
                                  return;
                              echo_outstanding_ = 0;
                              stats_.echo_rtt_usec = now_ - echo_sent_at_;
                          },
                          [this] { return lcp_options_.settings().our_magic; }, [this] { ++echo_loopbacks_; }});
    ipcp_ = std::make_unique<ControlProtocol>(
        proto_ipcp, negotiator_for(ipcp_options_), send,
        ControlProtocol::Layer{[this] { ipcp_up(); }, [this] { ipcp_down(); }, {}, {}},
        config_.limits);
    ccp_setup();
    if (config_.ipv6cp.enabled)
        ipv6cp_ = std::make_unique<ControlProtocol>(
            proto_ipv6cp, negotiator_for(ipv6cp_options_), send,
            ControlProtocol::Layer{[this] {
                                       if (cb_.ipv6_up)
                                           cb_.ipv6_up();
                                   },
                                   {}, {}, {}},
            config_.limits);
}

void Link::start(uint64_t now)
{
    now_ = now;
    phase_ = Phase::Establish;
    lcp_->open();
    lcp_->up();
    sync_timers();
}

void Link::stop(uint64_t now)
{
    now_ = now;
    close_pending_ = reopen_after_ = false;
    reopen_at_ = 0;
    lcp_->down();
    phase_ = Phase::Dead;
    sync_timers();
}

void Link::close(uint64_t now)
{
    now_ = now;
    lcp_->close();
    if (lcp_->state() == State::Closing)
        phase_ = Phase::Terminate;
    sync_timers();
}

void Link::lcp_up()
{
    apply_framing(true);
    echo_outstanding_ = 0;
    echo_deadline_ = config_.echo_interval_usec ? now_ + config_.echo_interval_usec : 0;
    if (!auth_start())
        network_start();
}

void Link::network_start()
{
    phase_ = Phase::Network;
    if (ccp_) {   // as pppd: CCP first, then the network protocols
        ccp_->up();
        ccp_->open();
    }
    ipcp_->up();
    ipcp_->open();
    if (ipv6cp_) {
        ipv6cp_->up();
        ipv6cp_->open();
    }
}

void Link::lcp_down()
{
    auth_live_ = false;   // kept (it may be the caller), but deaf and without a timer
    if (ccp_)
        ccp_->down();
    ipcp_->down();
    if (ipv6cp_)
        ipv6cp_->down();
    apply_framing(false);
    echo_deadline_ = 0;
    phase_ = Phase::Establish;
}

void Link::ipcp_up()
{
    // VJ each way as IPCP agreed: toward the peer what its request asked, from it what
    // ours did (RFC 1332 §3.2).
    auto to = ipcp_options_.vj_to_peer();
    auto from = ipcp_options_.vj_from_peer();
    vj_out_.reset();
    vj_in_.reset();
    if (to)
        vj_out_.emplace(*to);
    if (from)
        vj_in_.emplace(*from);
    if (cb_.network_up)
        cb_.network_up();
}

void Link::ipcp_down()
{
    queue_.clear();   // for a network that is gone
    vj_out_.reset();
    vj_in_.reset();
    if (cb_.network_down)
        cb_.network_down();
}

void Link::apply_framing(bool open)
{
    if (!open) {
        encoder_ = {};
        decoder_.set_options(unnegotiated(config_.lcp));
        return;
    }
    const LcpSettings &s = lcp_options_.settings();
    encoder_ = {s.send_accm, s.send_acfc, s.send_pfc, Fcs::Fcs16};
    decoder_.set_options({std::max<size_t>(s.receive_mru, default_mru) + frame_overhead, s.receive_accm, Fcs::Fcs16});
}

void Link::send(uint16_t protocol, std::span<const uint8_t> info)
{
    out_.clear();
    stats_.escapes_out += encode(out_, protocol, info, encoder_);
    ++stats_.frames_out;
    stats_.bytes_out += out_.size();
    if (paced())   // the time the line needs for these octets, after what it has
        line_free_at_ = std::max(line_free_at_, now_) + (out_.size() * 1'000'000 + config_.line_rate - 1) / config_.line_rate;
    if (cb_.frame_seen)
        cb_.frame_seen(true, protocol, info);
    if (cb_.line_output)
        cb_.line_output(out_);
}

bool Link::send_ip(std::span<const uint8_t> packet, uint64_t now)
{
    now_ = std::max(now_, now);
    // Empty, a frame a receiver would discard as too short (RFC 1662 §4.3).
    bool v6 = !packet.empty() && packet[0] >> 4 == 6;
    State ncp = v6 ? ipv6cp_state() : ipcp_->state();
    if (ncp != State::Opened || packet.empty() || packet.size() > lcp_options_.settings().send_mru) {
        ++stats_.ip_dropped;
        return false;
    }
    ++stats_.ip_out;
    stats_.ipv6_out += v6;
    if (!paced()) {
        encode_ip(packet);
        return true;
    }
    uint64_t drops = queue_.dropped();
    queue_.push(packet, now_);
    ++stats_.queued_packets;
    stats_.queue_drops += queue_.dropped() - drops;
    pump();
    return true;
}

// Paced: frames from the queue while the line holds less than the lead. Packets are
// compressed as they leave, in the order the line carries them (VJ's implicit connection
// numbers and Deflate's history need that order).
void Link::pump()
{
    if (pumping_)
        return;
    pumping_ = true;
    bool sent = false;
    while (!queue_.empty() && line_free_at_ <= now_ + config_.pace_lead_usec) {
        if (cb_.line_busy && cb_.line_busy()) {
            line_free_at_ = now_ + config_.pace_lead_usec + 10'000;
            break;
        }
        auto p = queue_.pop(now_);
        if (!p)
            break;
        stats_.queue_delay_max_usec = std::max(stats_.queue_delay_max_usec, now_ - std::min(now_, p->queued_at));
        encode_ip(p->bytes);
        sent = true;
    }
    pumping_ = false;
    if (sent && cb_.output_space)
        cb_.output_space();
}

// VJ, then Deflate (send_data), as the kernel does.
void Link::encode_ip(std::span<const uint8_t> packet)
{
    if (packet[0] >> 4 == 6) {   // no header compression for IPv6
        send_data(proto_ipv6, packet);
        return;
    }
    if (!vj_out_) {
        send_data(proto_ip, packet);
        return;
    }
    vj_buf_.clear();
    uint64_t saved = vj_out_->stats().header_octets_saved;
    switch (vj_out_->compress(packet, vj_buf_)) {
    case vj::Kind::Ip: send_data(proto_ip, vj_buf_); break;
    case vj::Kind::Uncompressed:
        ++stats_.vj_uncompressed_out;
        send_data(proto_vj_uncompressed, vj_buf_);
        break;
    case vj::Kind::Compressed:
        ++stats_.vj_compressed_out;
        stats_.vj_octets_saved += vj_out_->stats().header_octets_saved - saved;
        send_data(proto_vj_compressed, vj_buf_);
        break;
    }
}

void Link::line_input(std::span<const uint8_t> bytes, uint64_t now)
{
    now_ = now;
    decoder_.feed(bytes, [this](std::span<const uint8_t> f) { frame(f); });
    settle();
    sync_timers();
}

void Link::frame(std::span<const uint8_t> f)
{
    // A frame lost on the line since the last one: VJ tosses until a packet names its
    // slot (RFC 1144 §4.2).
    const auto &d = decoder_.stats();
    uint64_t errors = d.fcs_errors + d.too_long + d.aborts;
    if (errors != line_errors_) {
        line_errors_ = errors;
        if (vj_in_)
            vj_in_->line_error();
    }
    auto p = parse_frame(f);
    if (!p) {
        ++stats_.bad_frames;
        return;
    }
    if (cb_.frame_seen)
        cb_.frame_seen(false, p->protocol, p->info);
    if (p->protocol == proto_lcp) {
        lcp_->input(p->info);
        return;
    }
    if (lcp_->state() != State::Opened) {
        ++stats_.early_packets;   // RFC 1661 §3.4: only LCP before the Network phase
        return;
    }
    if (auth_ && p->protocol == auth_->protocol()) {
        if (auth_live_)
            auth_input(p->info);
        else
            ++stats_.early_packets;
        return;
    }
    if (phase_ == Phase::Authenticate) {
        ++stats_.early_packets;   // RFC 1661 §3.5: the NCPs wait for authentication
        return;
    }
    if (ccp_ && p->protocol == proto_ccp) {
        ccp_->input(p->info);
        return;
    }
    if (ccp_ && p->protocol == proto_compressed) {
        compressed_input(p->info);
        return;
    }
    // What came as it was is in the peer's Deflate history too.
    if (deflate_in_ && deflate_carries(p->protocol)) {
        deflate_in_->incompressible(p->protocol, p->info);
        if (!deflate_in_->stalled())
            ++stats_.deflate_plain_in;
    }
    network_input(p->protocol, p->info);
}

void Link::network_input(uint16_t protocol, std::span<const uint8_t> info)
{
    switch (protocol) {
    case proto_ipcp:
        ipcp_->input(info);
        return;
    case proto_ipv6cp:
    case proto_ipv6:
        if (!ipv6cp_)
            goto reject;   // IPv6 not configured: as a pppd without +ipv6
        if (protocol == proto_ipv6cp) {
            ipv6cp_->input(info);
            return;
        }
        if (ipv6cp_state() != State::Opened || info.empty() || info[0] >> 4 != 6) {
            ++stats_.ip_dropped;
            return;
        }
        ++stats_.ip_in;
        ++stats_.ipv6_in;
        if (cb_.ip_input)
            cb_.ip_input(info);
        return;
    case proto_ip:
        if (ipcp_->state() != State::Opened) {
            ++stats_.ip_dropped;
            return;
        }
        ++stats_.ip_in;
        if (cb_.ip_input)
            cb_.ip_input(info);
        return;
    case proto_vj_compressed:
    case proto_vj_uncompressed:
        if (vj_in_ && ipcp_->state() == State::Opened) {
            vj_input(protocol, info);
            return;
        }
        [[fallthrough]];   // not negotiated
    default:   // CCP, IPV6CP, anything else: not carried here
    reject:
        ++stats_.protocol_rejects;
        lcp_->send_protocol_reject(protocol, info, lcp_options_.settings().send_mru);
        return;
    }
}

void Link::vj_input(uint16_t protocol, std::span<const uint8_t> info)
{
    vj_buf_.clear();
    bool compressed = protocol == proto_vj_compressed;
    auto r = compressed ? vj_in_->compressed(info, vj_buf_) : vj_in_->uncompressed(info, vj_buf_);
    if (!r) {
        ++(r.error().code == EAGAIN ? stats_.vj_tossed : stats_.vj_errors);
        return;
    }
    ++(compressed ? stats_.vj_compressed_in : stats_.vj_uncompressed_in);
    ++stats_.ip_in;
    if (cb_.ip_input)
        cb_.ip_input(vj_buf_);
}

void Link::sync(Timer &t, const ControlProtocol &cp)
{
    if (!cp.timer_running()) {
        t.deadline = 0;
        return;
    }
    if (t.deadline == 0 || t.generation != cp.timer_generation()) {
        t.deadline = now_ + config_.restart_usec;
        t.generation = cp.timer_generation();
    }
}

void Link::sync_timers()
{
    sync(lcp_timer_, *lcp_);
    sync(ipcp_timer_, *ipcp_);
    if (ccp_)
        sync(ccp_timer_, *ccp_);
    if (ipv6cp_)
        sync(ipv6cp_timer_, *ipv6cp_);
}

void Link::advance(uint64_t now)
{
    now_ = now;
    // Each firing re-arms from `now`, so a loop over a long jump stays bounded.
    for (int round = 0; round < 8; ++round) {
        bool fired = false;
        if (lcp_timer_.deadline && lcp_timer_.deadline <= now_) {
            lcp_timer_.deadline = 0;
            lcp_->timeout();
            fired = true;
        }
        if (ipcp_timer_.deadline && ipcp_timer_.deadline <= now_) {
            ipcp_timer_.deadline = 0;
            ipcp_->timeout();
            fired = true;
        }
        if (ccp_timer_.deadline && ccp_timer_.deadline <= now_) {
            ccp_timer_.deadline = 0;
            ccp_->timeout();
            fired = true;
        }
        if (ipv6cp_timer_.deadline && ipv6cp_timer_.deadline <= now_) {
            ipv6cp_timer_.deadline = 0;
            ipv6cp_->timeout();
            fired = true;
        }
        if (echo_deadline_ && echo_deadline_ <= now_) {
            echo_due();
            fired = true;
        }
        if (auth_ && auth_live_ && auth_->next_deadline() <= now_) {
            auth_->advance(now_);
            fired = true;
        }
        if (reopen_at_ && reopen_at_ <= now_) {
            reopen_at_ = 0;
            phase_ = Phase::Establish;
            lcp_->open();   // Closed: a new Configure-Request
            fired = true;
        }
        settle();
        sync_timers();
        if (!fired)
            break;
    }
    pump();
}

void Link::echo_due()
{
    if (echo_outstanding_ >= config_.echo_failures) {
        // The peer is gone (or the line): down, and negotiate again, as pppd does with
        // lcp-echo-failure; with nobody answering LCP stops and waits passively.
        ++stats_.echo_timeouts;
        ++stats_.link_restarts;
        echo_deadline_ = 0;
        lcp_->down();
        lcp_->up();
        return;
    }
    ++echo_outstanding_;
    echo_sent_at_ = now_;
    lcp_->send_echo_request(++echo_id_);
    echo_deadline_ = now_ + config_.echo_interval_usec;
}

uint64_t Link::next_deadline() const
{
    uint64_t next = UINT64_MAX;
    for (uint64_t d : {lcp_timer_.deadline, ipcp_timer_.deadline, ccp_timer_.deadline, ipv6cp_timer_.deadline,
                       echo_deadline_})
        if (d)
            next = std::min(next, d);
    if (auth_ && auth_live_)
        next = std::min(next, auth_->next_deadline());
    if (reopen_at_)
        next = std::min(next, reopen_at_);
    if (!queue_.empty())   // when the line has room for the next frame
        next = std::min(next, std::max<uint64_t>(line_free_at_ > config_.pace_lead_usec ? line_free_at_ - config_.pace_lead_usec : 0, 1));
    return next;
}

} // namespace alopex::slirp::ppp
