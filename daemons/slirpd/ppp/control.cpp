// SPDX-License-Identifier: GPL-2.0-or-later
#include "control.hpp"

#include <algorithm>

#include "hdlc.hpp"
#include "wire.hpp"

namespace alopex::slirp::ppp {

namespace {

bool negotiating(State s) { return s == State::ReqSent || s == State::AckRcvd || s == State::AckSent; }

} // namespace

ControlProtocol::ControlProtocol(uint16_t protocol, Negotiator options, Send send, Layer layer,
                                 AutomatonLimits limits)
    : protocol_(protocol), options_(std::move(options)), send_(std::move(send)), fsm_(hooks(std::move(layer)), limits)
{
}

AutomatonHooks ControlProtocol::hooks(Layer l)
{
    AutomatonHooks h;
    h.this_layer_up = std::move(l.up);
    h.this_layer_down = std::move(l.down);
    h.this_layer_started = std::move(l.started);
    h.this_layer_finished = std::move(l.finished);
    h.send_configure_request = [this] {
        if (!retransmitting_) {
            // A negotiation that starts (not one that goes on after a Nak) asks for
            // everything again. The hook runs before the state changes.
            if (!negotiating(fsm_.state()) && options_.reset)
                options_.reset();
            request_id_ = ++next_id_;
            last_request_ = options_.request ? options_.request() : std::vector<uint8_t>{};
        }
        send_packet(Code::ConfigureRequest, request_id_, last_request_);
    };
    h.send_configure_ack = [this] { send_packet(pending_code_, rx_id_, pending_reply_); };
    h.send_configure_nak = [this] { send_packet(pending_code_, rx_id_, pending_reply_); };
    h.send_terminate_request = [this] {
        request_id_ = ++next_id_;
        send_packet(Code::TerminateRequest, request_id_, {});
    };
    h.send_terminate_ack = [this] { send_packet(Code::TerminateAck, rx_id_, {}); };
    h.send_code_reject = [this] { send_packet(Code::CodeReject, ++next_id_, rejected_); };
    h.send_echo_reply = [this] { send_packet(Code::EchoReply, rx_id_, pending_reply_); };
    return h;
}

void ControlProtocol::send_packet(Code code, uint8_t id, std::span<const uint8_t> data)
{
    std::vector<uint8_t> info;
    build_packet(info, static_cast<uint8_t>(code), id, data);
    if (send_)
        send_(protocol_, std::move(info));
}

void ControlProtocol::timeout()
{
    retransmitting_ = true;
    fsm_.timeout();
    retransmitting_ = false;
}

void ControlProtocol::input(std::span<const uint8_t> info)
{
    ++stats_.packets_in;
    auto p = parse_packet(info);
    if (!p) {
        ++stats_.discarded;
        return;
    }
    rx_id_ = p->id;
    switch (static_cast<Code>(p->code)) {
    case Code::ConfigureRequest: on_configure(*p); return;
    case Code::ConfigureAck:
    case Code::ConfigureNak:
    case Code::ConfigureReject: on_reply(*p); return;
    case Code::TerminateRequest: fsm_.event(Event::Rtr); return;
    case Code::TerminateAck: fsm_.event(Event::Rta); return;
    case Code::CodeReject: on_code_reject(*p); return;
    default:
        if (protocol_ == proto_lcp && on_lcp_code(*p))
            return;
        if (protocol_ == proto_ccp && on_ccp_code(*p))
            return;
        rejected_.assign(p->whole.begin(), p->whole.end());
        fsm_.event(Event::Ruc);
        return;
    }
}

void ControlProtocol::on_configure(const Packet &p)
{
    if (!options_.on_request) {
        ++stats_.discarded;
        return;
    }
    auto r = options_.on_request(p.data, fsm_.reject_instead_of_nak());
    if (!r) {
        ++stats_.discarded;   // a malformed option list: silently discarded
        return;
    }
    pending_code_ = r->code;
    pending_reply_ = std::move(r->options);
    fsm_.event(pending_code_ == Code::ConfigureAck ? Event::RcrPlus : Event::RcrMinus);
}

void ControlProtocol::on_reply(const Packet &p)
{
    auto code = static_cast<Code>(p.code);
    const auto &check = code == Code::ConfigureAck   ? options_.on_ack
                        : code == Code::ConfigureNak ? options_.on_nak
                                                     : options_.on_reject;
    if (p.id != request_id_ || !negotiating(fsm_.state()) || !check || !check(p.data)) {
        ++stats_.discarded;
        return;
    }
    fsm_.event(code == Code::ConfigureAck ? Event::Rca : Event::Rcn);
}

void ControlProtocol::on_code_reject(const Packet &p)
{
    if (p.data.empty()) {
        ++stats_.discarded;
        return;
    }
    // Rejecting a code this protocol cannot work without is catastrophic (RFC 1661 §5.6).
    uint8_t code = p.data[0];
    bool fatal = code >= static_cast<uint8_t>(Code::ConfigureRequest) && code <= static_cast<uint8_t>(Code::CodeReject);
    fsm_.event(fatal ? Event::RxjMinus : Event::RxjPlus);
}

bool ControlProtocol::on_ccp_code(const Packet &p)
{
    auto code = static_cast<Code>(p.code);
    if (code != Code::ResetRequest && code != Code::ResetAck)
        return false;
    const auto &handler = code == Code::ResetRequest ? ccp_.reset_request : ccp_.reset_ack;
    if (fsm_.state() == State::Opened && handler)
        handler(p.id);
    else
        ++stats_.discarded;   // not Opened: nothing to reset (RFC 1962 §5.1)
    return true;
}

bool ControlProtocol::on_lcp_code(const Packet &p)
{
    uint32_t magic = lcp_.our_magic ? lcp_.our_magic() : 0;
    switch (static_cast<Code>(p.code)) {
    case Code::ProtocolReject: {
        if (p.data.size() < 2) {
            ++stats_.discarded;
            return true;
        }
        uint16_t rejected = wire::be16(p.data.data());
        if (rejected == proto_lcp) {
            fsm_.event(Event::RxjMinus);
            return true;
        }
        if (fsm_.state() == State::Opened && lcp_.protocol_reject)
            lcp_.protocol_reject(rejected);
        fsm_.event(Event::RxjPlus);
        return true;
    }
    case Code::EchoRequest: {
        ++stats_.echo_requests;
        if (p.data.size() >= 4) {
            uint32_t theirs = wire::be32(p.data.data());
            if (magic != 0 && theirs == magic && lcp_.looped_back)
                lcp_.looped_back();
        }
        pending_reply_.clear();
        wire::put32(pending_reply_, magic);
        if (p.data.size() > 4)
            pending_reply_.insert(pending_reply_.end(), p.data.begin() + 4, p.data.end());
        fsm_.event(Event::Rxr);   // answered in Opened only
        return true;
    }
    // RXR covers these too, but nothing answers them (RFC 1661 §4.3: "There is no reply to
    // an Echo-Reply or Discard-Request packet"); answering a reply would start two such
    // ends replying to each other at the line's rate.
    case Code::EchoReply:
        ++stats_.echo_replies;
        if (fsm_.state() == State::Opened && lcp_.echo_reply)
            lcp_.echo_reply(p.id, p.data);
        return true;
    case Code::DiscardRequest:
        return true;
    default:
        return false;
    }
}

void ControlProtocol::send_echo_request(uint8_t id)
{
    if (fsm_.state() != State::Opened)
        return;
    std::vector<uint8_t> data;
    wire::put32(data, lcp_.our_magic ? lcp_.our_magic() : 0);
    send_packet(Code::EchoRequest, id, data);
}

void ControlProtocol::send_protocol_reject(uint16_t protocol, std::span<const uint8_t> info, size_t mru)
{
    if (fsm_.state() != State::Opened)
        return;   // RFC 1661 §5.7: only in the Opened state
    std::vector<uint8_t> data = {static_cast<uint8_t>(protocol >> 8), static_cast<uint8_t>(protocol)};
    size_t room = mru > packet_header + data.size() ? mru - packet_header - data.size() : 0;
    data.insert(data.end(), info.begin(), info.begin() + static_cast<long>(std::min(room, info.size())));
    send_packet(Code::ProtocolReject, ++next_id_, data);
}

} // namespace alopex::slirp::ppp
