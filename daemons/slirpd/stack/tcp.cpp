// SPDX-License-Identifier: GPL-2.0-or-later
// TCP: opening, the application's side, closing, timers (tcp_input.cpp handles segments,
// tcp_output.cpp sends them).
#include "tcp.hpp"

#include <algorithm>

namespace alopex::slirp::stack::tcp {

std::string_view to_string(State s)
{
    switch (s) {
    case State::Closed: return "closed";
    case State::SynPending: return "syn-pending";
    case State::SynSent: return "syn-sent";
    case State::SynReceived: return "syn-received";
    case State::Established: return "established";
    case State::FinWait1: return "fin-wait-1";
    case State::FinWait2: return "fin-wait-2";
    case State::CloseWait: return "close-wait";
    case State::Closing: return "closing";
    case State::LastAck: return "last-ack";
    case State::TimeWait: return "time-wait";
    }
    return "?";
}

std::string_view to_string(CloseReason r)
{
    switch (r) {
    case CloseReason::Done: return "done";
    case CloseReason::Reset: return "reset";
    case CloseReason::Timeout: return "timeout";
    case CloseReason::Refused: return "refused";
    case CloseReason::Aborted: return "aborted";
    }
    return "?";
}

static_assert(sizeof(Stats) == 13 * sizeof(uint64_t), "add_stats() adds every counter");

void add_stats(Stats &a, const Stats &b)
{
    a.segments_in += b.segments_in, a.segments_out += b.segments_out;
    a.bytes_in += b.bytes_in, a.bytes_out += b.bytes_out;
    a.retransmits += b.retransmits, a.fast_retransmits += b.fast_retransmits, a.timeouts += b.timeouts;
    a.sack_recoveries += b.sack_recoveries, a.lost_retransmits += b.lost_retransmits;
    a.out_of_order += b.out_of_order, a.duplicates += b.duplicates, a.challenge_acks += b.challenge_acks;
    a.window_probes += b.window_probes;
}

Connection::Connection(Config config, uint16_t local_port, uint16_t remote_port, uint32_t iss, Output output)
    : cfg_(config), lport_(local_port), rport_(remote_port), output_(std::move(output)), iss_(iss),
      snd_una_(iss), snd_nxt_(iss), snd_max_(iss), buf_seq_(iss + 1), recover_(iss), rto_(config.rto_initial)
{
    cfg_.mss = std::max<uint16_t>(cfg_.mss, 64);
    cfg_.receive_buffer = std::clamp<uint32_t>(cfg_.receive_buffer, cfg_.mss * 2u, 1u << 30);
    cfg_.send_buffer = std::max<uint32_t>(cfg_.send_buffer, cfg_.mss);
    sndbuf_ = ByteQueue(cfg_.send_buffer);
    rcvbuf_ = ByteQueue(cfg_.receive_buffer + (1u << 14));   // the window's rounding to the scale
    // Our window scale (RFC 7323 §2.3): the smallest shift that lets the whole receive
    // buffer be advertised.
    while ((cfg_.receive_buffer >> rcv_shift_) > 0xffff && rcv_shift_ < 14)
        ++rcv_shift_;
}

void Connection::set_state(State s)
{
    state_ = s;
}

// After every public call: the application's events, in order, then the owner's bookkeeping.
void Connection::finish_call()
{
    while (events_ && pending_) {
        uint8_t p = pending_;
        pending_ = 0;
        if (p & ev_established)
            events_->established();
        if (events_ && (p & ev_writable) && send_space() > 0)
            events_->writable();
        if (events_ && (p & ev_readable) && !rcvbuf_.empty())
            events_->readable();
        if (events_ && (p & ev_peer_closed))
            events_->peer_closed();
    }
    // An orderly close reaches the application once it has read everything.
    if (events_ && closed_waiting_ && (close_reason_ != CloseReason::Done || rcvbuf_.empty())) {
        Events *e = events_;
        events_ = nullptr;
        closed_waiting_ = false;
        e->closed(close_reason_);
    }
    if (!events_) {
        pending_ = 0;
        closed_waiting_ = false;
    }
    if (owner_)
        owner_->changed(*this);
}

void Connection::stop_timers()
{
    rto_at_ = persist_at_ = delack_at_ = keepalive_at_ = time_wait_at_ = 0;
}

void Connection::close_with(CloseReason r, bool notify)
{
    if (state_ == State::Closed)
        return;
    bool told = state_ == State::TimeWait;   // the application heard of it on entering TIME-WAIT
    state_ = State::Closed;
    stop_timers();
    sndbuf_.clear();
    ooo_.clear();
    ooo_bytes_ = 0;
    if (r != CloseReason::Done)
        rcvbuf_.clear();   // an abort discards what was not read (RFC 9293 §3.10.5)
    close_reason_ = r;
    if (!notify)
        events_ = nullptr;
    else if (!told)
        closed_waiting_ = true;
}

void Connection::enter_time_wait(uint64_t now)
{
    set_state(State::TimeWait);
    stop_timers();
    sndbuf_.clear();
    time_wait_at_ = now + cfg_.time_wait;
    close_reason_ = CloseReason::Done;
    closed_waiting_ = true;
}

void Connection::take_options(const Tcp &syn)
{
    if (syn.options.mss)
        snd_mss_ = std::clamp<uint16_t>(*syn.options.mss, 64, cfg_.mss);
    else
        snd_mss_ = std::min<uint16_t>(536, cfg_.mss);
    // Window scaling only when both sides send the option (RFC 7323 §2.2); a shift above
    // 14 is taken as 14 (§2.3).
    ws_ok_ = syn.options.window_scale.has_value();
    sack_ok_ = cfg_.sack && syn.options.sack_permitted;   // RFC 2018 §2: in both SYNs
    if (ws_ok_)
        snd_shift_ = std::min<uint8_t>(*syn.options.window_scale, 14);
    else
        rcv_shift_ = 0;
    cwnd_ = std::min(10u * snd_mss_, std::max(2u * snd_mss_, 14600u));   // RFC 6928's initial window
}

void Connection::syn_arrived(const Tcp &syn, uint64_t now)
{
    if (state_ != State::Closed)
        return;
    irs_ = syn.seq;
    rcv_nxt_ = syn.seq + 1;
    take_options(syn);
    snd_wnd_ = syn.window;   // never scaled in a SYN
    max_snd_wnd_ = snd_wnd_;
    snd_wl1_ = syn.seq;
    last_activity_ = now;
    set_state(State::SynPending);
    finish_call();
}

void Connection::accept(uint64_t now)
{
    if (state_ != State::SynPending)
        return;
    set_state(State::SynReceived);
    send_syn(true);
    snd_nxt_ = snd_max_ = iss_ + 1;
    rtt_start_ = now;
    arm_rto(now);
    finish_call();
}

void Connection::refuse()
{
    if (state_ != State::SynPending)
        return;
    send_segment(0, tcp_flag::rst | tcp_flag::ack, {});   // RFC 9293 §3.10.7.1's answer to the SYN
    close_with(CloseReason::Aborted, false);
    finish_call();
}

void Connection::connect(uint64_t now)
{
    if (state_ != State::Closed)
        return;
    // Our SYN offers window scaling; the peer's SYN-ACK decides (take_options).
    set_state(State::SynSent);
    send_syn(false);
    snd_nxt_ = snd_max_ = iss_ + 1;
    last_activity_ = rtt_start_ = now;
    arm_rto(now);
    finish_call();
}

void Connection::established_now(uint64_t now)
{
    set_state(State::Established);
    retries_ = 0;
    rto_at_ = 0;
    if (cfg_.keepalive_idle)
        keepalive_at_ = now + cfg_.keepalive_idle;
    pending_ |= ev_established | ev_writable;
    if (fin_queued_)
        set_state(State::FinWait1);
    output(now);
}

size_t Connection::send_space() const
{
    if ((state_ != State::Established && state_ != State::CloseWait) || fin_queued_)
        return 0;
    return cfg_.send_buffer - std::min<size_t>(cfg_.send_buffer, sndbuf_.size());
}

size_t Connection::write(std::span<const uint8_t> bytes, uint64_t now)
{
    size_t n = std::min(bytes.size(), send_space());
    if (n == 0)
        return 0;
    sndbuf_.append(bytes.first(n));
    last_activity_ = now;
    output(now);
    finish_call();
    return n;
}

void Connection::consume(size_t n, uint64_t now)
{
    if (n == 0)
        return;
    uint32_t before = receive_window();
    rcvbuf_.consume(n);
    uint32_t after = receive_window();
    // A window update once the window has opened by two segments or half the buffer
    // (RFC 9293 §3.8.6.2.2, receiver-side silly-window avoidance).
    if (after > before && (after - before >= 2u * cfg_.mss || after - before >= cfg_.receive_buffer / 2) &&
        (state_ == State::Established || state_ == State::FinWait1 || state_ == State::FinWait2)) {
        send_ack();
    }
    (void)now;
    finish_call();
}

void Connection::shutdown(uint64_t now)
{
    if (fin_queued_)
        return;
    switch (state_) {
    case State::SynPending:
    case State::SynSent:
        // Nothing was opened to close in order: the attempt ends (a RST for a held SYN),
        // and the application hears it like any other end.
        kill(CloseReason::Aborted);
        return;
    case State::SynReceived: fin_queued_ = true; return;   // FIN-WAIT-1 once established
    case State::Established: set_state(State::FinWait1); break;
    case State::CloseWait: set_state(State::LastAck); break;
    default: return;
    }
    fin_queued_ = true;
    output(now);
    finish_call();
}

void Connection::abort()
{
    switch (state_) {
    case State::SynPending: refuse(); return;
    case State::Closed:
    case State::TimeWait:
    case State::SynSent: break;
    default: send_rst(snd_max_); break;
    }
    close_with(CloseReason::Aborted, false);
    finish_call();
}

void Connection::resume(uint64_t now)
{
    if (state_ == State::Closed)
        return;
    output(now);
    finish_call();
}

void Connection::discard()
{
    close_with(CloseReason::Aborted, false);
    finish_call();
}

void Connection::kill(CloseReason r)
{
    if (state_ == State::Closed)
        return;
    if (state_ == State::SynPending)
        send_segment(0, tcp_flag::rst | tcp_flag::ack, {});
    else if (state_ != State::SynSent && state_ != State::TimeWait)
        send_rst(snd_max_);
    close_with(r);
    finish_call();
}

size_t Connection::memory() const noexcept
{
    return sndbuf_.capacity_bytes() + rcvbuf_.capacity_bytes() + ooo_bytes_;
}

uint64_t Connection::next_deadline() const
{
    uint64_t next = UINT64_MAX;
    for (uint64_t t : {rto_at_, persist_at_, delack_at_, keepalive_at_, time_wait_at_})
        if (t)
            next = std::min(next, t);
    return next;
}

void Connection::advance(uint64_t now)
{
    if (time_wait_at_ && now >= time_wait_at_) {
        close_with(CloseReason::Done);
        finish_call();
        return;
    }
    if (delack_at_ && now >= delack_at_)
        send_ack();
    if (rto_at_ && now >= rto_at_)
        on_rto(now);
    if (state_ != State::Closed && persist_at_ && now >= persist_at_)
        on_persist(now);
    if (state_ != State::Closed && keepalive_at_ && now >= keepalive_at_)
        on_keepalive(now);
    finish_call();
}

} // namespace alopex::slirp::stack::tcp
