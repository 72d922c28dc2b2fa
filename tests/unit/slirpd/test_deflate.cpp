// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's Deflate (RFC 1979) against a kernel-like reference on zlib (kernel_deflate.hpp):
// both directions over packets that compress and packets that do not (sent plain, into
// both histories), protocols with one and two octets, and hostile input: a missing
// packet, garbage, a final block, a packet cut short, a decompression bomb, each an
// error that stalls the decompressor until reset, never more than the MRU out.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "deflate.hpp"
#include "kernel_deflate.hpp"

using namespace alopex::slirp::ppp;
using Bytes = std::vector<uint8_t>;

namespace {

// Packets of a mixed stream: text-like (compresses), random (does not), tiny.
Bytes packet(std::mt19937 &rng, int i)
{
    Bytes p(20 + rng() % 1400);
    if (i % 3 == 0) {
        for (auto &b : p)
            b = static_cast<uint8_t>(rng());
    } else {
        static const char words[] = "GET /index.html HTTP/1.1 Host: pikvm.local Accept: */* ";
        for (size_t k = 0; k < p.size(); ++k)
            p[k] = static_cast<uint8_t>(words[(k + rng() % 3) % (sizeof words - 1)]);
    }
    if (i % 7 == 0)
        p.resize(3);
    return p;
}

} // namespace

TEST_CASE("deflate: which protocols go through the history", "[slirp][deflate]")
{
    CHECK(deflate_carries(0x0021));   // IP
    CHECK(deflate_carries(0x002D));   // VJ
    CHECK(deflate_carries(0x0057));   // IPv6
    CHECK(deflate_carries(0x0281));   // MPLS: two octets into the history
    CHECK_FALSE(deflate_carries(0x00FD));
    CHECK_FALSE(deflate_carries(0x00FB));
    CHECK_FALSE(deflate_carries(0x8021));   // IPCP
    CHECK_FALSE(deflate_carries(0x80FD));   // CCP
    CHECK_FALSE(deflate_carries(0xC021));   // LCP
}

TEST_CASE("deflate: slirpd's compressor, the kernel's decompressor", "[slirp][deflate]")
{
    DeflateCompressor ours(15);
    slirp_test::KernelDeflate kernel;
    std::mt19937 rng(1);
    int compressed = 0, plain = 0;
    Bytes out;
    for (int i = 0; i < 2000; ++i) {
        Bytes p = packet(rng, i);
        uint16_t protocol = i % 11 == 0 ? 0x0281 : i % 5 == 0 ? 0x002D : 0x0021;
        if (ours.compress(protocol, p, out)) {
            ++compressed;
            CHECK(out.size() < p.size() + (protocol > 0xFF ? 2 : 1));
            auto got = kernel.decompress(out);
            REQUIRE(got);
            CHECK(got->first == protocol);
            CHECK(got->second == p);
        } else {
            ++plain;
            kernel.incomp(protocol, p);
        }
        // Control protocols pass by: no sequence number, no history.
        if (i % 13 == 0)
            CHECK_FALSE(ours.compress(0x8021, Bytes{1, 2, 3, 4}, out));
    }
    CHECK(compressed > 1000);
    CHECK(plain > 300);
    CHECK(ours.sequence() == 2000);
    // The peer's Reset-Request: both start again.
    ours.reset();
    kernel.reset_decompressor();
    Bytes p(500, 'x');
    REQUIRE(ours.compress(0x21, p, out));
    CHECK(out[0] == 0);
    CHECK(out[1] == 0);
    REQUIRE(kernel.decompress(out));
}

TEST_CASE("deflate: the kernel's compressor, slirpd's decompressor", "[slirp][deflate]")
{
    slirp_test::KernelDeflate kernel;
    DeflateDecompressor ours(15, 1500);
    std::mt19937 rng(2);
    int compressed = 0;
    Bytes out;
    for (int i = 0; i < 2000; ++i) {
        Bytes p = packet(rng, i);
        uint16_t protocol = i % 11 == 0 ? 0x0281 : 0x0021;
        auto z = kernel.compress(protocol, p);
        if (!z) {
            ours.incompressible(protocol, p);
            continue;
        }
        ++compressed;
        uint16_t got_protocol = 0;
        REQUIRE(ours.decompress(*z, got_protocol, out) == DeflateDecompressor::Result::Ok);
        CHECK(got_protocol == protocol);
        CHECK(out == p);
    }
    CHECK(compressed > 1000);
    CHECK(kernel.plain_out > 300);
}

