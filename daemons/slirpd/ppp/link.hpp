// SPDX-License-Identifier: GPL-2.0-or-later
// The PPP link of slirpd (the server end, or the client: IpcpConfig::client), pure:
// line bytes in and out, IPv4 packets in and out, time given by the caller (a virtual clock in tests, CLOCK_MONOTONIC in the
// daemon). It frames (hdlc.hpp), runs LCP and then IPCP (control.hpp), switches the
// framing to what LCP negotiated once it is Opened, answers and sends LCP echoes, and
// Protocol-Rejects what it does not carry (CCP, IPV6CP unless configured). IPv6
// (LinkConfig::ipv6cp): IPV6CP beside IPCP, and IPv6 packets both ways once it is
// Opened, through the same calls as IPv4 (the version nibble tells them apart). Paced (LinkConfig::line_rate),
// IP packets wait in a FlowQueue and go to the line at its rate, interactive flows first.
//
// Phases (RFC 1661 §3.2): Dead until start(); Establish while LCP negotiates;
// Authenticate once LCP is Opened when LinkConfig::auth asks the peer to authenticate
// (auth.hpp; the NCPs wait, their packets are discarded; a peer that refused the option
// or fails is terminated); Network once LCP is Opened and the peer passed (or none was
// asked); Terminate while LCP closes. When LCP gives up (no answer to max-configure requests) or the peer
// terminates, the link waits passively in LCP's Stopped state: the peer's next
// Configure-Request starts it again. Echo keepalive: with echo_interval set, an
// Echo-Request goes out every interval while LCP is Opened; echo_failures unanswered in
// a row take the link down and restart the negotiation, as pppd's lcp-echo-failure.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "auth.hpp"
#include "ccp_options.hpp"
#include "control.hpp"
#include "deflate.hpp"
#include "flow_queue.hpp"
#include "hdlc.hpp"
#include "ipcp_options.hpp"
#include "ipv6cp_options.hpp"
#include "vj.hpp"
#include "lcp_options.hpp"

namespace alopex::slirp::ppp {

enum class Phase : uint8_t { Dead, Establish, Authenticate, Network, Terminate };
std::string_view to_string(Phase p);

struct LinkConfig {
    LcpWants lcp;   // its `auth` is set from auth.protocols
    AuthConfig auth;
    IpcpConfig ipcp;
    Ipv6cpConfig ipv6cp;
    // CCP with Deflate both ways when the peer agrees; off (the default here): CCP is
    // Protocol-Rejected, as by a pppd without ppp_deflate.
    CcpConfig ccp{.deflate = false};
    AutomatonLimits limits;
    uint64_t restart_usec = 3'000'000;       // RFC 1661 §4.6
    uint64_t echo_interval_usec = 30'000'000; // 0: no keepalive
    unsigned echo_failures = 4;
    // Octets per second the line carries (a UART's bits per second / 10 for 8N1); 0: not
    // paced, every frame is handed to the line at once. Paced, IP packets wait in a
    // FlowQueue and a frame goes to the line only when what was handed before has left
    // it but `pace_lead_usec` of octets, so that the line's own buffers (the kernel's
    // tty queue) stay nearly empty and the queue's order decides what goes next.
    uint64_t line_rate = 0;
    uint64_t pace_lead_usec = 4'000;
};

struct LinkStats {
    uint64_t frames_out = 0, bytes_out = 0;
    uint64_t escapes_out = 0;           // octets escaped in what was sent (the escape ratio)
    uint64_t bad_frames = 0;            // framing fine, PPP header not
    uint64_t early_packets = 0;         // not LCP, before LCP was Opened (discarded)
    uint64_t ip_in = 0, ip_out = 0, ip_dropped = 0;   // dropped: IP before IPCP was Opened
    uint64_t ipv6_in = 0, ipv6_out = 0;               // of ip_in, ip_out: IPv6 (IPV6CP Opened)
    uint64_t protocol_rejects = 0;
    uint64_t echo_timeouts = 0, link_restarts = 0;
    uint64_t echo_rtt_usec = 0;         // of the last answered Echo-Request
    // VJ (RFC 1144) when IPCP negotiated it: IP packets sent compressed, uncompressed
    // (a connection's first) and received so; received ones that could not be decoded,
    // or were tossed after a line error; octets of headers not sent.
    uint64_t vj_compressed_out = 0, vj_uncompressed_out = 0, vj_compressed_in = 0, vj_uncompressed_in = 0;
    uint64_t vj_errors = 0, vj_tossed = 0, vj_octets_saved = 0;
    // Paced: IP packets that waited in the queue, dropped from it (it was full), and the
    // longest a packet waited there.
    uint64_t queued_packets = 0, queue_drops = 0, queue_delay_max_usec = 0;
    // Deflate (CCP Opened): packets sent compressed, sent as they were (not smaller),
    // received compressed, received plain into the history; octets before and after
    // compression each way; packets that did not decompress (a Reset-Request went), and
    // those dropped while waiting for the Reset-Ack; Reset-Requests from the peer.
    uint64_t deflate_out = 0, deflate_plain_out = 0, deflate_in = 0, deflate_plain_in = 0;
    uint64_t deflate_octets_out = 0, deflate_compressed_octets_out = 0;
    uint64_t deflate_octets_in = 0, deflate_compressed_octets_in = 0;
    uint64_t deflate_errors = 0, deflate_dropped = 0, deflate_resets_sent = 0, deflate_resets_received = 0;
    // Authentication of the peer: passed, failed (a wrong secret, no answer), refused
    // (LCP's option rejected); PAP or CHAP packets received, discarded (malformed, not
    // answering our Challenge).
    uint64_t auth_successes = 0, auth_failures = 0, auth_refused = 0, auth_packets_in = 0, auth_discarded = 0;
};

class Link {
public:
    struct Callbacks {
        std::function<void(std::span<const uint8_t>)> line_output;   // bytes for the line
        std::function<void(std::span<const uint8_t>)> ip_input;      // an IPv4 or IPv6 packet from the peer
        std::function<void()> network_up, network_down;              // IPCP Opened / left
        // Paced: true while the line cannot take more (its own queue backs up, as with
        // hardware flow control holding it); the queue then waits 10 ms and looks again.
        std::function<bool()> line_busy;
        // Paced: packets left the queue (a flow held back may send again).
        std::function<void()> output_space;
        // Every frame sent and every good frame received, its protocol and information
        // (a capture); unset: nothing.
        std::function<void(bool sent, uint16_t protocol, std::span<const uint8_t> info)> frame_seen;
        // The peer passed or failed authentication (auth_peer(), auth_reason() say more).
        std::function<void(bool passed)> authenticated;
        // IPV6CP Opened: the link-local addresses are fe80::ipv6cp_options()'s identifiers.
        std::function<void()> ipv6_up;
    };

