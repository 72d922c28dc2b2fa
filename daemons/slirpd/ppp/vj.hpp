// SPDX-License-Identifier: GPL-2.0-or-later
// Van Jacobson TCP/IP header compression (RFC 1144), as IPCP negotiates it (RFC 1332
// §3.2: protocol 0x002D, Max-Slot-Id, Comp-Slot-Id), pure: IPv4 packets in, PPP
// information fields out, and back.
//
// Compressor: a TCP segment that only ACKs (no SYN, FIN or RST, not a fragment) of a
// connection it has a slot for goes as COMPRESSED_TCP: a change mask, the slot when it
// changed, the TCP checksum, and the deltas of what changed (urgent pointer, window, ACK,
// sequence, IP ID), with RFC 1144's special cases for echoed interactive traffic and
// one-way data; then the data. The first segment of a connection, and any whose header
// changed in a way the deltas cannot say (options, TTL, TOS, a sequence jump beyond 16
// bits, a retransmission), goes as UNCOMPRESSED_TCP: the packet itself with the slot in
// place of the protocol octet. Anything else goes as plain IP. Slots are reused least
// recently used first.
//
// Decompressor: the reverse, with the RFC's error recovery. After a line error (an FCS
// error, line_error()) or a packet that cannot be decoded, compressed packets that do
// not name their slot are tossed until one does (or until an UNCOMPRESSED_TCP). A
// rebuilt packet whose TCP checksum is wrong (a delta was lost with a spoiled frame, so
// the slot's header is stale) is tossed too, and so is every later compressed packet of
// its slot until an UNCOMPRESSED_TCP for it sets the slot up again (the compressor sends
// one for the retransmission or duplicate ACK that follows). The stack never sees a
// packet rebuilt wrong, and other connections go on. A compressed packet for a slot
// never set up is an error, not a packet built from zeros.
// Every read is bounds-checked; a rebuilt packet is at most 65535 octets, its IP header
// checksum recomputed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::slirp::ppp::vj {

inline constexpr uint16_t protocol = 0x002D;      // in IPCP's IP-Compression-Protocol
inline constexpr size_t max_header = 128;         // IP and TCP headers kept per slot (RFC 1144's MAX_HDR)

struct Options {
    uint8_t max_slot = 15;             // slots 0..max_slot (pppd: 15)
    bool slot_id_compressed = true;    // the slot may be left out when it did not change
};

enum class Kind : uint8_t { Ip, Uncompressed, Compressed };   // PPP 0x0021, 0x002F, 0x002D

struct Stats {
    uint64_t ip = 0, uncompressed = 0, compressed = 0;   // by kind, sent or received
    uint64_t header_octets_saved = 0;                    // compressor: headers left out
    uint64_t errors = 0;                                 // decompressor: could not decode
    uint64_t tossed = 0;                                 // decompressor: dropped after an error
};

class Compressor {
public:
    explicit Compressor(Options options = {});
    // The PPP information field for IPv4 packet `packet`, appended to `out`, and which
    // protocol it goes as.
    Kind compress(std::span<const uint8_t> packet, std::vector<uint8_t> &out);
    const Stats &stats() const noexcept { return stats_; }

private:
    struct Slot {
        uint8_t id = 0;
        size_t hlen = 0;   // 0: unused
        std::array<uint8_t, max_header> header{};
    };
    Kind uncompressed(Slot &s, std::span<const uint8_t> packet, size_t hlen, std::vector<uint8_t> &out);

    Options opt_;
    std::vector<Slot> slots_;   // most recently used first
    int last_sent_ = -1;
    Stats stats_;
};

class Decompressor {
public:
    explicit Decompressor(Options options = {});
    // The IPv4 packet of an UNCOMPRESSED_TCP (0x002F) or COMPRESSED_TCP (0x002D)
    // information field, appended to `out`. An error leaves `out` as it was.
    Result<> uncompressed(std::span<const uint8_t> info, std::vector<uint8_t> &out);
    Result<> compressed(std::span<const uint8_t> info, std::vector<uint8_t> &out);
    // A frame was lost on the line (an FCS error): toss until a packet names its slot.
    void line_error() noexcept { toss_ = true; }
    const Stats &stats() const noexcept { return stats_; }

private:
    struct Slot {
        size_t hlen = 0;      // 0: never set up
        bool stale = false;   // a rebuilt packet's TCP checksum failed: until UNCOMPRESSED_TCP
        std::array<uint8_t, max_header> header{};
    };
    Result<> bad(const char *what);

    Options opt_;
    std::vector<Slot> slots_;   // by id
    unsigned last_recv_ = 0;
    bool toss_ = true;          // nothing named yet
    Stats stats_;
};

} // namespace alopex::slirp::ppp::vj
