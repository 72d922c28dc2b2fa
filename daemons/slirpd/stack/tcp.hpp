// SPDX-License-Identifier: GPL-2.0-or-later
// One TCP connection (RFC 9293), pure: segments in and out, time given by the caller (µs
// on a virtual clock in tests, CLOCK_MONOTONIC in the daemon), the application's bytes
// through bounded buffers. The stack (stack.hpp) demultiplexes, owns the connections
// and builds the IP packets; the daemon couples each connection to a host socket.
//
// What it does:
// - The whole state machine, opened passively (a SYN that the stack holds until the host
//   side has connected: accept(), refuse()) or actively (connect(), for client mode).
// - MSS and window scaling (RFC 7323) negotiated; timestamps parsed but not used (never
//   offered, so the peer does not send them).
// - SACK (RFC 2018) when both SYNs permit it: as the receiver, ACKs name the
//   out-of-order data held (the block of the latest segment first); as the sender, a
//   scoreboard of what the peer holds drives loss recovery (RFC 6675: pipe, NextSeg,
//   several holes a round trip). Without it, NewReno (RFC 6582).
// - RFC 6298 retransmission timer (Karn's rule, exponential backoff), RFC 5681 slow
//   start and congestion avoidance, fast retransmit.
// - Zero-window probes (never giving up while the peer answers them, RFC 1122
//   §4.2.2.17), keepalive (RFC 1122 §4.2.3.6), TIME-WAIT (2 MSL).
// - RST handling of RFC 5961: a RST or SYN that is in the window but not exact gets a
//   challenge ACK instead of killing the connection.
// - URG is plain data (RFC 9293 §3.8.5 allows no more; the urgent pointer is ignored).
// - Memory is bounded: the receive buffer plus out-of-order data never exceed
//   `receive_buffer` (that is what the window promises), the send buffer never exceeds
//   `send_buffer` (the application gets send_space() and no more). No Nagle: the
//   application's writes are already batches (a socket read), sent at once.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "byte_queue.hpp"
#include "transport.hpp"

namespace alopex::slirp::stack::tcp {

// Sequence-number comparison, modulo 2^32 (RFC 9293 §3.4).
inline bool lt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
inline bool le(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }
inline bool gt(uint32_t a, uint32_t b) { return lt(b, a); }
inline bool ge(uint32_t a, uint32_t b) { return le(b, a); }

enum class State : uint8_t {
    Closed, SynPending, SynSent, SynReceived, Established, FinWait1, FinWait2, CloseWait, Closing, LastAck,
    TimeWait
};
std::string_view to_string(State s);

enum class CloseReason : uint8_t {
    Done,       // both directions closed in order (or TIME-WAIT ended)
    Reset,      // the peer reset it
    Timeout,    // retransmissions, SYN-ACKs or keepalives went unanswered
    Refused,    // an active open answered by a RST
    Aborted,    // abort() or refuse() by our side
};
std::string_view to_string(CloseReason r);

struct Config {
    uint16_t mss = 1460;                 // the largest segment we accept (MTU - 40)
    uint32_t receive_buffer = 128 * 1024;
    uint32_t send_buffer = 128 * 1024;
    uint64_t rto_initial = 1'000'000;    // RFC 6298 §2.1
    uint64_t rto_min = 200'000;          // Linux's; RFC 6298's 1 s is too slow on a local link
    uint64_t rto_max = 60'000'000;
    unsigned max_retransmits = 12;       // of one segment; then the connection is reset
    unsigned syn_retransmits = 5;
    uint64_t delayed_ack = 40'000;       // RFC 1122 §4.2.3.2 (at most 500 ms; every 2nd segment at once)
    uint64_t time_wait = 60'000'000;     // 2 MSL
    uint64_t keepalive_idle = 0;         // 0: off
    uint64_t keepalive_interval = 75'000'000;
    unsigned keepalive_probes = 9;
    bool sack = true;                    // offer and use SACK (RFC 2018)
};

struct Stats {
    uint64_t segments_in = 0, segments_out = 0;
    uint64_t bytes_in = 0, bytes_out = 0;   // payload accepted from / first sent to the peer
    uint64_t retransmits = 0, fast_retransmits = 0, timeouts = 0, sack_recoveries = 0, lost_retransmits = 0;
    uint64_t out_of_order = 0, duplicates = 0, challenge_acks = 0, window_probes = 0;
};
// Adds every counter of `b` to `a`.
void add_stats(Stats &a, const Stats &b);

// What the application (the host socket's side) hears, at the end of the connection's
// method that caused it (the application may call back in). closed() comes last, for an
// orderly close only once everything received has been consumed; after it the
// connection must not be used any more.
class Events {
public:
    virtual ~Events() = default;
    virtual void established() {}
    virtual void readable() {}      // received() grew
    virtual void writable() {}      // send_space() grew
    virtual void peer_closed() {}   // the peer's FIN: after received() is drained, no more data
    virtual void closed(CloseReason) {}
};

// Told about every change of the connection's deadline or state (the stack's timer index).
class Owner {
public:
    virtual ~Owner() = default;
    virtual void changed(class Connection &c) = 0;
    // Whether new data of this connection may go out now (the link below has room for
    // it); when not, the connection is blocked() and waits for resume().
    virtual bool can_send(const class Connection &) const { return true; }
    virtual void blocked(class Connection &) {}
};

class Connection {
public:
    using Output = std::function<void(const Tcp &header, std::span<const uint8_t> payload)>;

