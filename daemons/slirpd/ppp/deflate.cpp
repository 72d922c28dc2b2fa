// SPDX-License-Identifier: GPL-2.0-or-later
#include "deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <new>

namespace alopex::slirp::ppp {

namespace {

constexpr uint8_t sync_tail[4] = {0x00, 0x00, 0xFF, 0xFF};   // what a sync flush ends with

// The protocol as Deflate sees it: one octet below 0x100 (as the kernel, "skip 1st proto
// byte if 0"), two otherwise; then the information.
void with_protocol(std::vector<uint8_t> &buf, uint16_t protocol, std::span<const uint8_t> info)
{
    buf.clear();
    if (protocol > 0xFF)
        buf.push_back(static_cast<uint8_t>(protocol >> 8));
    buf.push_back(static_cast<uint8_t>(protocol));
    buf.insert(buf.end(), info.begin(), info.end());
}

unsigned clamp_window(unsigned bits)
{
    return std::clamp(bits, 9u, 15u);
}

} // namespace

struct DeflateCompressor::State {
    z_stream s{};
};

DeflateCompressor::DeflateCompressor(unsigned window_bits) : z_(std::make_unique<State>())
{
    if (deflateInit2(&z_->s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -static_cast<int>(clamp_window(window_bits)), 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::bad_alloc();
}

DeflateCompressor::~DeflateCompressor()
{
    deflateEnd(&z_->s);
}

bool DeflateCompressor::compress(uint16_t protocol, std::span<const uint8_t> info, std::vector<uint8_t> &out)
{
    if (!deflate_carries(protocol))
        return false;
    with_protocol(in_, protocol, info);
    auto &s = z_->s;
    out.resize(2 + deflateBound(&s, in_.size()) + 16);
    out[0] = static_cast<uint8_t>(seq_ >> 8);
    out[1] = static_cast<uint8_t>(seq_);
    ++seq_;
    s.next_in = in_.data();
    s.avail_in = static_cast<uInt>(in_.size());
    size_t done = 2;
    for (;;) {
        s.next_out = out.data() + done;
        s.avail_out = static_cast<uInt>(out.size() - done);
        int r = deflate(&s, Z_SYNC_FLUSH);
        done = out.size() - s.avail_out;
        if (r != Z_OK && r != Z_BUF_ERROR)
            throw std::bad_alloc();   // only a broken stream state: not from any input
        if (s.avail_out != 0)
            break;
        out.resize(out.size() * 2);   // not expected with deflateBound's room
    }
    // The sync flush's empty stored block ends the output; the peer adds it back.
    if (done < 2 + 4 || !std::equal(out.begin() + static_cast<long>(done) - 4, out.begin() + static_cast<long>(done),
                                     sync_tail))
        throw std::bad_alloc();
    out.resize(done - 4);
    return out.size() < in_.size();
}

void DeflateCompressor::reset()
{
    deflateReset(&z_->s);
    seq_ = 0;
}

struct DeflateDecompressor::State {
    z_stream s{};
};

DeflateDecompressor::DeflateDecompressor(unsigned window_bits, size_t mru) : z_(std::make_unique<State>()), mru_(mru)
{
    if (inflateInit2(&z_->s, -static_cast<int>(clamp_window(window_bits))) != Z_OK)
        throw std::bad_alloc();
}

DeflateDecompressor::~DeflateDecompressor()
{
    inflateEnd(&z_->s);
}

DeflateDecompressor::Result DeflateDecompressor::decompress(std::span<const uint8_t> info, uint16_t &protocol,
                                                            std::vector<uint8_t> &out)
{
    if (stalled_)
        return Result::Stalled;
    auto fail = [this] {
        stalled_ = true;
        return Result::Error;
    };
    if (info.size() < 3 || (uint16_t(info[0] << 8 | info[1])) != seq_)
        return fail();   // too short, or a packet is missing: out of step
    in_.assign(info.begin() + 2, info.end());
    in_.insert(in_.end(), std::begin(sync_tail), std::end(sync_tail));
    // Room for the MRU and a 2-octet protocol, and one more: filling it is a bomb.
    out.resize(mru_ + 3);
    auto &s = z_->s;
    s.next_in = in_.data();
    s.avail_in = static_cast<uInt>(in_.size());
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    int r = inflate(&s, Z_SYNC_FLUSH);
    size_t got = out.size() - s.avail_out;
    // With the sync flush's tail back, a whole packet ends where a block does (zlib's
    // data_type: 128 at a block boundary, 64 in the final block).
    if (r != Z_OK || s.avail_in != 0 || s.avail_out == 0 || got == 0 || (s.data_type & 0xC0) != 0x80)
        return fail();   // not deflate, cut short, a final block, or more than the MRU
    size_t plen = (out[0] & 1) ? 1 : 2;
    if (got < plen)
        return fail();
    protocol = plen == 1 ? out[0] : static_cast<uint16_t>(out[0] << 8 | out[1]);
    out.erase(out.begin(), out.begin() + static_cast<long>(plen));
    out.resize(got - plen);
    ++seq_;
    return Result::Ok;
}

void DeflateDecompressor::incompressible(uint16_t protocol, std::span<const uint8_t> info)
{
    if (stalled_ || !deflate_carries(protocol))
        return;
    with_protocol(in_, protocol, info);
    // A raw inflate stream takes a dictionary at any time, appended to its window
    // (zlib.h), which is what the peer's history got from this packet.
    inflateSetDictionary(&z_->s, in_.data(), static_cast<uInt>(in_.size()));
    ++seq_;
}

void DeflateDecompressor::reset()
{
    inflateReset(&z_->s);
    seq_ = 0;
    stalled_ = false;
}

} // namespace alopex::slirp::ppp
