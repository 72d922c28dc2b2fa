// SPDX-License-Identifier: GPL-2.0-or-later
#include "hdlc.hpp"

#include <array>
#include <cerrno>

namespace alopex::slirp::ppp {
namespace {

// Reflected CRC tables (RFC 1662 appendix C): polynomials 0x8408 and 0xEDB88320.
template <typename T, T poly> constexpr std::array<T, 256> crc_table()
{
    std::array<T, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        T v = static_cast<T>(i);
        for (int b = 0; b < 8; ++b)
            v = (v & 1) ? static_cast<T>((v >> 1) ^ poly) : static_cast<T>(v >> 1);
        t[i] = v;
    }
    return t;
}
constexpr auto table16 = crc_table<uint16_t, 0x8408>();
constexpr auto table32 = crc_table<uint32_t, 0xEDB88320>();

// The running CRC before complementing; RFC 1662's "good" residues are what these give
// over a frame with its FCS.
uint16_t crc16(uint16_t crc, std::span<const uint8_t> d)
{
    for (uint8_t b : d)
        crc = static_cast<uint16_t>((crc >> 8) ^ table16[(crc ^ b) & 0xFF]);
    return crc;
}
uint32_t crc32(uint32_t crc, std::span<const uint8_t> d)
{
    for (uint8_t b : d)
        crc = (crc >> 8) ^ table32[(crc ^ b) & 0xFF];
    return crc;
}
constexpr uint16_t good16 = 0xF0B8;
constexpr uint32_t good32 = 0xDEBB20E3;

bool is_escaped(uint8_t b, uint32_t accm)
{
    return b == flag || b == control_escape || (b < 0x20 && (accm >> b) & 1);
}

void put(std::vector<uint8_t> &out, uint8_t b, uint32_t accm)
{
    if (is_escaped(b, accm)) {
        out.push_back(control_escape);
        out.push_back(b ^ escape_xor);
    } else {
        out.push_back(b);
    }
}

} // namespace

uint16_t fcs16(std::span<const uint8_t> data) { return static_cast<uint16_t>(~crc16(0xFFFF, data)); }
uint32_t fcs32(std::span<const uint8_t> data) { return ~crc32(0xFFFFFFFF, data); }

Decoder::Decoder(DecoderOptions options) : opt_(options), next_(options) { buf_.reserve(opt_.max_frame); }

void Decoder::set_options(const DecoderOptions &options) { next_ = options; }

void Decoder::feed(std::span<const uint8_t> bytes, const FrameSink &on_frame)
{
    stats_.bytes += bytes.size();
    for (uint8_t b : bytes) {
        if (b == flag) {
            if (escaped_) {
                ++stats_.aborts;   // 0x7D 0x7E: the sender gave the frame up
                buf_.clear();
            } else if (!hunting_) {
                end_frame(on_frame);
            }
            hunting_ = escaped_ = false;
            buf_.clear();
            opt_ = next_;
            continue;
        }
        if (hunting_)
            continue;
        if (b < 0x20 && (opt_.receive_accm >> b) & 1) {
            ++stats_.dropped_controls;   // inserted by the line, not sent by the peer
            continue;
        }
        if (b == control_escape) {
            escaped_ = true;
            continue;
        }
        if (escaped_) {
            b ^= escape_xor;
            escaped_ = false;
            ++stats_.escapes;
        }
        if (buf_.size() >= opt_.max_frame) {
            ++stats_.too_long;
            buf_.clear();
            hunting_ = true;   // the rest of it, up to the next flag, is skipped
            continue;
        }
        buf_.push_back(b);
    }
}

void Decoder::end_frame(const FrameSink &on_frame)
{
    if (buf_.empty())
        return;   // back-to-back flags
    size_t fcs = fcs_size(opt_.fcs);
    if (buf_.size() < fcs + 2) {
        ++stats_.too_short;
        return;
    }
    bool good = opt_.fcs == Fcs::Fcs16 ? crc16(0xFFFF, buf_) == good16 : crc32(0xFFFFFFFF, buf_) == good32;
    if (!good) {
        ++stats_.fcs_errors;
        return;
    }
    ++stats_.frames;
    on_frame(std::span<const uint8_t>(buf_.data(), buf_.size() - fcs));
}

void encode(std::vector<uint8_t> &out, uint16_t protocol, std::span<const uint8_t> info,
            const EncoderOptions &options)
{
    // LCP: every control character escaped, address and control present (RFC 1662 §7.1,
    // RFC 1661 §6.6); its protocol number cannot be compressed.
    bool lcp = protocol == proto_lcp;
    uint32_t accm = lcp ? default_accm : options.send_accm;
    std::vector<uint8_t> head;
    if (!options.acfc || lcp) {
        head.push_back(all_stations);
        head.push_back(ui_control);
    }
    if (!(options.pfc && protocol < 0x100 && !lcp))
        head.push_back(static_cast<uint8_t>(protocol >> 8));
    head.push_back(static_cast<uint8_t>(protocol));

    out.reserve(out.size() + 2 * (head.size() + info.size()) + 10);
    out.push_back(flag);
    for (uint8_t b : head)
        put(out, b, accm);
    for (uint8_t b : info)
        put(out, b, accm);
    if (options.fcs == Fcs::Fcs16) {
        uint16_t c = static_cast<uint16_t>(~crc16(crc16(0xFFFF, head), info));
        put(out, static_cast<uint8_t>(c), accm);
        put(out, static_cast<uint8_t>(c >> 8), accm);
    } else {
        uint32_t c = ~crc32(crc32(0xFFFFFFFF, head), info);
        for (int i = 0; i < 4; ++i)
            put(out, static_cast<uint8_t>(c >> (8 * i)), accm);
    }
    out.push_back(flag);
}

Result<Frame> parse_frame(std::span<const uint8_t> f)
{
    Frame out;
    if (f.size() >= 1 && f[0] == all_stations) {
        if (f.size() < 2 || f[1] != ui_control)
            return fail(EBADMSG, "PPP frame: address FF without control 03");
        f = f.subspan(2);
    } else {
        out.address_control = false;
    }
    if (f.empty())
        return fail(EBADMSG, "PPP frame: no protocol field");
    if (f[0] & 1) {
        out.protocol = f[0];
        out.long_protocol = false;
        out.info = f.subspan(1);
        return out;
    }
    if (f.size() < 2)
        return fail(EBADMSG, "PPP frame: protocol field cut short");
    if (!(f[1] & 1))
        return failf(EBADMSG, "PPP frame: protocol {:02x}{:02x} is even", f[0], f[1]);
    out.protocol = static_cast<uint16_t>(f[0] << 8 | f[1]);
    out.info = f.subspan(2);
    return out;
}

} // namespace alopex::slirp::ppp