    // `header` of the segments sent carries the ports; seq, ack, flags, window, options
    // are filled in here.
    Connection(Config config, uint16_t local_port, uint16_t remote_port, uint32_t iss, Output output);
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    void set_events(Events *e) noexcept { events_ = e; }
    void set_owner(Owner *o) noexcept { owner_ = o; }

    // Passive open: a SYN arrived; nothing is answered until accept() (SYN-ACK) or refuse() (RST).
    void syn_arrived(const Tcp &syn, uint64_t now);
    void accept(uint64_t now);
    void refuse();
    // Active open: sends the SYN.
    void connect(uint64_t now);

    void input(const Tcp &segment, uint64_t now);
    void advance(uint64_t now);
    uint64_t next_deadline() const;   // UINT64_MAX: none

    // The application's side.
    size_t send_space() const;
    size_t send_buffer_size() const noexcept { return cfg_.send_buffer; }
    size_t write(std::span<const uint8_t> bytes, uint64_t now);
    // The stream's next bytes from the peer (contiguous), and giving them back.
    std::span<const uint8_t> received() const { return rcvbuf_.from(0); }
    void consume(size_t n, uint64_t now);
    bool peer_finished() const noexcept { return peer_fin_done_ && rcvbuf_.empty(); }
    void shutdown(uint64_t now);    // FIN after everything written (before the handshake: kill(Aborted))
    void abort();                   // RST; closed, no event
    void discard();                 // closed, nothing sent, no event (the stack answered otherwise)
    void kill(CloseReason r);       // RST; closed(r) (idle limits, an administrator)
    void resume(uint64_t now);      // the link took its queue: send what waits

    State state() const noexcept { return state_; }
    bool closed() const noexcept { return state_ == State::Closed; }
    // Closed, and the application has heard: the owner may free it.
    bool finished() const noexcept { return state_ == State::Closed && !closed_waiting_; }
    // No application holds it any more (it heard closed(), or never had events): a
    // TIME-WAIT connection may then be freed early, to make room.
    bool detached() const noexcept { return events_ == nullptr; }
    uint16_t local_port() const noexcept { return lport_; }
    uint16_t remote_port() const noexcept { return rport_; }
    const Stats &stats() const noexcept { return stats_; }
    uint32_t send_queued() const noexcept { return static_cast<uint32_t>(sndbuf_.size()); }
    uint64_t srtt() const noexcept { return srtt_; }
    bool sack() const noexcept { return sack_ok_; }   // both SYNs permitted SACK
    size_t sack_ranges() const noexcept { return scoreboard_.size(); }
    uint32_t cwnd() const noexcept { return cwnd_; }
    uint64_t last_activity() const noexcept { return last_activity_; }   // a segment in, or a write
    size_t memory() const noexcept;   // buffer bytes held

    uint64_t indexed_deadline = 0;   // the owner's bookkeeping

private:
    // tcp.cpp: opening, the application's side, closing
    void set_state(State s);
    void finish_call();
    void stop_timers();
    void close_with(CloseReason r, bool notify = true);
    void enter_time_wait(uint64_t now);
    void established_now(uint64_t now);
    // tcp_input.cpp
    void input_syn_sent(const Tcp &seg, uint64_t now);
    bool acceptable(const Tcp &seg, uint32_t len) const;
    bool check_rst_syn(const Tcp &seg);
    bool process_ack(const Tcp &seg, uint64_t now);
    void new_ack(uint32_t ack, uint64_t now);
    void duplicate_ack(uint64_t now);
    void update_window(const Tcp &seg);
    void process_text(const Tcp &seg, uint64_t now);
    void take_ooo();
    void process_fin(uint64_t now);
    void our_fin_acked(uint64_t now);
    void take_options(const Tcp &syn);
    // tcp_sack.cpp
    bool take_sack(const Tcp &seg);
    void detect_lost_retransmissions();
    void trim_scoreboard();
    uint32_t sacked_above(uint32_t seq, unsigned *ranges = nullptr) const;
    uint32_t sacked_below(uint32_t seq) const;
    bool is_lost(uint32_t seq) const;
    uint32_t pipe() const;
    bool next_seg(uint32_t &seq, uint32_t &len, bool &fresh) const;
    void enter_sack_recovery(uint64_t now);
    void sack_output(uint64_t now);
    void fill_sack_blocks(Tcp &h) const;
    // tcp_output.cpp
    void send_segment(uint32_t seq, uint8_t flags, std::span<const uint8_t> payload);
    void send_syn(bool with_ack);
    void send_ack();
    void send_rst(uint32_t seq);
    void output(uint64_t now);
    bool send_one(uint64_t now, bool by_pipe = false);
    void retransmit_first() { retransmit_at(snd_una_, snd_mss_); }
    uint32_t retransmit_at(uint32_t seq, uint32_t max);
    uint16_t window_field(bool syn);
    uint32_t receive_window() const;
    void on_rto(uint64_t now);
    void on_persist(uint64_t now);
    void on_keepalive(uint64_t now);
    void rtt_sample(uint64_t rtt);
    void arm_rto(uint64_t now);
    uint64_t current_rto() const;
    void ack_later(uint64_t now, bool full_segment);
    uint32_t flight() const { return snd_nxt_ - snd_una_; }
    uint32_t data_end() const { return buf_seq_ + static_cast<uint32_t>(sndbuf_.size()); }

