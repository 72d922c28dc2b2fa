// SPDX-License-Identifier: GPL-2.0-or-later
// CCP's configuration options (RFC 1962), pure: Deflate (RFC 1979, type 26) and nothing
// else, as pppd with the kernel's ppp_deflate negotiates it.
//
// Ours: Deflate with our window (15 bits), method 8, sequence-number check: "the peer
// may send us Deflate". A Nak with a window of 9..15 no larger than ours is followed; any
// other Nak or a Reject stops asking.
// Theirs (pppd asks Deflate 26, the draft Deflate 24 and BSD-Compress 21 by default):
// Deflate 26 with a window of 9..15, method 8 and check 0 is acknowledged (we may send
// it Deflate, with a window no larger); another window, method or check is Naked with
// 15/8/0 (as pppd does); the draft Deflate, BSD-Compress, Predictor, MPPE, a second
// Deflate and anything unknown are rejected, so pppd asks again with Deflate alone.
//
// The histories start with the Acks, before CCP is Opened (the kernel's comp_init and
// decomp_init run as the Ack passes): `peer_acked` when we acknowledge the peer's request
// (from then our compressor's history must follow every packet we send), `ours_acked`
// when the peer acknowledges ours (our decompressor's must follow every packet it sends).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "packet.hpp"

namespace alopex::slirp::ppp {

namespace ccp_option {
inline constexpr uint8_t predictor1 = 1;
inline constexpr uint8_t predictor2 = 2;
inline constexpr uint8_t mppe = 18;
inline constexpr uint8_t bsd_compress = 21;
inline constexpr uint8_t deflate_draft = 24;
inline constexpr uint8_t deflate = 26;
} // namespace ccp_option

struct CcpConfig {
    bool deflate = true;
    unsigned window = 15;   // the window we ask the peer to compress toward us with (9..15)
};

class CcpOptions {
public:
    explicit CcpOptions(CcpConfig config) : config_(config) { reset(); }

    void reset();
    std::vector<uint8_t> request() const;
    Result<ConfigureReply> on_request(std::span<const uint8_t> options, bool reject_instead_of_nak);
    bool on_ack(std::span<const uint8_t> options);
    bool on_nak(std::span<const uint8_t> options);
    bool on_reject(std::span<const uint8_t> options);

    // The window (bits) each history uses; nullopt: no Deflate that way.
    std::optional<unsigned> deflate_to_peer() const noexcept { return to_peer_; }
    std::optional<unsigned> deflate_from_peer() const noexcept { return from_peer_; }

    std::function<void(unsigned window)> peer_acked, ours_acked;

private:
    CcpConfig config_;
    bool asking_ = true;
    unsigned window_ = 15;
    std::optional<unsigned> to_peer_, from_peer_;
};

} // namespace alopex::slirp::ppp
