// SPDX-License-Identifier: GPL-2.0-or-later
// VJ header compression (RFC 1144): every kind of change goes through the compressor and
// comes back from the decompressor octet for octet; what the deltas cannot say goes
// uncompressed or as plain IP; and the decompressor's answers to hostile input: slots
// never set up or beyond Max-Slot-Id, every truncation, the toss after a line error.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "inet_checksum.hpp"
#include "tcp_packet.hpp"
#include "vj.hpp"

using namespace alopex::slirp::ppp;
using Bytes = std::vector<uint8_t>;
using slirp_test::packet;
using slirp_test::Seg;

namespace {

struct Pair {
    vj::Compressor c;
    vj::Decompressor d;
    explicit Pair(vj::Options o = {}) : c(o), d(o) {}
    // Through both; the kind it went as and the size of what went.
    std::pair<vj::Kind, size_t> pass(const Seg &s)
    {
        Bytes p = packet(s), wire, back;
        auto kind = c.compress(p, wire);
        if (kind == vj::Kind::Ip)
            back = wire;
        else if (kind == vj::Kind::Uncompressed)
            REQUIRE(d.uncompressed(wire, back));
        else
            REQUIRE(d.compressed(wire, back));
        CHECK(back == p);
        return {kind, wire.size()};
    }
};

} // namespace

TEST_CASE("vj: one-way data compresses to three octets of header and comes back exact", "[slirp][vj]")
{
    Pair v;
    Seg s;
    s.data = 1000;
    CHECK(v.pass(s).first == vj::Kind::Uncompressed);   // the connection's first
    for (int i = 0; i < 20; ++i) {
        s.seq += 1000;
        ++s.id;
        auto [kind, size] = v.pass(s);
        CHECK(kind == vj::Kind::Compressed);
        CHECK(size == 3 + 1000);   // change mask (SPECIAL_D), checksum; the slot unchanged
    }
    CHECK(v.c.stats().compressed == 20);
    CHECK(v.c.stats().header_octets_saved == 20 * 37);
}

TEST_CASE("vj: echoed keystrokes, ACKs with window changes, URG, PSH, IP ID jumps", "[slirp][vj]")
{
    Pair v;
    Seg s;
    s.data = 1;
    v.pass(s);
    // Interactive: a keystroke each way, seq and ack move by the last length (SPECIAL_I).
    for (int i = 0; i < 5; ++i) {
        s.seq += 1;
        s.ack += 1;
        ++s.id;
        auto [kind, size] = v.pass(s);
        CHECK(kind == vj::Kind::Compressed);
        CHECK(size == 3 + 1);
    }
    // Pure ACKs: ack and window move; the ID by more than one; then big deltas.
    s.data = 0;
    s.ack += 300;
    s.window = 30000;
    s.id += 5;
    CHECK(v.pass(s).first == vj::Kind::Compressed);
    s.ack += 40000;   // three octets
    s.window = 100;   // a window that shrank
    ++s.id;
    CHECK(v.pass(s).first == vj::Kind::Compressed);
    // Data after a pure ACK with nothing else changed (RFC 1144's case 0).
    s.data = 20;
    ++s.id;
    CHECK(v.pass(s).first == vj::Kind::Compressed);
    // URG and PSH; an ID that wrapped; an ID delta of 0.
    s.seq += 20;
    s.flags = 0x10 | 0x20 | 0x08;
    s.urgent = 7;
    s.id = 2;
    CHECK(v.pass(s).first == vj::Kind::Compressed);
    // URG gone and the urgent field back to 0: a change without URG, which no delta says.
    s.seq += 20;
    s.flags = 0x10;
    s.urgent = 0;
    CHECK(v.pass(s).first == vj::Kind::Uncompressed);
    s.seq += 20;
    ++s.id;
    CHECK(v.pass(s).first == vj::Kind::Compressed);
}