    Link(LinkConfig config, std::function<uint32_t()> random, Callbacks callbacks);
    Link(const Link &) = delete;
    Link &operator=(const Link &) = delete;

    // The line is there: LCP opens and sends its first Configure-Request.
    void start(uint64_t now);
    // The line is gone (hangup): everything down, Dead until start() again.
    void stop(uint64_t now);
    // Administrative close: LCP terminates the link.
    void close(uint64_t now);

    void line_input(std::span<const uint8_t> bytes, uint64_t now);
    // Sends one IPv4 or IPv6 packet (paced: queues it, and sends what the line has room
    // for); false (and counted) when its NCP (IPCP, IPV6CP) is not Opened, or the packet
    // is empty or longer than the peer's MRU.
    bool send_ip(std::span<const uint8_t> packet, uint64_t now);
    bool send_ip(std::span<const uint8_t> packet) { return send_ip(packet, now_); }
    bool paced() const noexcept { return config_.line_rate != 0; }
    uint64_t line_rate() const noexcept { return config_.line_rate; }
    const FlowQueue &queue() const noexcept { return queue_; }
    // Whether VJ compresses what goes to the peer (IPCP Opened with it).
    bool vj_to_peer() const noexcept { return vj_out_.has_value(); }

    // Runs the timers due at `now`; next_deadline() says when to call it again
    // (UINT64_MAX: nothing pending).
    void advance(uint64_t now);
    uint64_t next_deadline() const;

