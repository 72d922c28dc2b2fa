// SPDX-License-Identifier: GPL-2.0-or-later
// CCP and Deflate on the test peer's side, as pppd 2.4.9 with the kernel's ppp_deflate:
// it asks Deflate 26, the draft Deflate 24 and BSD-Compress 21 (dropping what is
// rejected), acknowledges a Deflate 26 request with a window of 9..15, starts its
// compressor as its Ack goes and its decompressor as the Ack of its own request comes,
// compresses only once CCP is up, feeds plain packets to its history, and answers and
// sends Reset-Requests, again after every fourth packet that fails while it waits
// (pppd: every second) (kernel_deflate.hpp does the compressing).
#pragma once

#include <algorithm>
#include <memory>
#include <optional>

#include "control.hpp"
#include "hdlc.hpp"
#include "kernel_deflate.hpp"

namespace slirp_test {

using namespace alopex::slirp::ppp;
using Bytes = std::vector<uint8_t>;

struct PeerCcp {
    std::unique_ptr<KernelDeflate> z = std::make_unique<KernelDeflate>();
    bool comp_live = false, decomp_live = false, decomp_error = false, up = false;
    std::vector<uint8_t> wants = {26, 24, 21};   // pppd's default request, minus what was rejected
    uint64_t compressed_in = 0, compressed_out = 0, errors = 0, resets_sent = 0, resets_received = 0;
    std::unique_ptr<ControlProtocol> cp;
    uint8_t reset_id = 0;
    unsigned since_reset = 0;   // failed packets since the last Reset-Request

    Bytes request() const
    {
        Bytes b;
        for (uint8_t t : wants) {
            if (t == 21)
                b.insert(b.end(), {21, 3, 0x2F});
            else
                b.insert(b.end(), {t, 4, 0x78, 0x00});
        }
        return b;
    }
    explicit PeerCcp(ControlProtocol::Send send)
    {
        Negotiator n{[this] { return request(); },
                     [this](std::span<const uint8_t> d, bool) -> alopex::Result<ConfigureReply> {
                         auto l = parse_options(d);
                         if (!l)
                             return std::unexpected(l.error());
                         for (const auto &o : *l)
                             if (o.type != 26 || o.value.size() != 2 || (o.value[0] & 0x0F) != 8 ||
                                 (o.value[0] >> 4) + 8 < 9 || o.value[1] != 0)
                                 return ConfigureReply{Code::ConfigureReject, Bytes(o.whole.begin(), o.whole.end())};
                         comp_live = !l->empty();   // the kernel's comp_init as our Ack goes
                         z->reset_compressor();
                         return ConfigureReply{Code::ConfigureAck, Bytes(d.begin(), d.end())};
                     },
                     [this](std::span<const uint8_t> d) {
                         if (!std::ranges::equal(request(), d))
                             return false;
                         decomp_live = !wants.empty() && wants.front() == 26;   // decomp_init
                         decomp_error = false;
                         z->reset_decompressor();
                         return true;
                     },
                     [](std::span<const uint8_t>) { return true; },
                     [this](std::span<const uint8_t> d) {
                         auto l = parse_options(d);
                         if (!l)
                             return false;
                         for (const auto &o : *l)
                             std::erase(wants, o.type);
                         return true;
                     },
                     [] {}};
        cp = std::make_unique<ControlProtocol>(
            proto_ccp, n, send, ControlProtocol::Layer{[this] { up = true; }, [this] { up = false; }, {}, {}});
        cp->set_ccp_extras({[this](uint8_t id) {
                                ++resets_received;
                                z->reset_compressor();
                                cp->send_reset(Code::ResetAck, id);
                            },
                            [this](uint8_t) {
                                z->reset_decompressor();
                                decomp_error = false;
                            }});
    }
    // A data packet toward slirpd: the 0x00FD information field when it goes compressed.
    std::optional<Bytes> compress(uint16_t protocol, std::span<const uint8_t> info)
    {
        if (!comp_live)
            return std::nullopt;
        auto out = z->compress(protocol, info);
        if (!out || !up)
            return std::nullopt;
        ++compressed_out;
        return out;
    }
    // A 0x00FD packet from slirpd: (protocol, information), or nullopt (a Reset-Request went).
    std::optional<std::pair<uint16_t, Bytes>> decompress(std::span<const uint8_t> info)
    {
        if (decomp_live && !decomp_error) {
            if (auto r = z->decompress(info)) {
                ++compressed_in;
                return r;
            }
        }
        ++errors;
        // A Reset-Request, and again (same identifier) while compressed packets keep
        // failing, as pppd does every second: the first may be lost on the line.
        if (cp->state() == State::Opened && (!decomp_error || ++since_reset % 4 == 0)) {
            if (!decomp_error)
                ++reset_id;
            decomp_error = true;
            since_reset = 0;
            ++resets_sent;
            cp->send_reset(Code::ResetRequest, reset_id);
        }
        return std::nullopt;
    }
    void plain(uint16_t protocol, std::span<const uint8_t> info)
    {
        if (decomp_live && !decomp_error)
            z->incomp(protocol, info);
    }
};

} // namespace slirp_test
