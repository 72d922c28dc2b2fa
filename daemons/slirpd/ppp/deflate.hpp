// SPDX-License-Identifier: GPL-2.0-or-later
// PPP Deflate compression (RFC 1979) with zlib, as Linux's ppp_deflate speaks it (the
// kernel behind pppd):
//
// - A compressed packet is protocol 0x00FD: a 16-bit sequence number, then raw deflate
//   of the original protocol (one octet when below 0x100, as with PFC) and information,
//   ended by a sync flush whose last four octets (00 00 FF FF) are not sent.
// - Every packet of a protocol up to 0x3FFF (not 0xFB, 0xFD) goes through the
//   compressor and takes a sequence number, also when it is then sent as it was (not
//   smaller compressed, or CCP not Opened yet): the receiver adds such a plain packet to
//   its history (the kernel's incomp) and counts it, so both histories stay the same.
//   Control protocols (LCP, IPCP, CCP) never do.
// - A decompressor that sees a wrong sequence number, a packet that does not inflate,
//   or one that inflates past the MRU (a decompression bomb) is out of step: it drops
//   compressed packets and adds nothing to its history until reset() (the peer's
//   Reset-Ack to our Reset-Request, RFC 1962 §5.1).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace alopex::slirp::ppp {

inline constexpr uint16_t proto_compressed = 0x00FD;

// Whether packets of this protocol go through Deflate's history (RFC 1979; the kernel's
// z_compress and z_incomp).
constexpr bool deflate_carries(uint16_t protocol)
{
    return protocol <= 0x3FFF && protocol != 0xFD && protocol != 0xFB;
}

class DeflateCompressor {
public:
    explicit DeflateCompressor(unsigned window_bits);   // 9..15
    ~DeflateCompressor();
    DeflateCompressor(const DeflateCompressor &) = delete;
    DeflateCompressor &operator=(const DeflateCompressor &) = delete;

    // Runs a packet through the history; `out` gets the 0x00FD information field and
    // true is returned when that is smaller than the packet, else false (send it as it
    // is). Protocols deflate_carries() refuses: false, nothing changes.
    bool compress(uint16_t protocol, std::span<const uint8_t> info, std::vector<uint8_t> &out);
    void reset();   // the peer's Reset-Request: a fresh history, sequence 0
    uint16_t sequence() const noexcept { return seq_; }

private:
    struct State;
    std::unique_ptr<State> z_;
    uint16_t seq_ = 0;
    std::vector<uint8_t> in_;
};

class DeflateDecompressor {
public:
    enum class Result : uint8_t { Ok, Error, Stalled };   // Stalled: dropped, waiting for reset()
    DeflateDecompressor(unsigned window_bits, size_t mru);
    ~DeflateDecompressor();
    DeflateDecompressor(const DeflateDecompressor &) = delete;
    DeflateDecompressor &operator=(const DeflateDecompressor &) = delete;

    // A 0x00FD information field: the packet's protocol and information.
    Result decompress(std::span<const uint8_t> info, uint16_t &protocol, std::vector<uint8_t> &out);
    // A packet that came as it was (deflate_carries() its protocol): into the history.
    void incompressible(uint16_t protocol, std::span<const uint8_t> info);
    void reset();
    bool stalled() const noexcept { return stalled_; }

private:
    struct State;
    std::unique_ptr<State> z_;
    size_t mru_;
    uint16_t seq_ = 0;
    bool stalled_ = false;
    std::vector<uint8_t> in_;
};

} // namespace alopex::slirp::ppp
