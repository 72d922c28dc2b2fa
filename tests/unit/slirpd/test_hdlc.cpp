// SPDX-License-Identifier: GPL-2.0-or-later
// RFC 1662 framing: the FCS against the CRC catalogue's check values, frames as pppd
// sends them, every chunking, the ACCM both ways, and the hostile inputs of issue 11
// (0x7D at frame end, floods of 0x7E, empty FCS-valid frames, frames over the MRU).
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "fcs.hpp"
#include "hdlc.hpp"

using namespace alopex::slirp::ppp;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

struct Collected {
    std::vector<Bytes> frames;
    Decoder::FrameSink sink()
    {
        return [this](std::span<const uint8_t> f) { frames.emplace_back(f.begin(), f.end()); };
    }
};

std::vector<Bytes> decode(Decoder &d, const Bytes &line, size_t chunk = 0)
{
    Collected c;
    if (chunk == 0) {
        d.feed(line, c.sink());
    } else {
        for (size_t i = 0; i < line.size(); i += chunk)
            d.feed(std::span(line).subspan(i, std::min(chunk, line.size() - i)), c.sink());
    }
    return c.frames;
}

// An LCP Configure-Request as pppd sends its first one: ACCM 0, magic, PFC, ACFC.
const Bytes lcp_request = {0x01, 0x01, 0x00, 0x14, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00,
                           0x05, 0x06, 0x12, 0x34, 0x56, 0x78, 0x07, 0x02, 0x08, 0x02};

} // namespace

TEST_CASE("hdlc: FCS-16 and FCS-32 give the catalogue's check values", "[slirp][hdlc]")
{
    auto check = bytes("123456789");
    CHECK(fcs16(check) == 0x906E);       // CRC-16/X-25 (IBM-SDLC)
    CHECK(fcs32(check) == 0xCBF43926);   // CRC-32/ISO-HDLC
    CHECK(fcs16({}) == 0x0000);
}

TEST_CASE("hdlc: the folded FCS-16 equals the bitwise one at every length and start", "[slirp][hdlc]")
{
    // RFC 1662's definition, one bit at a time: the reference for the tables and for the
    // carry-less-multiplication path (taken from 32 octets on on x86-64 with PCLMULQDQ).
    auto bitwise = [](uint16_t crc, std::span<const uint8_t> d) {
        for (uint8_t b : d) {
            crc ^= b;
            for (int i = 0; i < 8; ++i)
                crc = (crc & 1) ? static_cast<uint16_t>((crc >> 1) ^ 0x8408) : static_cast<uint16_t>(crc >> 1);
        }
        return crc;
    };
    std::mt19937 rng(1662);
    Bytes data(1600);
    for (auto &b : data)
        b = static_cast<uint8_t>(rng());
    for (size_t len = 0; len <= data.size(); len += (len < 80 ? 1 : 37)) {
        for (size_t off : {size_t{0}, size_t{1}, size_t{7}}) {
            if (off + len > data.size())
                continue;
            std::span<const uint8_t> d(data.data() + off, len);
            auto init = static_cast<uint16_t>(rng());
            uint16_t want = bitwise(init, d);
            CAPTURE(len, off, init);
            CHECK(crc16_table(init, d) == want);
            CHECK(crc16(init, d) == want);
        }
    }
    Bytes ones(64, 0xFF), zeros(64, 0x00);
    CHECK(crc16(fcs16_init, ones) == bitwise(fcs16_init, ones));
    CHECK(crc16(0, zeros) == 0);
}

TEST_CASE("hdlc: an LCP frame is sent whole and escaped, and comes back", "[slirp][hdlc]")
{
    Bytes line;
    // Negotiated options do not apply to LCP: address/control and every control
    // character escaped.
    encode(line, proto_lcp, lcp_request, {.send_accm = 0, .acfc = true, .pfc = true});
    REQUIRE(line.front() == flag);
    REQUIRE(line.back() == flag);
    CHECK(line[1] == 0xFF);
    CHECK(line[2] == control_escape);   // 0x03 escaped
    CHECK(line[3] == 0x23);
    for (size_t i = 1; i + 1 < line.size(); ++i) {
        CHECK(line[i] != flag);
        CHECK(line[i] >= 0x20);   // no raw control character at all
    }
    Decoder d;
    auto frames = decode(d, line);
    REQUIRE(frames.size() == 1);
    auto f = parse_frame(frames[0]);
    REQUIRE(f);
    CHECK(f->protocol == proto_lcp);
    CHECK(f->address_control);
    CHECK(Bytes(f->info.begin(), f->info.end()) == lcp_request);
    CHECK(d.stats().frames == 1);
    CHECK(d.stats().escapes > 5);
}

