// SPDX-License-Identifier: GPL-2.0-or-later
// The Link's CCP (RFC 1962) and Deflate (RFC 1979): the histories start with the Acks,
// compressed packets go out only while CCP is Opened, a packet that does not decompress
// sends a Reset-Request (again after 1 s while compressed packets keep coming), and the
// peer's Reset-Request restarts our compressor before its Reset-Ack goes.
#include "link.hpp"

namespace alopex::slirp::ppp {

namespace {
constexpr uint64_t reset_retry_usec = 1'000'000;   // pppd's RACKTIMEOUT
}

void Link::ccp_setup()
{
    if (!config_.ccp.deflate)
        return;
    auto send = [this](uint16_t protocol, std::vector<uint8_t> info) { this->send(protocol, info); };
    ccp_options_.peer_acked = [this](unsigned window) { deflate_out_ = std::make_unique<DeflateCompressor>(window); };
    ccp_options_.ours_acked = [this](unsigned window) {
        size_t mru = std::max<size_t>(lcp_options_.settings().receive_mru, default_mru);
        deflate_in_ = std::make_unique<DeflateDecompressor>(window, mru);
    };
    ccp_ = std::make_unique<ControlProtocol>(
        proto_ccp, negotiator_for(ccp_options_), send,
        ControlProtocol::Layer{[this] { ccp_open_ = true; }, [this] { ccp_down(); }, {}, {}}, config_.limits);
    ccp_->set_ccp_extras({[this](uint8_t id) {
                              ++stats_.deflate_resets_received;
                              if (deflate_out_)
                                  deflate_out_->reset();
                              ccp_->send_reset(Code::ResetAck, id);   // before anything compressed anew
                          },
                          [this](uint8_t) {
                              // Any Reset-Ack resets, as the kernel does (pppd checks the id
                              // only for its retries).
                              if (deflate_in_)
                                  deflate_in_->reset();
                              reset_sent_at_ = 0;
                          }});
}

void Link::ccp_down()
{
    ccp_open_ = false;
    deflate_out_.reset();
    deflate_in_.reset();
}

// A data packet (after VJ) to the peer: through Deflate's history when the peer's request
// was acknowledged, compressed when that is smaller and CCP is Opened.
void Link::send_data(uint16_t protocol, std::span<const uint8_t> info)
{
    if (!deflate_out_) {
        send(protocol, info);
        return;
    }
    bool smaller = deflate_out_->compress(protocol, info, deflate_buf_);
    if (smaller && ccp_open_) {
        ++stats_.deflate_out;
        stats_.deflate_octets_out += info.size();
        stats_.deflate_compressed_octets_out += deflate_buf_.size();
        send(proto_compressed, deflate_buf_);
        return;
    }
    if (ccp_open_ && deflate_carries(protocol)) {
        ++stats_.deflate_plain_out;
        stats_.deflate_octets_out += info.size();
        stats_.deflate_compressed_octets_out += info.size();
    }
    send(protocol, info);
}

void Link::compressed_input(std::span<const uint8_t> info)
{
    if (!deflate_in_) {   // our request was not acknowledged: nothing compressed may come
        ++stats_.deflate_errors;
        return;
    }
    uint16_t protocol = 0;
    switch (deflate_in_->decompress(info, protocol, deflate_buf_)) {
    case DeflateDecompressor::Result::Ok:
        ++stats_.deflate_in;
        stats_.deflate_compressed_octets_in += info.size();
        stats_.deflate_octets_in += deflate_buf_.size();
        {
            // network_input may send (and compress into deflate_buf_ again): a copy.
            std::vector<uint8_t> packet = std::move(deflate_buf_);
            network_input(protocol, packet);
            deflate_buf_ = std::move(packet);
        }
        return;
    case DeflateDecompressor::Result::Error:
        ++stats_.deflate_errors;
        break;
    case DeflateDecompressor::Result::Stalled:
        ++stats_.deflate_dropped;
        break;
    }
    // A packet lost to VJ too: it tosses until a packet names its slot, as the kernel's
    // slhc_toss after a receive error (the lost one may have carried a delta).
    if (vj_in_)
        vj_in_->line_error();
    // A Reset-Request with a new identifier for a new error; while its Ack does not
    // come, the same one again every second.
    bool waiting = reset_sent_at_ != 0;
    if ((waiting && now_ - reset_sent_at_ < reset_retry_usec) || ccp_->state() != State::Opened)
        return;
    if (!waiting)
        ++reset_id_;
    ++stats_.deflate_resets_sent;
    reset_sent_at_ = std::max<uint64_t>(now_, 1);
    ccp_->send_reset(Code::ResetRequest, reset_id_);
}

} // namespace alopex::slirp::ppp
