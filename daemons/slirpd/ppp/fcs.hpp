// SPDX-License-Identifier: GPL-2.0-or-later
// The frame check sequences of RFC 1662 (appendix C): the running, uncomplemented CRCs
// that the encoder and decoder use. fcs16()/fcs32() in hdlc.hpp are the complemented
// values that go on the line.
#pragma once

#include <cstdint>
#include <span>

namespace alopex::slirp::ppp {

inline constexpr uint16_t fcs16_init = 0xFFFF, fcs16_good = 0xF0B8;
inline constexpr uint32_t fcs32_init = 0xFFFFFFFF, fcs32_good = 0xDEBB20E3;

// The reflected CRC (polynomial 0x8408) of `data` continued from `crc`. On x86-64 with
// PCLMULQDQ, runs of 32 octets and more are folded 16 at a time by carry-less
// multiplication; elsewhere, and for the rest, tables sliced by 8.
uint16_t crc16(uint16_t crc, std::span<const uint8_t> data);
// The same with the table alone (the reference the folded path is tested against).
uint16_t crc16_table(uint16_t crc, std::span<const uint8_t> data);
// The reflected CRC-32 (polynomial 0xEDB88320) of `data` continued from `crc`.
uint32_t crc32(uint32_t crc, std::span<const uint8_t> data);

} // namespace alopex::slirp::ppp