TEST_CASE("hdlc: IP with ACFC, PFC and ACCM 0 round-trips in every chunking and with FCS-32", "[slirp][hdlc]")
{
    Bytes payload;
    for (int i = 0; i < 600; ++i)
        payload.push_back(static_cast<uint8_t>(i * 37));   // every byte value, 0x7D and 0x7E too
    for (Fcs fcs : {Fcs::Fcs16, Fcs::Fcs32}) {
        Bytes line;
        encode(line, proto_ip, payload, {.send_accm = 0, .acfc = true, .pfc = true, .fcs = fcs});
        encode(line, proto_ipcp, lcp_request, {.send_accm = 0, .acfc = true, .pfc = true, .fcs = fcs});
        // PFC: IP's protocol is one octet; ACFC: no FF 03. IPCP cannot be compressed.
        CHECK(line[1] == 0x21);
        for (size_t chunk : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}}) {
            INFO("chunk " << chunk << " fcs " << int(fcs));
            Decoder d({.max_frame = 1508, .receive_accm = 0, .fcs = fcs});
            auto frames = decode(d, line, chunk);
            REQUIRE(frames.size() == 2);
            auto ip = parse_frame(frames[0]);
            REQUIRE(ip);
            CHECK(ip->protocol == proto_ip);
            CHECK_FALSE(ip->address_control);
            CHECK_FALSE(ip->long_protocol);
            CHECK(Bytes(ip->info.begin(), ip->info.end()) == payload);
            auto ipcp = parse_frame(frames[1]);
            REQUIRE(ipcp);
            CHECK(ipcp->protocol == proto_ipcp);
            CHECK(ipcp->long_protocol);
            CHECK(d.stats().fcs_errors == 0);
        }
    }
}

TEST_CASE("hdlc: the send ACCM escapes exactly the control characters it names", "[slirp][hdlc]")
{
    Bytes info = {0x00, 0x11, 0x13, 0x1F, 0x20, 0x7D, 0x7E, 0x80};
    Bytes line;
    size_t escaped = encode(line, proto_ip, info, {.send_accm = (1u << 0x11) | (1u << 0x13), .acfc = true, .pfc = true});
    // What it escaped: the four in the information, and any in the FCS; flags, the one
    // protocol octet, the information and the two FCS octets are the rest.
    CHECK(escaped >= 4);
    CHECK(escaped == line.size() - (2 + 1 + info.size() + 2));
    // 21 | 00 | 7D 31 | 7D 33 | 1F | 20 | 7D 5D | 7D 5E | 80 | FCS...
    Bytes want_start = {flag, 0x21, 0x00, 0x7D, 0x31, 0x7D, 0x33, 0x1F, 0x20, 0x7D, 0x5D, 0x7D, 0x5E, 0x80};
    REQUIRE(line.size() > want_start.size());
    CHECK(Bytes(line.begin(), line.begin() + static_cast<long>(want_start.size())) == want_start);
}

TEST_CASE("hdlc: the receive ACCM removes unescaped control characters a modem inserts", "[slirp][hdlc]")
{
    Bytes info = {0x11, 0x42, 0x13};
    Bytes line;
    encode(line, proto_ip, info, {.send_accm = default_accm, .acfc = true, .pfc = true});
    // XON and XOFF inserted raw by the line equipment, one of them right after an escape.
    Bytes noisy;
    for (size_t i = 0; i < line.size(); ++i) {
        noisy.push_back(line[i]);
        if (i == 1 || line[i] == control_escape)
            noisy.push_back(0x11);
    }
    Decoder d({.max_frame = 1508, .receive_accm = (1u << 0x11) | (1u << 0x13), .fcs = Fcs::Fcs16});
    auto frames = decode(d, noisy);
    REQUIRE(frames.size() == 1);
    auto f = parse_frame(frames[0]);
    REQUIRE(f);
    CHECK(Bytes(f->info.begin(), f->info.end()) == info);   // the escaped ones stay
    CHECK(d.stats().dropped_controls >= 2);
    // Without that ACCM the same bytes are data, and the FCS says so.
    Decoder plain;
    CHECK(decode(plain, noisy).empty());
    CHECK(plain.stats().fcs_errors == 1);
}

