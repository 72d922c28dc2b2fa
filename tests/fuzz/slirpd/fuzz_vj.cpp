// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-vj: VJ header compression (RFC 1144) both ways. The first byte chooses the
// mode and the options.
// - Even: hostile input to the decompressor. Steps of an octet each: 0 an UNCOMPRESSED_TCP
//   field, 1 a COMPRESSED_TCP field (a length octet, then the bytes), 2 a line error.
//   Every packet it gives must be a whole IPv4 packet; a compressed one's header and
//   TCP checksums must be right (one rebuilt wrong is tossed, never given).
// - Odd: a round trip. Steps of four octets change one of four TCP connections' headers
//   (sequence, ACK, window, ID, flags, urgent, TTL, options, data length); each packet
//   goes through the compressor and a decompressor and must come back octet for octet.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "fuzz_input.hpp"
#include "inet_checksum.hpp"
#include "vj.hpp"
#include "wire.hpp"

using namespace alopex::slirp;
using namespace alopex::slirp::ppp;

namespace {

void check_packet(const std::vector<uint8_t> &p, bool rebuilt)
{
    if (p.size() < 40 || p.size() > 0xFFFF || p[0] >> 4 != 4 || wire::be16(&p[2]) != p.size())
        std::abort();
    size_t ihl = size_t{p[0] & 0x0Fu} * 4;
    if (rebuilt && inet::checksum(std::span<const uint8_t>(p).first(ihl)) != 0)
        std::abort();
    auto tcp = std::span<const uint8_t>(p).subspan(ihl);
    if (rebuilt && inet::checksum_fold(inet::checksum_add(inet::pseudo_sum(p.data(), 6, tcp.size()), tcp)) != 0)
        std::abort();
}

void hostile(alopex::fuzz::Input &in, vj::Options o)
{
    vj::Decompressor d(o);
    while (in.n) {
        uint8_t op = in.byte() % 3;
        if (op == 2) {
            d.line_error();
            continue;
        }
        size_t n = std::min<size_t>(in.byte() * 2u, in.n);
        std::span<const uint8_t> field(in.p, n);
        in.p += n, in.n -= n;
        std::vector<uint8_t> out;
        if (op == 0 ? d.uncompressed(field, out).has_value() : d.compressed(field, out).has_value())
            check_packet(out, op == 1);
        else if (!out.empty())
            std::abort();   // an error leaves the output alone
    }
}

struct Conn {
    uint32_t seq = 1000, ack = 5000;
    uint16_t window = 8192, id = 1, urgent = 0;
    uint8_t flags = 0x10, ttl = 64, options = 0, data = 0;
};

std::vector<uint8_t> packet(const Conn &c, uint16_t port)
{
    size_t th = 20 + c.options * 4u, len = 20 + th + c.data;
    std::vector<uint8_t> p(len, 0);
    p[0] = 0x45;
    wire::store16(&p[2], static_cast<uint16_t>(len));
    wire::store16(&p[4], c.id);
    p[8] = c.ttl;
    p[9] = 6;
    wire::store32(&p[12], 0x0A000001);
    wire::store32(&p[16], 0x0A000002);
    wire::store16(&p[10], inet::checksum(std::span<const uint8_t>(p).first(20)));
    uint8_t *t = &p[20];
    wire::store16(t, port);
    wire::store16(t + 2, 22);
    wire::store32(t + 4, c.seq);
    wire::store32(t + 8, c.ack);
    t[12] = static_cast<uint8_t>(th / 4 << 4);
    t[13] = c.flags;
    wire::store16(t + 14, c.window);
    wire::store16(t + 18, c.urgent);
    for (size_t i = 20; i < th; ++i)
        t[i] = 1;   // NOPs
    for (size_t i = 0; i < c.data; ++i)
        p[20 + th + i] = static_cast<uint8_t>(i);
    auto tcp = std::span<const uint8_t>(p).subspan(20);
    wire::store16(t + 16, inet::checksum_fold(inet::checksum_add(inet::pseudo_sum(p.data(), 6, tcp.size()), tcp)));
    return p;
}

void round_trip(alopex::fuzz::Input &in, vj::Options o)
{
    vj::Compressor comp(o);
    vj::Decompressor dec(o);
    Conn conns[4];
    while (in.n >= 4) {
        uint8_t which = in.byte(), field = in.byte();
        uint16_t v = static_cast<uint16_t>(in.byte() << 8 | in.byte());
        Conn &c = conns[which % 4];
        switch (field % 9) {
        case 0: c.seq += v; break;
        case 1: c.ack += v; break;
        case 2: c.window = v; break;
        case 3: c.id += v; break;
        case 4: c.flags = static_cast<uint8_t>(v); break;
        case 5: c.urgent = v; break;
        case 6: c.ttl = static_cast<uint8_t>(v); break;
        case 7: c.options = static_cast<uint8_t>(v % 11); break;
        case 8: c.data = static_cast<uint8_t>(v); break;
        }
        auto p = packet(c, static_cast<uint16_t>(40000 + which % 4));
        std::vector<uint8_t> wire_bytes, back;
        switch (comp.compress(p, wire_bytes)) {
        case vj::Kind::Ip: back = wire_bytes; break;
        case vj::Kind::Uncompressed:
            if (!dec.uncompressed(wire_bytes, back))
                std::abort();
            break;
        case vj::Kind::Compressed:
            if (!dec.compressed(wire_bytes, back))
                std::abort();
            break;
        }
        if (back != p)
            std::abort();
        c.id += 1;   // the next packet's usual ID
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    alopex::fuzz::Input in{data, size};
    uint8_t mode = in.byte();
    vj::Options o{.max_slot = static_cast<uint8_t>((mode >> 1) % 16), .slot_id_compressed = (mode & 0x40) != 0};
    if (mode & 1)
        round_trip(in, o);
    else
        hostile(in, o);
    return 0;
}