TEST_CASE("deflate: a missing packet stalls the decompressor until reset", "[slirp][deflate]")
{
    slirp_test::KernelDeflate kernel;
    DeflateDecompressor ours(15, 1500);
    Bytes p(400, 'a'), out;
    uint16_t protocol = 0;
    auto first = kernel.compress(0x21, p);
    auto second = kernel.compress(0x21, p);   // first lost on the line
    REQUIRE(second);
    CHECK(ours.decompress(*second, protocol, out) == DeflateDecompressor::Result::Error);
    CHECK(ours.stalled());
    CHECK(ours.decompress(*first, protocol, out) == DeflateDecompressor::Result::Stalled);
    ours.incompressible(0x21, p);   // nothing goes into a stalled history
    // The Reset-Request reached the peer; its Reset-Ack resets ours.
    kernel.reset_compressor();
    ours.reset();
    auto fresh = kernel.compress(0x21, p);
    REQUIRE(fresh);
    REQUIRE(ours.decompress(*fresh, protocol, out) == DeflateDecompressor::Result::Ok);
    CHECK(out == p);
}

TEST_CASE("deflate: hostile compressed packets are errors, never more than the MRU", "[slirp][deflate]")
{
    Bytes out;
    uint16_t protocol = 0;
    auto fresh = [] { return std::make_unique<DeflateDecompressor>(15, 1500); };
    auto result = [&](const Bytes &info) { return fresh()->decompress(info, protocol, out); };
    using R = DeflateDecompressor::Result;
    CHECK(result({}) == R::Error);
    CHECK(result({0, 0}) == R::Error);
    CHECK(result({0, 0, 0xFF, 0xFF, 0xFF, 0xFF}) == R::Error);   // not deflate
    CHECK(result({0, 1, 0x4A, 0x04, 0x00}) == R::Error);         // sequence 1 first
    // A final block (BFINAL): the stream would end; the kernel's compressor never does it.
    {
        z_stream s{};
        deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
        Bytes in = {0x21, 'h', 'i'}, z(64);
        s.next_in = in.data(), s.avail_in = 3, s.next_out = z.data(), s.avail_out = 64;
        deflate(&s, Z_FINISH);
        z.resize(64 - s.avail_out);
        deflateEnd(&s);
        z.insert(z.begin(), {0, 0});
        CHECK(result(z) == R::Error);
    }
    // A bomb: 64 KiB of zeros in a few hundred octets, inflating past the MRU.
    {
        slirp_test::KernelDeflate kernel;
        Bytes zeros(60000, 0);
        auto z = kernel.compress(0x21, zeros);
        REQUIRE(z);
        CHECK(z->size() < 300);
        auto d = fresh();
        CHECK(d->decompress(*z, protocol, out) == R::Error);
        CHECK(out.size() <= 1503);
    }
    // Cut short, in the middle of a block.
    {
        slirp_test::KernelDeflate kernel;
        Bytes text(800);
        for (size_t i = 0; i < text.size(); ++i)
            text[i] = static_cast<uint8_t>("abcdefgh"[i * 7 % 8]);
        auto z = kernel.compress(0x21, text);
        REQUIRE(z);
        z->resize(z->size() / 2);
        CHECK(result(*z) == R::Error);
    }
    // Random bytes after a right sequence number: an error or, by chance, a packet; never
    // a crash or more than the MRU (ASan watches).
    std::mt19937 rng(3);
    for (int i = 0; i < 2000; ++i) {
        Bytes junk(2 + rng() % 200);
        for (auto &b : junk)
            b = static_cast<uint8_t>(rng());
        junk[0] = junk[1] = 0;
        auto d = fresh();
        if (d->decompress(junk, protocol, out) == R::Ok)
            CHECK(out.size() <= 1502);
    }
}
