// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-hdlc: line bytes into the RFC 1662 decoder. The first byte chooses the FCS,
// the chunking and the MRU, the next four the receive ACCM. Every frame delivered must
// fit max_frame; every one parse_frame() takes must come back the same through encode()
// and a fresh decoder, with any send ACCM.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "hdlc.hpp"

using namespace alopex::slirp::ppp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    uint8_t mode = data[0];
    uint32_t accm = uint32_t{data[1]} | uint32_t{data[2]} << 8 | uint32_t{data[3]} << 16 | uint32_t{data[4]} << 24;
    std::span<const uint8_t> line(data + 5, size - 5);
    DecoderOptions o{.max_frame = (mode & 0x80) ? 64u : 1508u, .receive_accm = accm,
                     .fcs = (mode & 1) ? Fcs::Fcs32 : Fcs::Fcs16};
    size_t chunk = 1 + ((mode >> 1) & 0x1F);
    Decoder d(o);
    std::vector<std::vector<uint8_t>> frames;
    for (size_t i = 0; i < line.size(); i += chunk)
        d.feed(line.subspan(i, std::min(chunk, line.size() - i)), [&](std::span<const uint8_t> f) {
            if (f.size() + fcs_size(o.fcs) > o.max_frame)
                std::abort();
            frames.emplace_back(f.begin(), f.end());
        });
    const auto &s = d.stats();
    if (s.bytes != line.size() || s.frames != frames.size())
        std::abort();
    for (const auto &f : frames) {
        auto p = parse_frame(f);
        if (!p)
            continue;
        std::vector<uint8_t> again;
        encode(again, p->protocol, p->info,
               {.send_accm = ~accm, .acfc = !p->address_control, .pfc = !p->long_protocol, .fcs = o.fcs});
        Decoder back({.max_frame = 1 << 16, .receive_accm = 0, .fcs = o.fcs});
        size_t n = 0;
        back.feed(again, [&](std::span<const uint8_t> g) {
            auto q = parse_frame(g);
            if (!q || q->protocol != p->protocol || !std::equal(q->info.begin(), q->info.end(), p->info.begin(),
                                                                p->info.end()))
                std::abort();
            ++n;
        });
        if (n != 1)
            std::abort();
    }
    return 0;
}
