// SPDX-License-Identifier: GPL-2.0-or-later
// One control protocol of the link (LCP, or an NCP such as IPCP), pure: the RFC 1661
// automaton (fsm.hpp) fed by the peer's packets, its options (a Negotiator), and the
// packets it sends, through `send`. No clock: the caller runs the restart timer
// (timer_running(), timer_generation(), timeout()).
//
// Identifiers: a new Configure-Request gets a new one, a retransmission keeps it; an Ack,
// Nak or Reject counts only with the identifier of the last request and when it fits
// what was asked (otherwise it is discarded, RFC 1661 §5.2-5.4), as are packets with a
// bad length. LCP also handles Protocol-Reject, Echo-Request/Reply and Discard-Request
// (RFC 1661 §5.7-5.9); an NCP Code-Rejects them like any unknown code.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "fsm.hpp"
#include "lcp_options.hpp"
#include "packet.hpp"

namespace alopex::slirp::ppp {

// The options side of a control protocol (LcpOptions, IpcpOptions).
struct Negotiator {
    std::function<std::vector<uint8_t>()> request;
    std::function<Result<ConfigureReply>(std::span<const uint8_t>, bool reject_instead_of_nak)> on_request;
    std::function<bool(std::span<const uint8_t>)> on_ack, on_nak, on_reject;
    std::function<void()> reset;
};

template <typename Options> Negotiator negotiator_for(Options &o)
{
    return {[&o] { return o.request(); },
            [&o](std::span<const uint8_t> d, bool r) { return o.on_request(d, r); },
            [&o](std::span<const uint8_t> d) { return o.on_ack(d); },
            [&o](std::span<const uint8_t> d) { return o.on_nak(d); },
            [&o](std::span<const uint8_t> d) { return o.on_reject(d); },
            [&o] { o.reset(); }};
}

struct ControlStats {
    uint64_t packets_in = 0, discarded = 0;   // discarded: malformed, or not answering our request
    uint64_t echo_requests = 0, echo_replies = 0;
};

class ControlProtocol {
public:
    // `info` is a frame's information field for `protocol`.
    using Send = std::function<void(uint16_t protocol, std::vector<uint8_t> info)>;

    struct Layer {   // this layer up/down/started/finished (RFC 1661 §4.4)
        std::function<void()> up, down, started, finished;
    };
    struct LcpExtras {   // LCP only
        std::function<void(uint16_t protocol)> protocol_reject;     // the peer rejects `protocol`
        std::function<void(uint8_t id, std::span<const uint8_t> data)> echo_reply;
        std::function<uint32_t()> our_magic;                        // for Echo-Reply and Echo-Request
        std::function<void()> looped_back;                           // an Echo-Request carried our magic
    };

    struct CcpExtras {   // CCP only: Reset-Request and Reset-Ack from the peer, while Opened
        std::function<void(uint8_t id)> reset_request, reset_ack;
    };

    ControlProtocol(uint16_t protocol, Negotiator options, Send send, Layer layer, AutomatonLimits limits = {});
    void set_lcp_extras(LcpExtras extras) { lcp_ = std::move(extras); }
    void set_ccp_extras(CcpExtras extras) { ccp_ = std::move(extras); }
    // CCP: a Reset-Request or Reset-Ack with `id` (no data).
    void send_reset(Code code, uint8_t id) { send_packet(code, id, {}); }

    void up() { fsm_.event(Event::Up); }
    void down() { fsm_.event(Event::Down); }
    void open() { fsm_.event(Event::Open); }
    void close() { fsm_.event(Event::Close); }
    void timeout();
    // LCP has received a Protocol-Reject of this protocol (RXJ-, RFC 1661 §5.7).
    void protocol_rejected() { fsm_.event(Event::RxjMinus); }

    void input(std::span<const uint8_t> info);

    // LCP: an Echo-Request (keepalive) with our magic, `id` chosen by the caller.
    void send_echo_request(uint8_t id);
    // LCP: reject a protocol the link does not carry, returning the packet (cut to fit `mru`).
    void send_protocol_reject(uint16_t protocol, std::span<const uint8_t> info, size_t mru);

    uint16_t protocol() const noexcept { return protocol_; }
    State state() const noexcept { return fsm_.state(); }
    bool timer_running() const noexcept { return fsm_.timer_running(); }
    uint64_t timer_generation() const noexcept { return fsm_.timer_generation(); }
    const ControlStats &stats() const noexcept { return stats_; }

private:
    AutomatonHooks hooks(Layer layer);
    void send_packet(Code code, uint8_t id, std::span<const uint8_t> data);
    void on_configure(const Packet &p);
    void on_reply(const Packet &p);
    void on_code_reject(const Packet &p);
    bool on_lcp_code(const Packet &p);
    bool on_ccp_code(const Packet &p);

    uint16_t protocol_;
    Negotiator options_;
    Send send_;
    LcpExtras lcp_;
    CcpExtras ccp_;
    Automaton fsm_;
    ControlStats stats_;
    uint8_t next_id_ = 0, request_id_ = 0, rx_id_ = 0;
    bool retransmitting_ = false;
    std::vector<uint8_t> last_request_, pending_reply_, rejected_;
    Code pending_code_ = Code::ConfigureAck;
};

} // namespace alopex::slirp::ppp
