// SPDX-License-Identifier: GPL-2.0-or-later
#include "fcs.hpp"

#include <array>
#include <cstring>

#include "hdlc.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace alopex::slirp::ppp {
namespace {

// Reflected CRC tables: polynomials 0x8408 and 0xEDB88320.
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

// Slicing-by-8: slice16[k][n] is the CRC of octet n followed by k zero octets.
constexpr std::array<std::array<uint16_t, 256>, 8> slice16 = [] {
    std::array<std::array<uint16_t, 256>, 8> t{};
    t[0] = table16;
    for (size_t k = 1; k < 8; ++k)
        for (unsigned n = 0; n < 256; ++n)
            t[k][n] = static_cast<uint16_t>((t[k - 1][n] >> 8) ^ table16[t[k - 1][n] & 0xFF]);
    return t;
}();

#if defined(__x86_64__)
// Folding (the method of Intel's "Fast CRC Computation for Generic Polynomials Using
// PCLMULQDQ"). In the reflected order bit i of a 64-bit word is the coefficient of
// x^(63-i), and a carry-less product of two such words carries one extra factor x. With
// the CRC's register XORed into the first octets, the CRC from 0 depends only on the
// message's polynomial modulo P: a 128-bit block X = H:L followed by the block B can be
// replaced by L*k1 ^ H*k2 ^ B, where k1 = x^191 mod P and k2 = x^127 mod P (one x less
// for the product's own), both reflected into 64 bits. The last 16 octets of the fold go
// through the table.
constexpr uint64_t reflected_power(unsigned n)
{
    uint32_t r = 1;   // x^n mod (x^16 + x^12 + x^5 + 1), in the normal order
    for (unsigned i = 0; i < n; ++i) {
        r <<= 1;
        if (r & 0x10000)
            r ^= 0x11021;
    }
    uint64_t out = 0;
    for (unsigned d = 0; d < 16; ++d)
        if (r >> d & 1)
            out |= uint64_t{1} << (63 - d);
    return out;
}
constexpr uint64_t fold_k1 = reflected_power(191), fold_k2 = reflected_power(127);

__attribute__((target("pclmul,sse2"))) uint16_t crc16_fold(uint16_t crc, const uint8_t *p, size_t n)
{
    __m128i x = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)), _mm_cvtsi32_si128(crc));
    const __m128i k = _mm_set_epi64x(static_cast<long long>(fold_k2), static_cast<long long>(fold_k1));
    p += 16;
    n -= 16;
    for (; n >= 16; p += 16, n -= 16) {
        __m128i lo = _mm_clmulepi64_si128(x, k, 0x00);   // L * k1
        __m128i hi = _mm_clmulepi64_si128(x, k, 0x11);   // H * k2
        x = _mm_xor_si128(_mm_xor_si128(lo, hi), _mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
    }
    uint8_t folded[16];
    _mm_storeu_si128(reinterpret_cast<__m128i *>(folded), x);
    return crc16_table(crc16_table(0, folded), std::span<const uint8_t>(p, n));
}

// Read at static initialization: the CPU model is set up first (it may run before
// libgcc's own constructor that does it).
const bool have_pclmul = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") != 0;
}();
#endif

} // namespace

uint16_t crc16_table(uint16_t crc, std::span<const uint8_t> d)
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

uint16_t crc16(uint16_t crc, std::span<const uint8_t> d)
{
#if defined(__x86_64__)
    if (d.size() >= 32 && have_pclmul)
        return crc16_fold(crc, d.data(), d.size());
#endif
    return crc16_table(crc, d);
}

uint32_t crc32(uint32_t crc, std::span<const uint8_t> d)
{
    for (uint8_t b : d)
        crc = (crc >> 8) ^ table32[(crc ^ b) & 0xFF];
    return crc;
}

uint16_t fcs16(std::span<const uint8_t> data) { return static_cast<uint16_t>(~crc16(fcs16_init, data)); }
uint32_t fcs32(std::span<const uint8_t> data) { return ~crc32(fcs32_init, data); }

} // namespace alopex::slirp::ppp
