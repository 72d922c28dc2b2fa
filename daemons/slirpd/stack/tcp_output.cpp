// SPDX-License-Identifier: GPL-2.0-or-later
// TCP: sending — segments, the window we advertise, what may be sent (window, cwnd,
// sender-side silly-window avoidance), and the timers that send: retransmission (RFC
// 6298), zero-window probes, keepalive, delayed ACKs.
#include <algorithm>

#include "tcp.hpp"

namespace alopex::slirp::stack::tcp {

uint32_t Connection::receive_window() const
{
    uint32_t used = static_cast<uint32_t>(std::min<size_t>(rcvbuf_.size(), cfg_.receive_buffer));
    uint32_t free = cfg_.receive_buffer - used;
    // Receiver-side silly-window avoidance (RFC 9293 §3.8.6.2.2): no window smaller than
    // a segment or half the buffer is offered...
    if (free < std::min<uint32_t>(cfg_.receive_buffer / 2, cfg_.mss))
        free = 0;
    // ...and the right edge already offered never moves back (§3.8.6.2.1).
    uint32_t offered = gt(rcv_adv_, rcv_nxt_) ? rcv_adv_ - rcv_nxt_ : 0;
    return std::max(free, offered);
}

uint16_t Connection::window_field(bool syn)
{
    uint32_t wnd = receive_window();
    uint32_t field;
    if (syn) {
        field = std::min<uint32_t>(wnd, 0xffff);   // a SYN's window is never scaled
    } else {
        // Scaled down; rounded up only where that keeps an edge already offered.
        uint32_t offered = gt(rcv_adv_, rcv_nxt_) ? rcv_adv_ - rcv_nxt_ : 0;
        uint32_t unit = 1u << rcv_shift_;
        field = wnd >> rcv_shift_;
        if ((field << rcv_shift_) < offered)
            field = (offered + unit - 1) >> rcv_shift_;
        field = std::min<uint32_t>(field, 0xffff);
        wnd = field << rcv_shift_;
    }
    if (gt(rcv_nxt_ + wnd, rcv_adv_))
        rcv_adv_ = rcv_nxt_ + wnd;
    return static_cast<uint16_t>(field);
}

void Connection::send_segment(uint32_t seq, uint8_t flags, std::span<const uint8_t> payload)
{
    Tcp h;
    h.src_port = lport_;
    h.dst_port = rport_;
    h.seq = seq;
    h.flags = flags;
    bool syn = flags & tcp_flag::syn;
    if (flags & tcp_flag::ack)
        h.ack = rcv_nxt_;
    if (!(flags & tcp_flag::rst))
        h.window = window_field(syn);
    if (syn) {
        h.options.mss = cfg_.mss;
        // Offered in our own SYN; in a SYN-ACK only when the peer's SYN had it.
        if (state_ == State::SynSent || ws_ok_)
            h.options.window_scale = rcv_shift_;
        h.options.sack_permitted = state_ == State::SynSent ? cfg_.sack : sack_ok_;
    } else if (sack_ok_ && (flags & tcp_flag::ack) && !(flags & tcp_flag::rst) && !ooo_.empty()) {
        fill_sack_blocks(h);
    }
    if (flags & tcp_flag::ack) {
        delack_at_ = 0;
        unacked_segments_ = 0;
    }
    ++stats_.segments_out;
    if (output_)
        output_(h, payload);
}

void Connection::send_syn(bool with_ack)
{
    send_segment(iss_, tcp_flag::syn | (with_ack ? tcp_flag::ack : 0), {});
}

// A pure ACK carries the next new sequence number, not a retransmission's (as BSD does):
// after a timeout's go-back, SND.NXT is behind what the peer has, and an ACK with it
// would be unacceptable there, its ACK field never read.
void Connection::send_ack()
{
    send_segment(snd_max_, tcp_flag::ack, {});
}

void Connection::send_rst(uint32_t seq)
{
    send_segment(seq, tcp_flag::rst | tcp_flag::ack, {});
}

void Connection::ack_later(uint64_t now, bool full_segment)
{
    // Every second full-sized segment is ACKed at once (RFC 5681 §4.2), others after
    // the delayed-ACK time; data sent meanwhile carries the ACK.
    if (full_segment && ++unacked_segments_ >= 2)
        send_ack();
    else if (!delack_at_)
        delack_at_ = now + cfg_.delayed_ack;
}

// The RTO with its exponential backoff (RFC 6298 §5.5); the backoff ends with the first
// ACK of new data (new_ack), as in BSD and Linux, so that one lost retransmission does
// not leave every later timeout long.
uint64_t Connection::current_rto() const
{
    uint64_t rto = rto_;
    for (unsigned i = 0; i < backoff_ && rto < cfg_.rto_max; ++i)
        rto *= 2;
    return std::min(rto, cfg_.rto_max);
}

void Connection::arm_rto(uint64_t now)
{
    rto_at_ = now + current_rto();
}

void Connection::output(uint64_t now)
{
    if (sack_ok_ && in_recovery_) {
        sack_output(now);   // the pipe, not the flight, says what may go
        return;
    }
    while (send_one(now)) {
    }
}

// Sends the next segment (data, FIN or both) if the windows allow; false when nothing was
// sent. by_pipe: SACK recovery has checked the congestion window against the pipe; only
// the peer's window is left to check.
bool Connection::send_one(uint64_t now, bool by_pipe)
{
    switch (state_) {
    case State::Established:
    case State::CloseWait:
    case State::FinWait1:
    case State::Closing:
    case State::LastAck: break;
    default: return false;
    }
    uint32_t end = data_end();
    // Going back after a timeout: what the peer SACKed is not sent again.
    if (lt(snd_nxt_, snd_max_))
        for (const auto &b : scoreboard_)
            if (le(b.start, snd_nxt_) && lt(snd_nxt_, b.end))
                snd_nxt_ = lt(b.end, end) ? b.end : end;
    if (ge(snd_nxt_, end)) {
        if (!fin_queued_ || snd_nxt_ != end)
            return false;
        // The FIN, on its own (it needs no window).
        send_segment(end, tcp_flag::fin | tcp_flag::ack, {});
        fin_sent_ = true;
        snd_nxt_ = end + 1;
        snd_max_ = gt(snd_nxt_, snd_max_) ? snd_nxt_ : snd_max_;
        if (!rto_at_)
            arm_rto(now);
        return false;
    }
    uint32_t avail = end - snd_nxt_;
    // Limited transmit (RFC 3042): the first two duplicate ACKs each let one new segment
    // out, so that a small window still gets the three duplicates fast retransmit needs.
    // With SACK what the peer holds is out of the flight below, which does the same.
    uint32_t limited = in_recovery_ || sack_ok_ ? 0 : std::min(dupacks_, 2u) * snd_mss_;
    auto room = [](uint32_t window, uint32_t used) { return window > used ? window - used : 0u; };
    // The peer's window counts all in flight; cwnd not what the peer SACKed, which has
    // left the network (SACK recovery has checked cwnd against its pipe already).
    uint32_t usable = room(snd_wnd_, flight());
    if (!by_pipe)
        usable = std::min(usable, room(cwnd_ + limited, flight() - sacked_below(snd_nxt_)));
    uint32_t n = std::min({avail, usable, static_cast<uint32_t>(snd_mss_)});
    if (n == 0) {
        if (snd_wnd_ == 0 && flight() == 0 && !persist_at_) {
            persist_interval_ = std::clamp(current_rto(), cfg_.rto_min, cfg_.rto_max);
            persist_at_ = now + persist_interval_;
        }
        return false;
    }
    // Sender-side silly-window avoidance (RFC 9293 §3.8.6.2.1): a short segment only
    // when it is all there is, or half the largest window the peer offered, or when
    // nothing is in flight (no ACK would come to trigger a bigger one).
    if (n < snd_mss_ && n < avail && n < max_snd_wnd_ / 2 && flight() > 0)
        return false;
    if (owner_ && !owner_->can_send(*this)) {
        owner_->blocked(*this);   // the link is congested: resume() sends it
        return false;
    }
    bool fin = fin_queued_ && n == avail;
    bool retransmission = lt(snd_nxt_, snd_max_);
    uint8_t flags = tcp_flag::ack | (n == avail ? tcp_flag::psh : 0) | (fin ? tcp_flag::fin : 0);
    send_segment(snd_nxt_, flags, sndbuf_.from(snd_nxt_ - buf_seq_).first(n));
    if (retransmission) {
        ++stats_.retransmits;
    } else {
        stats_.bytes_out += n;
        if (!timing_) {
            timing_ = true;
            rtt_seq_ = snd_nxt_;
            rtt_start_ = now;
        }
    }
    snd_nxt_ += n + (fin ? 1 : 0);
    if (fin)
        fin_sent_ = true;
    if (gt(snd_nxt_, snd_max_))
        snd_max_ = snd_nxt_;
    if (!rto_at_)
        arm_rto(now);
    persist_at_ = 0;
    return true;
}

// Up to `max` octets from `seq` again (fast retransmit, NewReno's partial ACK, a SACK
// hole), the FIN with them when they reach it; returns the sequence space sent.
uint32_t Connection::retransmit_at(uint32_t seq, uint32_t max)
{
    uint32_t end = data_end();
    timing_ = false;   // Karn: no RTT sample from a retransmitted segment
    if (lt(seq, end) && ge(seq, buf_seq_)) {
        ++stats_.retransmits;
        uint32_t n = std::min({end - seq, max, static_cast<uint32_t>(snd_mss_)});
        bool fin = fin_sent_ && seq + n == end;
        send_segment(seq, tcp_flag::ack | (fin ? tcp_flag::fin : 0), sndbuf_.from(seq - buf_seq_).first(n));
        return n + (fin ? 1 : 0);
    }
    if (fin_sent_ && seq == end) {
        ++stats_.retransmits;
        send_segment(end, tcp_flag::fin | tcp_flag::ack, {});
        return 1;
    }
    return 0;
}

void Connection::rtt_sample(uint64_t rtt)
{
    // RFC 6298 §2.2, §2.3 (alpha 1/8, beta 1/4, K 4), clock granularity 1 ms.
    if (srtt_ == 0) {
        srtt_ = std::max<uint64_t>(rtt, 1);
        rttvar_ = rtt / 2;
    } else {
        uint64_t diff = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
        rttvar_ = (3 * rttvar_ + diff) / 4;
        srtt_ = std::max<uint64_t>((7 * srtt_ + rtt) / 8, 1);
    }
    rto_ = std::clamp<uint64_t>(srtt_ + std::max<uint64_t>(1000, 4 * rttvar_), cfg_.rto_min, cfg_.rto_max);
}

void Connection::on_rto(uint64_t now)
{
    rto_at_ = 0;
    if (state_ == State::SynReceived || state_ == State::SynSent) {
        if (++retries_ > cfg_.syn_retransmits) {
            close_with(CloseReason::Timeout);
            return;
        }
        ++backoff_;
        ++stats_.retransmits;
        send_syn(state_ == State::SynReceived);
        arm_rto(now);
        return;
    }
    if (snd_una_ == snd_max_)
        return;   // nothing outstanding
    if (++retries_ > cfg_.max_retransmits) {
        send_rst(snd_max_);
        close_with(CloseReason::Timeout);
        return;
    }
    // RFC 5681 §3.1 eq. 4, RFC 6298 §5.5-5.7, RFC 6582 §3.2 step 4.
    ++stats_.timeouts;
    uint32_t outstanding = snd_max_ - snd_una_;
    ssthresh_ = std::max<uint32_t>(outstanding / 2, 2u * snd_mss_);
    cwnd_ = snd_mss_;
    in_recovery_ = false;
    dupacks_ = 0;
    recover_ = snd_max_;
    timing_ = false;
    // RFC 6675 §5.1: the scoreboard stays, and the go-back passes over what the peer
    // holds. A second timeout of the same data may mean the peer reneged (RFC 2018 §8):
    // then everything is sent again.
    if (backoff_ > 0)
        scoreboard_.clear();
    rxts_.clear();
    high_rxt_ = snd_una_;
    ++backoff_;
    snd_nxt_ = snd_una_;   // go back: everything outstanding is sent again as the window allows
    if (!send_one(now))
        retransmit_first();
    arm_rto(now);
}

void Connection::on_persist(uint64_t now)
{
    persist_at_ = 0;
    if (snd_wnd_ != 0 || !lt(snd_nxt_, data_end())) {
        output(now);
        return;
    }
    // One byte past the closed window (RFC 9293 §3.8.6.1); the peer's ACK says whether
    // it opened. Probes go on as long as the peer answers (keepalive or idle limits
    // end a dead one), at a backed-off interval.
    ++stats_.window_probes;
    send_segment(snd_nxt_, tcp_flag::ack, sndbuf_.from(snd_nxt_ - buf_seq_).first(1));
    probe_out_ = true;   // its ACK may cover the byte (process_ack)
    persist_interval_ = std::min(persist_interval_ * 2, cfg_.rto_max);
    persist_at_ = now + persist_interval_;
}

void Connection::on_keepalive(uint64_t now)
{
    keepalive_at_ = 0;
    if (!cfg_.keepalive_idle)
        return;
    if (snd_una_ != snd_max_ || (state_ != State::Established && state_ != State::CloseWait)) {
        keepalive_at_ = now + cfg_.keepalive_idle;   // the retransmission timer watches the peer
        return;
    }
    if (probes_ >= cfg_.keepalive_probes) {
        send_rst(snd_max_);
        close_with(CloseReason::Timeout);
        return;
    }
    ++probes_;
    send_segment(snd_una_ - 1, tcp_flag::ack, {});   // RFC 1122 §4.2.3.6: an old sequence number
    keepalive_at_ = now + cfg_.keepalive_interval;
}

} // namespace alopex::slirp::stack::tcp
