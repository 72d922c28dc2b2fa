// SPDX-License-Identifier: GPL-2.0-or-later
// TCP: segment arrival (RFC 9293 §3.10.7), in the order the RFC checks: sequence
// number, RST, SYN, ACK, text, FIN. RST and SYN follow RFC 5961 (challenge ACKs).
#include <algorithm>

#include "tcp.hpp"

namespace alopex::slirp::stack::tcp {

namespace {

constexpr size_t max_ooo_pieces = 64;

uint32_t seg_len(const Tcp &seg)
{
    return static_cast<uint32_t>(seg.payload.size()) + ((seg.flags & tcp_flag::syn) ? 1 : 0) +
           ((seg.flags & tcp_flag::fin) ? 1 : 0);
}

} // namespace

void Connection::input(const Tcp &seg, uint64_t now)
{
    ++stats_.segments_in;
    switch (state_) {
    case State::Closed: return;
    case State::SynPending:
        // The host side is still connecting: a retransmitted SYN waits with the first;
        // a RST for the SYN's sequence gives up.
        if ((seg.flags & tcp_flag::rst) && seg.seq == rcv_nxt_)
            close_with(CloseReason::Reset);
        finish_call();
        return;
    case State::SynSent:
        input_syn_sent(seg, now);
        finish_call();
        return;
    default: break;
    }
    last_activity_ = now;
    probes_ = 0;
    if (keepalive_at_)
        keepalive_at_ = now + cfg_.keepalive_idle;

    if (state_ == State::SynReceived && (seg.flags & tcp_flag::syn) && !(seg.flags & tcp_flag::ack) &&
        seg.seq == irs_) {
        send_syn(true);   // our SYN-ACK was lost
    } else if (!acceptable(seg, seg_len(seg))) {
        if (!(seg.flags & tcp_flag::rst)) {
            // A zero window accepts no data, but its ACK still counts (§3.10.7.4).
            if (receive_window() == 0 && seg.seq == rcv_nxt_ && (seg.flags & tcp_flag::ack))
                process_ack(seg, now);
            if (state_ != State::Closed) {
                ++stats_.duplicates;
                send_ack();
                if (state_ == State::TimeWait && (seg.flags & tcp_flag::fin))
                    time_wait_at_ = now + cfg_.time_wait;   // a retransmitted FIN restarts 2 MSL
                output(now);
            }
        }
    } else if (!check_rst_syn(seg) && (seg.flags & tcp_flag::ack) && process_ack(seg, now)) {
        process_text(seg, now);
        output(now);
    }
    finish_call();
}

// RFC 9293 §3.10.7.3: our SYN is out.
void Connection::input_syn_sent(const Tcp &seg, uint64_t now)
{
    bool ack = seg.flags & tcp_flag::ack;
    if (ack && (le(seg.ack, iss_) || gt(seg.ack, snd_max_))) {
        if (!(seg.flags & tcp_flag::rst))
            send_segment(seg.ack, tcp_flag::rst, {});
        return;
    }
    if (seg.flags & tcp_flag::rst) {
        if (ack)
            close_with(CloseReason::Refused);
        return;
    }
    if (!(seg.flags & tcp_flag::syn))
        return;
    last_activity_ = now;
    irs_ = seg.seq;
    rcv_nxt_ = rcv_adv_ = seg.seq + 1;
    take_options(seg);
    snd_wl1_ = seg.seq;
    if (ack) {
        snd_una_ = seg.ack;
        snd_wl2_ = seg.ack;
        snd_wnd_ = seg.window;   // a SYN-ACK's own window is never scaled (RFC 7323 §2.2)
        max_snd_wnd_ = snd_wnd_;
        if (retries_ == 0)
            rtt_sample(now - rtt_start_);   // Karn: not after a retransmitted SYN
        send_ack();
        established_now(now);
        return;
    }
    // Simultaneous open.
    set_state(State::SynReceived);
    snd_wnd_ = seg.window;
    send_syn(true);
    arm_rto(now);
}

bool Connection::acceptable(const Tcp &seg, uint32_t len) const
{
    uint32_t wnd = receive_window();
    if (len == 0)
        return wnd == 0 ? seg.seq == rcv_nxt_ : (ge(seg.seq, rcv_nxt_) && lt(seg.seq, rcv_nxt_ + wnd));
    if (wnd == 0)
        return false;
    uint32_t last = seg.seq + len - 1;
    return (ge(seg.seq, rcv_nxt_) && lt(seg.seq, rcv_nxt_ + wnd)) || (ge(last, rcv_nxt_) && lt(last, rcv_nxt_ + wnd));
}

// True when the segment was a RST or a SYN and has been dealt with.
bool Connection::check_rst_syn(const Tcp &seg)
{
    if (seg.flags & tcp_flag::rst) {
        if (seg.seq == rcv_nxt_) {
            close_with(CloseReason::Reset);
        } else {
            ++stats_.challenge_acks;   // RFC 5961 §3.2: in the window but not exact
            send_ack();
        }
        return true;
    }
    if (seg.flags & tcp_flag::syn) {
        ++stats_.challenge_acks;   // RFC 5961 §4.2
        send_ack();
        return true;
    }
    return false;
}

// False when the segment is to go no further.
bool Connection::process_ack(const Tcp &seg, uint64_t now)
{
    if (state_ == State::SynReceived) {
        if (!gt(seg.ack, snd_una_) || gt(seg.ack, snd_max_)) {
            send_segment(seg.ack, tcp_flag::rst, {});
            return false;
        }
        snd_una_ = seg.ack;
        snd_wnd_ = static_cast<uint32_t>(seg.window) << snd_shift_;
        max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
        snd_wl1_ = seg.seq;
        snd_wl2_ = seg.ack;
        if (retries_ == 0 && rtt_start_)
            rtt_sample(now - rtt_start_);
        established_now(now);
        return state_ != State::Closed;
    }
    uint32_t sent = snd_max_ + (probe_out_ && snd_nxt_ == snd_max_ ? 1 : 0);   // a window probe's byte
    if (gt(seg.ack, sent)) {
        send_ack();   // it acknowledges something never sent
        return false;
    }
    if (gt(seg.ack, snd_max_))
        snd_max_ = seg.ack;
    uint32_t wnd = static_cast<uint32_t>(seg.window) << snd_shift_;
    bool more_sacked = sack_ok_ && take_sack(seg);
    if (gt(seg.ack, snd_una_)) {
        new_ack(seg.ack, now);
    } else if (seg.ack == snd_una_ && snd_una_ != snd_max_ &&
               (more_sacked || (seg.payload.empty() && !(seg.flags & (tcp_flag::syn | tcp_flag::fin)) &&
                                wnd == snd_wnd_))) {
        duplicate_ack(now);   // RFC 5681 §2's definition, or new SACK information (RFC 6675 §2)
    }
    if (more_sacked && in_recovery_)
        detect_lost_retransmissions();
    update_window(seg);
    if (fin_sent_ && snd_una_ == data_end() + 1)
        our_fin_acked(now);
    return state_ != State::Closed;
}

void Connection::new_ack(uint32_t ack, uint64_t now)
{
    uint32_t acked = ack - snd_una_;
    if (gt(ack, buf_seq_)) {
        uint32_t d = std::min<uint32_t>(ack - buf_seq_, static_cast<uint32_t>(sndbuf_.size()));
        sndbuf_.consume(d);
        buf_seq_ += d;
        if (d)
            pending_ |= ev_writable;
    }
    snd_una_ = ack;
    if (gt(ack, snd_nxt_))
        snd_nxt_ = ack;   // a window probe's byte, or acked after a go-back
    trim_scoreboard();
    if (timing_ && gt(ack, rtt_seq_)) {
        rtt_sample(now - rtt_start_);
        timing_ = false;
    }
    retries_ = 0;
    backoff_ = 0;
    if (in_recovery_) {
        if (ge(ack, recover_)) {
            // RFC 6582 §3.2 step 3: the full ACK ends recovery.
            cwnd_ = std::min(ssthresh_, std::max(flight(), static_cast<uint32_t>(snd_mss_)) + snd_mss_);
            in_recovery_ = false;
            dupacks_ = 0;
        } else if (sack_ok_) {
            // RFC 6675 §5 step (C): output() after this ACK lets the pipe decide, holes first.
        } else {
            // A partial ACK: the next hole at once, the window deflated by what was acked.
            retransmit_first();
            cwnd_ = cwnd_ > acked ? cwnd_ - acked + snd_mss_ : snd_mss_;
        }
    } else {
        dupacks_ = 0;
        if (cwnd_ < ssthresh_)
            cwnd_ += std::min<uint32_t>(acked, snd_mss_);   // slow start
        else
            cwnd_ += std::max<uint32_t>(1, snd_mss_ * snd_mss_ / cwnd_);   // congestion avoidance
        cwnd_ = std::min<uint32_t>(cwnd_, 1u << 30);
    }
    if (snd_una_ == snd_max_)
        rto_at_ = 0;
    else
        arm_rto(now);
}

void Connection::duplicate_ack(uint64_t now)
{
    ++dupacks_;
    if (in_recovery_) {
        // With SACK the pipe counts what left the network (output() after this ACK);
        // without, RFC 5681 §3.2 step 4: each further duplicate inflates the window.
        if (!sack_ok_)
            cwnd_ += snd_mss_;
        return;
    }
    // RFC 6582 §3.2 step 1: the third duplicate, unless it belongs to a recovery already
    // done. Early retransmit (RFC 5827): with fewer than four segments outstanding and
    // nothing new to send, one duplicate fewer than there are segments.
    unsigned threshold = 3;
    uint32_t outstanding = (snd_max_ - snd_una_ + snd_mss_ - 1) / snd_mss_;
    if (outstanding < 4 && !lt(snd_max_, data_end()))
        threshold = std::max(1u, outstanding - 1);
    else
        output(now);   // limited transmit
    // With SACK also when the scoreboard says the first octet is lost (RFC 6675 §5 step 4).
    bool lost = sack_ok_ && is_lost(snd_una_);
    if ((dupacks_ == threshold || lost) && gt(snd_una_, recover_)) {
        if (sack_ok_) {
            enter_sack_recovery(now);
            return;
        }
        ++stats_.fast_retransmits;
        ssthresh_ = std::max<uint32_t>(flight() / 2, 2u * snd_mss_);
        recover_ = snd_max_;
        retransmit_first();
        cwnd_ = ssthresh_ + 3u * snd_mss_;
        in_recovery_ = true;
        arm_rto(now);
    }
}

void Connection::update_window(const Tcp &seg)
{
    if (!(lt(snd_wl1_, seg.seq) || (snd_wl1_ == seg.seq && le(snd_wl2_, seg.ack))))
        return;
    uint32_t before = snd_wnd_;
    snd_wnd_ = static_cast<uint32_t>(seg.window) << snd_shift_;
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    if (snd_wnd_ > 0 && before == 0) {
        persist_at_ = 0;
        persist_interval_ = 0;
        probe_out_ = false;
    }
}

void Connection::our_fin_acked(uint64_t now)
{
    rto_at_ = 0;
    switch (state_) {
    case State::FinWait1: set_state(State::FinWait2); break;
    case State::Closing: enter_time_wait(now); break;
    case State::LastAck: close_with(CloseReason::Done); break;
    default: break;
    }
}

void Connection::process_text(const Tcp &seg, uint64_t now)
{
    std::span<const uint8_t> data = seg.payload;
    uint32_t seq = seg.seq;
    bool fin = seg.flags & tcp_flag::fin;
    bool receiving = state_ == State::Established || state_ == State::FinWait1 || state_ == State::FinWait2;
    if (!receiving) {
        data = {};
    } else {
        if (lt(seq, rcv_nxt_)) {
            uint32_t skip = std::min<uint32_t>(rcv_nxt_ - seq, static_cast<uint32_t>(data.size()));
            data = data.subspan(skip);
            seq += skip;
        }
        uint32_t right = rcv_nxt_ + receive_window();
        if (gt(seq + static_cast<uint32_t>(data.size()), right)) {
            data = data.first(ge(seq, right) ? 0 : right - seq);
            fin = false;   // beyond the window: the FIN comes again
        }
    }
    if (!data.empty()) {
        if (seq == rcv_nxt_) {
            bool had_holes = !ooo_.empty();
            rcvbuf_.append(data);
            rcv_nxt_ += static_cast<uint32_t>(data.size());
            stats_.bytes_in += data.size();
            take_ooo();
            pending_ |= ev_readable;
            if (had_holes)
                send_ack();   // RFC 5681 §4.2: at once when a hole is filled
            else
                ack_later(now, data.size() >= snd_mss_);
        } else {
            ++stats_.out_of_order;
            uint32_t room = receive_window();
            if (ooo_.size() < max_ooo_pieces && ooo_bytes_ + data.size() <= room) {
                ooo_.push_back({seq, std::vector<uint8_t>(data.begin(), data.end())});
                ooo_bytes_ += data.size();
                last_ooo_seq_ = seq;
            }
            send_ack();   // a duplicate ACK tells the sender of the hole
        }
    }
    if (fin && !peer_fin_) {
        peer_fin_ = true;
        peer_fin_seq_ = seg.seq + static_cast<uint32_t>(seg.payload.size());
    }
    if (peer_fin_ && !peer_fin_done_ && rcv_nxt_ == peer_fin_seq_)
        process_fin(now);
}

// Out-of-order pieces that the stream has reached, appended in order.
void Connection::take_ooo()
{
    for (bool progress = true; progress && !ooo_.empty();) {
        progress = false;
        for (auto it = ooo_.begin(); it != ooo_.end(); ++it) {
            if (gt(it->seq, rcv_nxt_))
                continue;
            uint32_t end = it->seq + static_cast<uint32_t>(it->bytes.size());
            if (gt(end, rcv_nxt_)) {
                auto tail = std::span<const uint8_t>(it->bytes).subspan(rcv_nxt_ - it->seq);
                rcvbuf_.append(tail);
                stats_.bytes_in += tail.size();
                rcv_nxt_ = end;
            }
            ooo_bytes_ -= it->bytes.size();
            ooo_.erase(it);
            progress = true;
            break;
        }
    }
}

void Connection::process_fin(uint64_t now)
{
    peer_fin_done_ = true;
    rcv_nxt_ += 1;
    ooo_.clear();
    ooo_bytes_ = 0;
    pending_ |= ev_peer_closed;
    switch (state_) {
    case State::SynReceived:
    case State::Established: set_state(State::CloseWait); break;
    case State::FinWait1:
        if (fin_sent_ && snd_una_ == data_end() + 1)
            enter_time_wait(now);
        else
            set_state(State::Closing);
        break;
    case State::FinWait2: enter_time_wait(now); break;
    default: break;
    }
    send_ack();
}

} // namespace alopex::slirp::stack::tcp
