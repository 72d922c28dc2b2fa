// SPDX-License-Identifier: GPL-2.0-or-later
// The other end of a Deflate link as Linux's ppp_deflate behaves (z_compress,
// z_decompress, z_incomp), written straight on zlib for slirpd's tests: the reference
// the engine in daemons/slirpd/ppp/deflate.hpp is checked against. Its history takes
// plain packets the way FreeBSD's ppp does (a stored block fed to inflate), not the way
// slirpd does (inflateSetDictionary), so the two are not one piece of code twice.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

namespace slirp_test {

struct KernelDeflate {
    z_stream c{}, d{};
    uint16_t c_seq = 0, d_seq = 0;
    uint64_t plain_out = 0;

    explicit KernelDeflate(int window = 15)
    {
        if (deflateInit2(&c, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window, 8, Z_DEFAULT_STRATEGY) != Z_OK ||
            inflateInit2(&d, -window) != Z_OK)
            throw std::runtime_error("zlib");
    }
    ~KernelDeflate()
    {
        deflateEnd(&c);
        inflateEnd(&d);
    }
    static std::vector<uint8_t> with_protocol(uint16_t protocol, std::span<const uint8_t> info)
    {
        std::vector<uint8_t> v;
        if (protocol > 0xFF)
            v.push_back(static_cast<uint8_t>(protocol >> 8));
        v.push_back(static_cast<uint8_t>(protocol));
        v.insert(v.end(), info.begin(), info.end());
        return v;
    }
    // z_compress: the 0x00FD information field, or nullopt when not smaller or not a
    // protocol it carries (sent plain).
    std::optional<std::vector<uint8_t>> compress(uint16_t protocol, std::span<const uint8_t> info)
    {
        if (protocol > 0x3FFF || protocol == 0xFD || protocol == 0xFB)
            return std::nullopt;   // never through the history
        auto in = with_protocol(protocol, info);
        std::vector<uint8_t> out(2 + in.size() * 2 + 64);
        out[0] = static_cast<uint8_t>(c_seq >> 8);
        out[1] = static_cast<uint8_t>(c_seq++);
        c.next_in = in.data();
        c.avail_in = static_cast<uInt>(in.size());
        c.next_out = out.data() + 2;
        c.avail_out = static_cast<uInt>(out.size() - 2);
        if (deflate(&c, Z_SYNC_FLUSH) != Z_OK || c.avail_in != 0)
            throw std::runtime_error("deflate");
        out.resize(out.size() - c.avail_out - 4);   // without 00 00 ff ff
        if (out.size() >= in.size()) {
            ++plain_out;
            return std::nullopt;
        }
        return out;
    }
    // z_decompress: (protocol, information), or nullopt on any error.
    std::optional<std::pair<uint16_t, std::vector<uint8_t>>> decompress(std::span<const uint8_t> info)
    {
        if (info.size() < 3 || (info[0] << 8 | info[1]) != d_seq)
            return std::nullopt;
        std::vector<uint8_t> in(info.begin() + 2, info.end());
        in.insert(in.end(), {0x00, 0x00, 0xFF, 0xFF});
        std::vector<uint8_t> out(1600);
        d.next_in = in.data();
        d.avail_in = static_cast<uInt>(in.size());
        d.next_out = out.data();
        d.avail_out = static_cast<uInt>(out.size());
        if (inflate(&d, Z_SYNC_FLUSH) != Z_OK || d.avail_in != 0 || d.avail_out == 0)
            return std::nullopt;
        out.resize(out.size() - d.avail_out);
        ++d_seq;
        uint16_t protocol = out[0] & 1 ? out[0] : static_cast<uint16_t>(out[0] << 8 | out[1]);
        out.erase(out.begin(), out.begin() + (out[0] & 1 ? 1 : 2));
        return std::pair{protocol, out};
    }
    // z_incomp, FreeBSD's way: the packet as a stored block through inflate.
    void incomp(uint16_t protocol, std::span<const uint8_t> info)
    {
        if (protocol > 0x3FFF || protocol == 0xFD || protocol == 0xFB)
            return;
        auto data = with_protocol(protocol, info);
        auto len = static_cast<uint16_t>(data.size());
        std::vector<uint8_t> in = {0x00, static_cast<uint8_t>(len), static_cast<uint8_t>(len >> 8),
                                   static_cast<uint8_t>(~len), static_cast<uint8_t>(~len >> 8)};
        in.insert(in.end(), data.begin(), data.end());
        std::vector<uint8_t> scratch(data.size() + 16);
        d.next_in = in.data();
        d.avail_in = static_cast<uInt>(in.size());
        d.next_out = scratch.data();
        d.avail_out = static_cast<uInt>(scratch.size());
        if (inflate(&d, Z_SYNC_FLUSH) != Z_OK || d.avail_in != 0)
            throw std::runtime_error("incomp");
        ++d_seq;
    }
    void reset_compressor()
    {
        deflateReset(&c);
        c_seq = 0;
    }
    void reset_decompressor()
    {
        inflateReset(&d);
        d_seq = 0;
    }
};

} // namespace slirp_test