TEST_CASE("hdlc hostile: 0x7D at frame end aborts the frame; the next one is fine", "[slirp][hdlc]")
{
    Bytes good;
    encode(good, proto_ip, bytes("hello"), {});
    Bytes line = {flag, 0x21, 0x41, 0x42, control_escape, flag};
    line.insert(line.end(), good.begin(), good.end());
    Decoder d;
    auto frames = decode(d, line);
    CHECK(frames.size() == 1);
    CHECK(d.stats().aborts == 1);
    CHECK(d.stats().fcs_errors == 0);
}

TEST_CASE("hdlc hostile: a flood of flags, garbage before the first flag, empty FCS-valid frames", "[slirp][hdlc]")
{
    Decoder d;
    Bytes line(100000, flag);
    CHECK(decode(d, line).empty());
    CHECK(d.stats().frames + d.stats().too_short + d.stats().fcs_errors == 0);

    Decoder g;
    Bytes garbage = {0x01, 0x02, 0x03, 0x21, 0x00};   // the middle of something, no flag yet
    CHECK(decode(g, garbage).empty());
    CHECK(g.stats().fcs_errors == 0);

    // An FCS over nothing, and over one octet: FCS-valid, but no PPP frame is that short.
    for (size_t n : {size_t{0}, size_t{1}}) {
        Bytes body(n, 0x21);
        uint16_t c = fcs16(body);
        body.push_back(static_cast<uint8_t>(c));
        body.push_back(static_cast<uint8_t>(c >> 8));
        Bytes framed = {flag};
        for (uint8_t b : body) {
            if (b == flag || b == control_escape || b < 0x20) {
                framed.push_back(control_escape);
                framed.push_back(b ^ escape_xor);
            } else {
                framed.push_back(b);
            }
        }
        framed.push_back(flag);
        Decoder e;
        CHECK(decode(e, framed).empty());
        CHECK(e.stats().too_short == 1);
        CHECK(e.stats().fcs_errors == 0);
    }
}

TEST_CASE("hdlc hostile: a frame over the MRU is dropped at once and counted; memory stays bounded", "[slirp][hdlc]")
{
    Decoder d({.max_frame = 100, .receive_accm = 0, .fcs = Fcs::Fcs16});
    Bytes line = {flag};
    line.insert(line.end(), 1'000'000, 0x41);   // a megabyte without a flag
    Bytes good;
    encode(good, proto_ip, Bytes(90, 0x42), {});
    line.insert(line.end(), good.begin(), good.end());
    auto frames = decode(d, line, 4096);
    REQUIRE(frames.size() == 1);
    CHECK(d.stats().too_long == 1);
    // Exactly at the limit is kept, one more is not.
    Bytes at, over;
    encode(at, proto_ip, Bytes(100 - 4 - 2, 0x43), {});     // FF 03 00 21 + 94 + FCS = 100
    encode(over, proto_ip, Bytes(100 - 4 - 1, 0x43), {});
    Decoder e({.max_frame = 100, .receive_accm = 0, .fcs = Fcs::Fcs16});
    CHECK(decode(e, at).size() == 1);
    CHECK(decode(e, over).empty());
    CHECK(e.stats().too_long == 1);
}

TEST_CASE("hdlc: a flipped bit is an FCS error, counted, nothing delivered", "[slirp][hdlc]")
{
    Bytes line;
    encode(line, proto_ip, bytes("some data here"), {});
    for (size_t i = 1; i + 1 < line.size(); ++i) {
        Bytes bad = line;
        bad[i] ^= 0x04;
        if (bad[i] == flag || bad[i] == control_escape || line[i] == control_escape)
            continue;   // a changed framing byte is another error, tested above
        Decoder d;
        CHECK(decode(d, bad).empty());
        CHECK(d.stats().fcs_errors == 1);
    }
}

TEST_CASE("hdlc: protocol fields as RFC 1661 allows them, and broken ones", "[slirp][hdlc]")
{
    auto p = [](Bytes f) { return parse_frame(f); };
    CHECK(p({0xFF, 0x03, 0xC0, 0x21, 1})->protocol == proto_lcp);
    CHECK(p({0xC0, 0x21, 1})->protocol == proto_lcp);   // no address/control
    CHECK(p({0x21, 0x45})->protocol == proto_ip);       // compressed
    CHECK(p({0x00, 0x21, 0x45})->protocol == proto_ip);
    CHECK_FALSE(p({0xFF, 0x05, 0xC0, 0x21}));           // control not UI
    CHECK_FALSE(p({0xFF}));
    CHECK_FALSE(p({0xFF, 0x03}));                       // no protocol
    CHECK_FALSE(p({0xC0}));                             // cut short
    CHECK_FALSE(p({0xC0, 0x20, 1}));                    // second octet even
    CHECK_FALSE(p({}));
}
