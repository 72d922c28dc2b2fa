// SPDX-License-Identifier: GPL-2.0-or-later
// Network-order (big-endian) integers in PPP, IPv4, UDP and TCP, read and written in one
// place for slirpd's engines. Readers take a pointer the caller has bounds-checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace alopex::slirp::wire {

inline uint16_t be16(const uint8_t *p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t be32(const uint8_t *p)
{
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// Writers into a buffer the caller has bounds-checked.
inline void store16(uint8_t *p, uint16_t v)
{
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
inline void store32(uint8_t *p, uint32_t v)
{
    store16(p, static_cast<uint16_t>(v >> 16));
    store16(p + 2, static_cast<uint16_t>(v));
}

inline void put16(std::vector<uint8_t> &out, uint16_t v)
{
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}
inline void put32(std::vector<uint8_t> &out, uint32_t v)
{
    put16(out, static_cast<uint16_t>(v >> 16));
    put16(out, static_cast<uint16_t>(v));
}
// Overwrites two octets at `at` (a checksum or length filled in after the fact).
inline void set16(std::vector<uint8_t> &out, size_t at, uint16_t v)
{
    out[at] = static_cast<uint8_t>(v >> 8);
    out[at + 1] = static_cast<uint8_t>(v);
}
inline void set32(std::vector<uint8_t> &out, size_t at, uint32_t v)
{
    set16(out, at, static_cast<uint16_t>(v >> 16));
    set16(out, at + 2, static_cast<uint16_t>(v));
}

} // namespace alopex::slirp::wire