TEST_CASE("vj: what the deltas cannot say goes uncompressed, what is not a plain ACK as IP", "[slirp][vj]")
{
    Pair v;
    Seg s;
    s.data = 100;
    v.pass(s);
    auto next = [&](auto change) {
        s.seq += 100;
        ++s.id;
        change(s);
        return v.pass(s).first;
    };
    CHECK(next([](Seg &) {}) == vj::Kind::Compressed);
    CHECK(next([](Seg &x) { x.ttl = 63; }) == vj::Kind::Uncompressed);
    CHECK(next([](Seg &x) { x.tcp_options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}; }) == vj::Kind::Uncompressed);
    CHECK(next([](Seg &x) { x.tcp_options = {1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 3}; }) == vj::Kind::Uncompressed);
    CHECK(next([](Seg &x) { x.seq += 70000; }) == vj::Kind::Uncompressed);
    CHECK(next([](Seg &x) { x.seq -= 100; }) == vj::Kind::Uncompressed);   // a retransmission
    // Nothing moved but the length, after a segment with data: a retransmission cut
    // differently, sent whole (RFC 1144's case 0).
    s.data = 60;
    ++s.id;
    CHECK(v.pass(s).first == vj::Kind::Uncompressed);
    s.data = 100;
    CHECK(next([](Seg &x) { x.tos = 0x10; }) == vj::Kind::Uncompressed);
    CHECK(next([](Seg &x) { x.flags = 0x10 | 0x40; }) == vj::Kind::Uncompressed);   // ECE (RFC 3168)
    CHECK(next([](Seg &) {}) == vj::Kind::Compressed);                              // still ECE
    CHECK(next([](Seg &x) { x.flags = 0x10; }) == vj::Kind::Uncompressed);
    CHECK(next([](Seg &x) { x.flags = 0x10 | 0x01; }) == vj::Kind::Ip);    // FIN
    CHECK(next([](Seg &x) { x.flags = 0x02; }) == vj::Kind::Ip);           // SYN
    CHECK(next([](Seg &x) { x.flags = 0x04; }) == vj::Kind::Ip);           // RST
    // Not TCP, or a fragment: plain IP, whatever it is.
    Bytes udp = packet(s);
    udp[9] = 17;
    Bytes out;
    CHECK(v.c.compress(udp, out) == vj::Kind::Ip);
    CHECK(out == udp);
    Bytes frag = packet(s);
    frag[6] = 0x20;   // more fragments
    out.clear();
    CHECK(v.c.compress(frag, out) == vj::Kind::Ip);
}

TEST_CASE("vj: connections share the slots, the least recently used reused", "[slirp][vj]")
{
    vj::Options o;
    o.max_slot = 2;   // three slots
    Pair v(o);
    std::vector<Seg> conns(4);
    for (size_t i = 0; i < conns.size(); ++i) {
        conns[i].sport = static_cast<uint16_t>(40000 + i);
        conns[i].data = 50;
    }
    // Round-robin over four connections with three slots: every packet finds its slot
    // taken, and goes uncompressed.
    for (int round = 0; round < 3; ++round)
        for (auto &s : conns) {
            s.seq += 50;
            ++s.id;
            CHECK(v.pass(s).first == vj::Kind::Uncompressed);
        }
    // Three of them only: each keeps its slot; a change of connection names the slot.
    for (int round = 0; round < 3; ++round)
        for (size_t i = 0; i < 3; ++i) {
            conns[i].seq += 50;
            ++conns[i].id;
            auto [kind, size] = v.pass(conns[i]);
            if (round > 0) {
                CHECK(kind == vj::Kind::Compressed);
                CHECK(size == 4 + 50);   // the slot octet too
            }
        }
}

TEST_CASE("vj: without Comp-Slot-Id every compressed packet names its slot", "[slirp][vj]")
{
    vj::Options o;
    o.slot_id_compressed = false;
    Pair v(o);
    Seg s;
    s.data = 10;
    v.pass(s);
    s.seq += 10;
    ++s.id;
    auto [kind, size] = v.pass(s);
    CHECK(kind == vj::Kind::Compressed);
    CHECK(size == 4 + 10);
}