    Config cfg_;
    uint16_t lport_, rport_;
    Output output_;
    Events *events_ = nullptr;
    Owner *owner_ = nullptr;
    State state_ = State::Closed;
    Stats stats_;
    enum : uint8_t { ev_established = 1, ev_writable = 2, ev_readable = 4, ev_peer_closed = 8 };
    uint8_t pending_ = 0;           // events for the application, delivered by finish_call()
    bool closed_waiting_ = false;   // closed() is still to be delivered
    CloseReason close_reason_ = CloseReason::Done;

    // Sending (RFC 9293 §3.3.1). buf_seq_ is the sequence number of sndbuf_'s first byte.
    uint32_t iss_, snd_una_, snd_nxt_, snd_max_, buf_seq_;
    uint32_t snd_wnd_ = 0, max_snd_wnd_ = 0, snd_wl1_ = 0, snd_wl2_ = 0;
    uint8_t snd_shift_ = 0;
    uint16_t snd_mss_ = 536;            // RFC 9293 §3.7.1's default without the option
    ByteQueue sndbuf_;
    bool fin_queued_ = false;           // shutdown(): FIN after data_end()
    bool fin_sent_ = false;

    // Receiving.
    uint32_t irs_ = 0, rcv_nxt_ = 0, rcv_adv_ = 0;
    uint8_t rcv_shift_ = 0;
    bool ws_ok_ = false;
    ByteQueue rcvbuf_;
    struct Piece {
        uint32_t seq;
        std::vector<uint8_t> bytes;
    };
    std::vector<Piece> ooo_;            // out of order, inside the advertised window
    size_t ooo_bytes_ = 0;
    uint32_t last_ooo_seq_ = 0;         // the latest out-of-order segment (its SACK block first)
    bool peer_fin_ = false, peer_fin_done_ = false;
    uint32_t peer_fin_seq_ = 0;
    unsigned unacked_segments_ = 0;

    // Congestion control (RFC 5681, RFC 6582) and the RTO (RFC 6298).
    uint32_t cwnd_ = 0, ssthresh_ = 0xffffffff;
    uint32_t recover_;   // RFC 6582 §3.2: the ISS at first, then where the last recovery ends
    unsigned dupacks_ = 0;
    bool in_recovery_ = false;
    // SACK (RFC 2018, RFC 6675): what the peer holds above SND.UNA, sorted, merged, at
    // most max_scoreboard ranges; the highest octet retransmitted in this recovery.
    bool sack_ok_ = false;
    std::vector<SackBlock> scoreboard_;
    uint32_t high_rxt_ = 0;
    static constexpr size_t max_scoreboard = 64;
    // The retransmissions of this recovery, each with SND.MAX when it went: SACKed data
    // beyond that fence arrived after it, so the retransmission itself was lost (the idea
    // of RACK, RFC 8985, without its clock) and goes again instead of waiting for the RTO.
    struct Rxt {
        uint32_t seq, fence;
    };
    std::vector<Rxt> rxts_;
    uint64_t srtt_ = 0, rttvar_ = 0, rto_;
    bool timing_ = false;
    uint32_t rtt_seq_ = 0;
    uint64_t rtt_start_ = 0;
    unsigned retries_ = 0, probes_ = 0, backoff_ = 0;

    // Timers: 0 is not armed.
    uint64_t rto_at_ = 0, persist_at_ = 0, delack_at_ = 0, keepalive_at_ = 0, time_wait_at_ = 0;
    uint64_t persist_interval_ = 0;
    bool probe_out_ = false;
    uint64_t last_activity_ = 0;
};

} // namespace alopex::slirp::stack::tcp