    Phase phase() const noexcept { return phase_; }
    State lcp_state() const { return lcp_->state(); }
    State ipcp_state() const { return ipcp_->state(); }
    // IPV6CP's state (Initial when IPv6 is not configured).
    State ipv6cp_state() const { return ipv6cp_ ? ipv6cp_->state() : State::Initial; }
    const Ipv6cpOptions &ipv6cp_options() const noexcept { return ipv6cp_options_; }
    // CCP's state (Initial when CCP is not configured).
    State ccp_state() const { return ccp_ ? ccp_->state() : State::Initial; }
    const CcpOptions &ccp_options() const noexcept { return ccp_options_; }
    // Packets each control protocol received, and those it discarded.
    const ControlStats &lcp_stats() const { return lcp_->stats(); }
    const ControlStats &ipcp_stats() const { return ipcp_->stats(); }
    ControlStats ccp_stats() const { return ccp_ ? ccp_->stats() : ControlStats{}; }
    const LcpSettings &lcp_settings() const { return lcp_options_.settings(); }
    const IpcpOptions &ipcp_options() const noexcept { return ipcp_options_; }
    const DecoderStats &framing_stats() const noexcept { return decoder_.stats(); }
    const LinkStats &stats() const noexcept { return stats_; }
    unsigned loopbacks() const noexcept { return lcp_options_.loopbacks() + echo_loopbacks_; }
    // The last authentication: the protocol (0: none), the name the peer gave, why it failed.
    uint16_t auth_protocol() const noexcept { return auth_ ? auth_->protocol() : 0; }
    std::string auth_peer() const { return auth_ ? auth_->peer_name() : std::string(); }
    std::string auth_reason() const { return auth_reason_; }

private:
    struct Timer {
        uint64_t deadline = 0;   // 0: not armed
        uint64_t generation = 0;
    };
    void send(uint16_t protocol, std::span<const uint8_t> info);
    void frame(std::span<const uint8_t> f);
    void lcp_up();
    void lcp_down();
    void sync_timers();
    void sync(Timer &t, const ControlProtocol &cp);
    void echo_due();
    void apply_framing(bool open);
    void ipcp_up();
    void ipcp_down();
    void vj_input(uint16_t protocol, std::span<const uint8_t> info);
    void encode_ip(std::span<const uint8_t> packet);
    void pump();
    void network_input(uint16_t protocol, std::span<const uint8_t> info);
    // link_ccp.cpp: CCP and Deflate.
    void ccp_setup();
    void send_data(uint16_t protocol, std::span<const uint8_t> info);
    void compressed_input(std::span<const uint8_t> info);
    void ccp_down();
    // link_auth.cpp: the Authenticate phase.
    void network_start();
    bool auth_start();
    void auth_done(bool passed);
    void auth_input(std::span<const uint8_t> info);
    void settle();
    void lcp_finished();

    LinkConfig config_;
    Callbacks cb_;
    std::function<uint32_t()> random_;
    std::unique_ptr<Authenticator> auth_;   // of the last LCP up that asked for it
    std::string auth_reason_;
    bool auth_live_ = false;       // auth_ takes packets and runs its timer (LCP is up)
    bool close_pending_ = false;   // the peer failed: LCP closes once the current event is done
    bool reopen_after_ = false;    // ... and opens again after a hold-off when it has closed
    uint64_t reopen_at_ = 0;
    static constexpr uint64_t auth_holdoff_usec = 3'000'000;   // after a failure (slows guessing)
    LcpOptions lcp_options_;
    IpcpOptions ipcp_options_;
    std::unique_ptr<ControlProtocol> lcp_, ipcp_, ccp_, ipv6cp_;
    Ipv6cpOptions ipv6cp_options_;
    CcpOptions ccp_options_;
    std::unique_ptr<DeflateCompressor> deflate_out_;
    std::unique_ptr<DeflateDecompressor> deflate_in_;
    bool ccp_open_ = false;
    std::vector<uint8_t> deflate_buf_;
    uint8_t reset_id_ = 0;
    uint64_t reset_sent_at_ = 0;
    Decoder decoder_;
    EncoderOptions encoder_;
    std::vector<uint8_t> out_;
    std::optional<vj::Compressor> vj_out_;
    std::optional<vj::Decompressor> vj_in_;
    std::vector<uint8_t> vj_buf_;
    FlowQueue queue_;
    uint64_t line_free_at_ = 0;  // paced: when what was handed to the line has left it
    bool pumping_ = false;
    uint64_t line_errors_ = 0;   // the decoder's, at the last frame
    Phase phase_ = Phase::Dead;
    LinkStats stats_;
    uint64_t now_ = 0;
    Timer lcp_timer_, ipcp_timer_, ccp_timer_, ipv6cp_timer_;
    uint64_t echo_deadline_ = 0, echo_sent_at_ = 0;
    unsigned echo_outstanding_ = 0, echo_loopbacks_ = 0;
    uint8_t echo_id_ = 0;
};

} // namespace alopex::slirp::ppp