TEST_CASE("vj hostile: slots never set up or beyond Max-Slot-Id, truncations, the toss after an error",
          "[slirp][vj]")
{
    vj::Decompressor d;
    Bytes out;
    // A compressed packet before any uncompressed one: no state to build from.
    CHECK_FALSE(d.compressed(Bytes{0x40 | 0x08, 0, 0x12, 0x34, 5}, out));
    CHECK_FALSE(d.compressed(Bytes{0x40, 16, 0, 0}, out));   // slot 16 > 15
    CHECK_FALSE(d.compressed(Bytes{}, out));
    CHECK(out.empty());

    // Set up slot 3, then every truncation of a compressed packet using all fields.
    Seg s;
    s.data = 10;
    Bytes first = packet(s);
    first[9] = 3;
    REQUIRE(d.uncompressed(first, out));
    // C, I, U, W, A; slot 3; checksum; urgent 256 (three octets), window +5, ack +4096
    // (three octets), ID +9; then three octets of data. The checksum is the one of the
    // packet those changes make.
    Seg changed = s;
    changed.flags |= 0x20, changed.urgent = 256, changed.window += 5, changed.ack += 4096, changed.id += 9;
    changed.data = 3;
    Bytes want = packet(changed);
    Bytes full = {0x40 | 0x20 | 0x01 | 0x02 | 0x04, 3, want[36], want[37], 0, 0x01, 0x00, 5, 0, 0x10, 0x00, 9};
    full.insert(full.end(), want.begin() + 40, want.end());
    for (size_t n = 0; n < 12; ++n) {
        out.clear();
        INFO("length " << n);
        CHECK_FALSE(d.compressed(std::span(full).first(n), out));
        CHECK(out.empty());
    }
    out.clear();
    REQUIRE(d.compressed(full, out));   // all of it: a packet
    CHECK(out == want);
    CHECK(alopex::slirp::inet::checksum(std::span<const uint8_t>(out).first(20)) == 0);

    // After a line error, packets without their slot are tossed until one names it.
    Seg next = changed;
    next.flags = 0x10, next.seq += 1, next.id += 1, next.data = 0;
    Bytes next_packet = packet(next);
    d.line_error();
    out.clear();
    auto r = d.compressed(Bytes{0x08, next_packet[36], next_packet[37], 1}, out);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == EAGAIN);
    CHECK(d.stats().tossed == 1);
    REQUIRE(d.compressed(Bytes{0x40 | 0x08, 3, next_packet[36], next_packet[37], 1}, out));
    CHECK(out == next_packet);
    next.seq += 1, next.id += 1;
    next_packet = packet(next);
    CHECK(d.compressed(Bytes{0x08, next_packet[36], next_packet[37], 1}, out));

    // A packet whose delta was lost with a spoiled frame names its slot but is rebuilt
    // wrong: its TCP checksum fails. It is tossed, and the slot's next packets with it
    // (even right ones: their deltas build on the wrong header) until an uncompressed one.
    out.clear();
    uint64_t errors = d.stats().errors;
    next.seq += 2, next.id += 2;   // one packet (seq +1) lost: this one says +1 again
    next_packet = packet(next);
    r = d.compressed(Bytes{0x40 | 0x08, 3, next_packet[36], next_packet[37], 1}, out);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == EAGAIN);
    CHECK(d.stats().tossed == 2);
    CHECK_FALSE(d.compressed(Bytes{0x40 | 0x08, 3, next_packet[36], next_packet[37], 2}, out));
    CHECK(d.stats().tossed == 3);
    CHECK(out.empty());
    Bytes resent = next_packet;
    resent[9] = 3;
    REQUIRE(d.uncompressed(resent, out));
    next.seq += 1, next.id += 1;
    next_packet = packet(next);
    out.clear();
    REQUIRE(d.compressed(Bytes{0x08, next_packet[36], next_packet[37], 1}, out));
    CHECK(out == next_packet);
    CHECK(d.stats().errors == errors);   // tossed, not errors

    // Uncompressed packets that lie about their lengths, or name a slot beyond 15.
    Bytes lie = first;
    lie[2] = 0x7F;   // total length
    CHECK_FALSE(d.uncompressed(lie, out));
    lie = first;
    lie[0] = 0x4F;   // IP header of 60 octets
    CHECK_FALSE(d.uncompressed(lie, out));
    lie = first;
    lie[32] = 0xF0;   // TCP header of 60 octets
    CHECK_FALSE(d.uncompressed(lie, out));
    lie = first;
    lie[9] = 16;
    CHECK_FALSE(d.uncompressed(lie, out));
    CHECK_FALSE(d.uncompressed(std::span(first).first(39), out));
}
