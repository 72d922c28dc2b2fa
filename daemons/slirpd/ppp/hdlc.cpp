// SPDX-License-Identifier: GPL-2.0-or-later
#include "hdlc.hpp"

#include <cerrno>
#include <cstring>

#include "fcs.hpp"

namespace alopex::slirp::ppp {
namespace {

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

// Eight octets at a time: the first position from `p` that the ACCM (or flag and escape)
// makes special, or `end`. Bulk data has few of them, and most of it is scanned a word
// at a time: a word with none of them is passed over whole.
const uint8_t *plain_run(const uint8_t *p, const uint8_t *end, uint32_t accm)
{
    constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    auto has_zero = [](uint64_t v) { return (v - ones) & ~v & highs; };
    while (end - p >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        uint64_t special = has_zero(w ^ (ones * flag)) | has_zero(w ^ (ones * control_escape));
        if (accm != 0)
            special |= (w - ones * 0x20) & ~w & highs;   // an octet below 0x20
        if (special)
            break;
        p += 8;
    }
    while (p < end && !is_escaped(*p, accm))
        ++p;
    return p;
}

// Copies `in` to `p` with the octets the ACCM names escaped; returns the next position.
uint8_t *put_all(uint8_t *p, std::span<const uint8_t> in, uint32_t accm)
{
    const uint8_t *s = in.data(), *e = s + in.size();
    while (s < e) {
        const uint8_t *q = plain_run(s, e, accm);
        std::memcpy(p, s, static_cast<size_t>(q - s));
        p += q - s;
        s = q;
        if (s < e)
            p = put(p, *s++, accm);
    }
    return p;
}

} // namespace

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
            const uint8_t *q = plain_run(p, end, opt_.receive_accm);
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
    bool good = opt_.fcs == Fcs::Fcs16 ? crc16(fcs16_init, buf_) == fcs16_good
                                         : crc32(fcs32_init, buf_) == fcs32_good;
    if (!good) {
        ++stats_.fcs_errors;
        return;
    }
    ++stats_.frames;
    on_frame(std::span<const uint8_t>(buf_.data(), buf_.size() - fcs));
}

size_t encode(std::vector<uint8_t> &out, uint16_t protocol, std::span<const uint8_t> info,
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

    // A buffer sized for the worst case (every octet escaped), then the FCS over the frame
    // and the escaped copy, each over runs of octets at once.
    size_t start = out.size();
    out.resize(start + 2 * (h + info.size() + 4) + 2);
    uint8_t *p = out.data() + start;
    *p++ = flag;
    std::span<const uint8_t> header(head, h);
    p = put_all(p, header, accm);
    p = put_all(p, info, accm);
    size_t fcs_octets = options.fcs == Fcs::Fcs16 ? 2 : 4;
    if (options.fcs == Fcs::Fcs16) {
        uint16_t c = static_cast<uint16_t>(~crc16(crc16(fcs16_init, header), info));
        p = put(p, static_cast<uint8_t>(c), accm);
        p = put(p, static_cast<uint8_t>(c >> 8), accm);
    } else {
        uint32_t c = ~crc32(crc32(fcs32_init, header), info);
        for (int i = 0; i < 4; ++i)
            p = put(p, static_cast<uint8_t>(c >> (8 * i)), accm);
    }
    *p++ = flag;
    out.resize(static_cast<size_t>(p - out.data()));
    return out.size() - start - (2 + h + info.size() + fcs_octets);
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
