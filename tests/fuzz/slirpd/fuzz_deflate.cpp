// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-deflate: PPP Deflate (RFC 1979) and CCP's options (RFC 1962). The first byte
// chooses the mode.
// - Even: hostile input to the decompressor (MRU 1500). Steps of an octet each: 0 a
//   compressed packet (a length octet, then the bytes; its sequence number made the
//   expected one when the step octet's bit 7 is set), 1 a plain packet into the history,
//   2 a reset (a Reset-Ack), 3 a packet made by the compressor from the next bytes (so
//   hostile ones land in deep states). A packet it gives is never longer than the MRU
//   and a 2-octet protocol; an error stalls it until a reset.
// - Odd: a round trip: packets cut from the input go through the compressor and, when
//   sent compressed, the decompressor, plain ones into its history; each must come back
//   octet for octet. The same bytes as CCP option lists: requests, Naks and Rejects.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "ccp_options.hpp"
#include "deflate.hpp"
#include "fuzz_input.hpp"

using namespace alopex::slirp::ppp;

namespace {

std::span<const uint8_t> take(alopex::fuzz::Input &in, size_t n)
{
    n = std::min(n, in.n);
    std::span<const uint8_t> s(in.p, n);
    in.p += n, in.n -= n;
    return s;
}

void hostile(alopex::fuzz::Input &in)
{
    DeflateDecompressor d(15, 1500);
    DeflateCompressor c(15);
    uint16_t seq = 0;
    std::vector<uint8_t> out, packet;
    while (in.n) {
        uint8_t step = in.byte();
        switch (step & 3) {
        case 0: {
            auto field = take(in, in.byte() * 2u);
            packet.assign(field.begin(), field.end());
            if ((step & 0x80) && packet.size() >= 2)
                packet[0] = static_cast<uint8_t>(seq >> 8), packet[1] = static_cast<uint8_t>(seq);
            uint16_t protocol = 0;
            bool was_stalled = d.stalled();
            auto r = d.decompress(packet, protocol, out);
            if (r == DeflateDecompressor::Result::Ok) {
                if (was_stalled || out.size() > 1501)
                    std::abort();
                ++seq;
            } else if (!d.stalled()) {
                std::abort();
            }
            break;
        }
        case 1: {
            auto field = take(in, in.byte());
            uint16_t protocol = static_cast<uint16_t>(step << 4 | 0x01);
            bool counts = !d.stalled() && deflate_carries(protocol);
            d.incompressible(protocol, field);
            seq = static_cast<uint16_t>(seq + counts);
            break;
        }
        case 2:
            d.reset();
            c.reset();
            seq = 0;
            break;
        case 3: {
            auto field = take(in, in.byte() * 4u);
            if (c.compress(0x21, field, packet)) {
                uint16_t protocol = 0;
                if (d.decompress(packet, protocol, out) == DeflateDecompressor::Result::Ok)
                    ++seq;
            }
            break;
        }
        }
    }
}

void round_trip(alopex::fuzz::Input &in)
{
    DeflateCompressor c(9 + in.byte() % 7);
    DeflateDecompressor d(15, 1500);
    std::vector<uint8_t> z, out;
    const std::span<const uint8_t> all(in.p, in.n);
    while (in.n) {
        uint8_t len = in.byte();
        uint16_t protocol = (len & 1) ? 0x0021 : 0x0281;
        auto info = take(in, size_t{len} * 5u);
        if (c.compress(protocol, info, z)) {
            uint16_t got = 0;
            if (d.decompress(z, got, out) != DeflateDecompressor::Result::Ok || got != protocol ||
                !std::equal(out.begin(), out.end(), info.begin(), info.end()))
                std::abort();
        } else {
            d.incompressible(protocol, info);
        }
    }
    CcpOptions o({});
    for (size_t at = 0; at < all.size(); at += 16) {
        auto list = all.subspan(at, std::min<size_t>(16, all.size() - at));
        if (auto r = o.on_request(list, at % 32 == 0); r && !parse_options(r->options))
            std::abort();   // a reply that is not an option list
        o.on_nak(list);
        o.on_reject(list);
        (void)o.request();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    alopex::fuzz::Input in{data + 1, size - 1};
    if (data[0] % 2 == 0)
        hostile(in);
    else
        round_trip(in);
    return 0;
}
