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

// Slicing-by-8 for the FCS-16 (every frame's octets go through it twice, once at each
// end): slice[k][n] is the CRC of octet n followed by k zero octets.
constexpr std::array<std::array<uint16_t, 256>, 8> slice16 = [] {
    std::array<std::array<uint16_t, 256>, 8> t{};
    t[0] = table16;
    for (size_t k = 1; k < 8; ++k)
        for (unsigned n = 0; n < 256; ++n)
            t[k][n] = static_cast<uint16_t>((t[k - 1][n] >> 8) ^ table16[t[k - 1][n] & 0xFF]);
    return t;
}();

// The running CRC before complementing; RFC 1662's "good" residues are what these give
// over a frame with its FCS.
uint16_t crc16(uint16_t crc, std::span<const uint8_t> d)
{
    const uint8_t *p = d.data();
    size_t n = d.size();
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = static_cast<uint32_t>(p[0] | p[1] << 8 | p[2] << 16) | static_cast<uint32_t>(p[3]) << 24;
        lo ^= crc;
        crc = static_cast<uint16_t>(slice16[7][lo & 0xFF] ^ slice16[6][(lo >> 8) & 0xFF] ^
                                    slice16[5][(lo >> 16) & 0xFF] ^ slice16[4][lo >> 24] ^ slice16[3][p[4]] ^
                                    slice16[2][p[5]] ^ slice16[1][p[6]] ^ slice16[0][p[7]]);
    }
    for (; n > 0; --n)
        crc = static_cast<uint16_t>((crc >> 8) ^ table16[(crc ^ *p++) & 0xFF]);
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

// Writes `b` at `p` (escaped when the ACCM says so); returns the next position.
inline uint8_t *put(uint8_t *p, uint8_t b, uint32_t accm)
{
    if (is_escaped(b, accm)) [[unlikely]] {
        *p++ = control_escape;
        *p++ = b ^ escape_xor;
    } else {
        *p++ = b;
    }
    return p;
}

} // namespace

uint16_t fcs16(std::span<const uint8_t> data) { return static_cast<uint16_t>(~crc16(0xFFFF, data)); }
uint32_t fcs32(std::span<const uint8_t> data) { return ~crc32(0xFFFFFFFF, data); }

Decoder::Decoder(DecoderOptions options) : opt_(options), next_(options) { buf_.reserve(opt_.max_frame); }

void Decoder::set_options(const DecoderOptions &options) { next_ = options; }

void Decoder::feed(std::span<const uint8_t> bytes, const FrameSink &on_frame)
{
    stats_.bytes += bytes.size();
    const uint8_t *p = bytes.data(), *end = p + bytes.size();
    while (p < end) {
        // A run of plain octets inside a frame goes in at once (the usual case: only flag
        // and escape octets are special once the receive ACCM is 0).
        if (!hunting_ && !escaped_) {
            const uint8_t *q = p;
            uint32_t accm = opt_.receive_accm;
            while (q < end && *q != flag && *q != control_escape && !(*q < 0x20 && (accm >> *q) & 1))
                ++q;
            size_t run = static_cast<size_t>(q - p);
            if (run > 0) {
                if (buf_.size() + run > opt_.max_frame) {
                    ++stats_.too_long;
                    buf_.clear();
                    hunting_ = true;   // the rest of it, up to the next flag, is skipped
                } else {
                    buf_.insert(buf_.end(), p, q);
                }
                p = q;
                continue;
            }
        }
        uint8_t b = *p++;
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
    uint8_t head[4];
    size_t h = 0;
    if (!options.acfc || lcp) {
        head[h++] = all_stations;
        head[h++] = ui_control;
    }
    if (!(options.pfc && protocol < 0x100 && !lcp))
        head[h++] = static_cast<uint8_t>(protocol >> 8);
    head[h++] = static_cast<uint8_t>(protocol);

    // One pass over a buffer sized for the worst case (every octet escaped): escaping and
    // the FCS together, no per-octet capacity checks.
    size_t start = out.size();
    out.resize(start + 2 * (h + info.size() + 4) + 2);
    uint8_t *p = out.data() + start;
    *p++ = flag;
    bool crc32_fcs = options.fcs != Fcs::Fcs16;
    uint16_t c16 = 0xFFFF;
    uint32_t c32 = 0xFFFFFFFF;
    auto body = [&](uint8_t b) {
        if (crc32_fcs)
            c32 = (c32 >> 8) ^ table32[(c32 ^ b) & 0xFF];
        else
            c16 = static_cast<uint16_t>((c16 >> 8) ^ table16[(c16 ^ b) & 0xFF]);
        p = put(p, b, accm);
    };
    for (size_t i = 0; i < h; ++i)
        body(head[i]);
    if (!crc32_fcs && accm == 0) {
        // The usual case once LCP is open: only flag and escape octets are escaped; the
        // FCS over the whole information field at once.
        c16 = crc16(c16, info);
        for (uint8_t b : info) {
            if (b == flag || b == control_escape) [[unlikely]] {
                *p++ = control_escape;
                *p++ = b ^ escape_xor;
            } else {
                *p++ = b;
            }
        }
    } else {
        for (uint8_t b : info)
            body(b);
    }
    if (!crc32_fcs) {
        uint16_t c = static_cast<uint16_t>(~c16);
        p = put(p, static_cast<uint8_t>(c), accm);
        p = put(p, static_cast<uint8_t>(c >> 8), accm);
    } else {
        uint32_t c = ~c32;
        for (int i = 0; i < 4; ++i)
            p = put(p, static_cast<uint8_t>(c >> (8 * i)), accm);
    }
    *p++ = flag;
    out.resize(static_cast<size_t>(p - out.data()));
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
