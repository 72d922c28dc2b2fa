// SPDX-License-Identifier: GPL-2.0-or-later
// PPP in HDLC-like framing (RFC 1662), pure: line bytes in, frames out, and back.
//
// Decoder: a byte stream, in any chunking, becomes frames. A frame is what lies between
// two flags (0x7E), with Control-Escape (0x7D) sequences undone and the control
// characters the receive ACCM marks removed (a modem's XON/XOFF, sent unescaped); its FCS
// (16 or 32 bits) is checked and stripped. Bytes before the first flag, empty frames
// (back-to-back flags, a flood of them) and a frame aborted by 0x7D 0x7E are discarded;
// frames shorter than RFC 1662 §4.3 allows, longer than max_frame (dropped as soon as
// they pass it, so memory stays bounded whatever the line sends) or with a bad FCS are
// discarded and counted.
//
// Encoder: one PPP frame (address and control, protocol, information, FCS) escaped per
// the send ACCM, between flags. LCP is always sent with every control character escaped
// and with address and control present (RFC 1662 §7.1, RFC 1661 §6.5, 6.6), whatever
// was negotiated.
//
// parse_frame() splits a decoded frame into protocol and information, taking both the
// compressed and the full forms of address/control and protocol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::slirp::ppp {

inline constexpr uint8_t flag = 0x7E;
inline constexpr uint8_t control_escape = 0x7D;
inline constexpr uint8_t escape_xor = 0x20;
inline constexpr uint8_t all_stations = 0xFF;   // address
inline constexpr uint8_t ui_control = 0x03;     // control: unnumbered information

inline constexpr uint16_t proto_ip = 0x0021;
inline constexpr uint16_t proto_vj_compressed = 0x002D;
inline constexpr uint16_t proto_vj_uncompressed = 0x002F;
inline constexpr uint16_t proto_ipcp = 0x8021;
inline constexpr uint16_t proto_ccp = 0x80FD;
inline constexpr uint16_t proto_lcp = 0xC021;
inline constexpr uint16_t proto_pap = 0xC023;
inline constexpr uint16_t proto_lqr = 0xC025;
inline constexpr uint16_t proto_chap = 0xC223;

// The ACCM before LCP has negotiated one: every control character escaped.
inline constexpr uint32_t default_accm = 0xFFFFFFFF;

enum class Fcs : uint8_t { Fcs16, Fcs32 };
inline constexpr size_t fcs_size(Fcs f) { return f == Fcs::Fcs16 ? 2 : 4; }

// The FCS as it is sent (ones-complemented), of `data`: CRC-16/X.25 and CRC-32 (ISO-HDLC).
uint16_t fcs16(std::span<const uint8_t> data);
uint32_t fcs32(std::span<const uint8_t> data);

struct DecoderOptions {
    // The longest frame kept, unescaped, address/control to FCS included: the MRU plus
    // 4 (address, control, protocol) plus the FCS. Default: MRU 1500, FCS-32 allowed.
    size_t max_frame = 1500 + 4 + 4;
    uint32_t receive_accm = 0;   // control characters to drop when they arrive unescaped
    Fcs fcs = Fcs::Fcs16;
};

struct DecoderStats {
    uint64_t bytes = 0;        // line bytes fed
    uint64_t frames = 0;       // frames delivered (good FCS)
    uint64_t fcs_errors = 0;
    uint64_t too_long = 0;     // over max_frame
    uint64_t too_short = 0;    // under RFC 1662 §4.3's minimum (4 octets with FCS-16, 6 with FCS-32)
    uint64_t aborts = 0;       // 0x7D 0x7E
    uint64_t escapes = 0;      // escaped bytes undone
    uint64_t dropped_controls = 0;   // unescaped control characters the receive ACCM removed
};

class Decoder {
public:
    // A good frame without its FCS (address/control and protocol still in it), valid
    // until the callback returns.
    using FrameSink = std::function<void(std::span<const uint8_t> frame)>;

    explicit Decoder(DecoderOptions options = {});

    // Applies to the next frame on (a frame in progress keeps the FCS it began with).
    void set_options(const DecoderOptions &options);
    const DecoderOptions &options() const noexcept { return opt_; }

    void feed(std::span<const uint8_t> bytes, const FrameSink &on_frame);
    const DecoderStats &stats() const noexcept { return stats_; }

private:
    void end_frame(const FrameSink &on_frame);

    DecoderOptions opt_, next_;
    DecoderStats stats_;
    std::vector<uint8_t> buf_;
    bool hunting_ = true;   // before the first flag, and after a frame over max_frame
    bool escaped_ = false;  // the last byte was 0x7D
};

struct EncoderOptions {
    uint32_t send_accm = default_accm;   // control characters to escape (the peer's ACCM)
    bool acfc = false;                   // leave out address and control
    bool pfc = false;                    // one-octet protocol field where it fits
    Fcs fcs = Fcs::Fcs16;
};

// Appends one frame of `protocol` carrying `info` to `out`: opening flag, frame, FCS,
// closing flag. Returns how many octets it escaped.
size_t encode(std::vector<uint8_t> &out, uint16_t protocol, std::span<const uint8_t> info,
              const EncoderOptions &options);

struct Frame {
    uint16_t protocol = 0;
    std::span<const uint8_t> info;
    bool address_control = true;   // address and control were present
    bool long_protocol = true;     // the protocol field had two octets
};

// A decoded frame's protocol and information. A first protocol octet that is odd is the
// whole (compressed) field; an even one is followed by a second octet that must be odd
// (RFC 1661 §2). Errors: address without control 03, a second octet that is even, no
// protocol at all.
Result<Frame> parse_frame(std::span<const uint8_t> frame);

} // namespace alopex::slirp::ppp
