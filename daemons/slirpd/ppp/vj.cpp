// SPDX-License-Identifier: GPL-2.0-or-later
#include "vj.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "inet_checksum.hpp"
#include "wire.hpp"

namespace alopex::slirp::ppp::vj {

using wire::be16;
using wire::be32;
using wire::store16;
using wire::store32;

namespace {

// The change mask (RFC 1144 §3.2.2).
constexpr uint8_t new_c = 0x40, new_i = 0x20, push_bit = 0x10, new_s = 0x08, new_a = 0x04, new_w = 0x02,
                  new_u = 0x01;
constexpr uint8_t special_i = new_s | new_w | new_u;           // echoed interactive traffic
constexpr uint8_t special_d = new_s | new_a | new_w | new_u;   // one-way data
constexpr uint8_t specials_mask = new_s | new_a | new_w | new_u;

constexpr uint8_t tcp_fin = 0x01, tcp_syn = 0x02, tcp_rst = 0x04, tcp_psh = 0x08, tcp_ack = 0x10,
                  tcp_urg = 0x20;
constexpr uint8_t proto_tcp = 6;

size_t ip_hlen(const uint8_t *ip) { return size_t{ip[0] & 0x0Fu} * 4; }
size_t tcp_hlen(const uint8_t *tcp) { return static_cast<size_t>(tcp[12] >> 4) * 4; }

// The deltas of one packet: five fields of at most three octets.
struct Deltas {
    std::array<uint8_t, 15> b{};
    size_t n = 0;
    // A delta in one octet when it fits 1..255, else 0 and two octets; `zero_ok`
    // (RFC 1144's ENCODEZ) writes 0 as three octets too.
    void add(uint32_t v, bool zero_ok = false)
    {
        if (v >= 256 || (zero_ok && v == 0)) {
            b[n++] = 0;
            b[n++] = static_cast<uint8_t>(v >> 8);
        }
        b[n++] = static_cast<uint8_t>(v);
    }
};

// Whether the TCP checksum of the segment in `header` (IPv4 and TCP headers, `hlen`
// octets) and `data` holds over the pseudo-header (RFC 793 §3.1).
bool tcp_checksum_ok(const uint8_t *header, size_t hlen, std::span<const uint8_t> data)
{
    size_t ihl = ip_hlen(header);
    uint32_t sum = inet::pseudo_sum(header, proto_tcp, hlen - ihl + data.size());
    sum = inet::checksum_add(sum, std::span<const uint8_t>(header + ihl, hlen - ihl));
    sum = inet::checksum_add(sum, data);
    return inet::checksum_fold(sum) == 0;
}

// Reads what encode() wrote; false when the field is cut short.
bool decode(std::span<const uint8_t> in, size_t &at, uint32_t &v)
{
    if (at >= in.size())
        return false;
    if (in[at] != 0) {
        v = in[at++];
        return true;
    }
    if (at + 3 > in.size())
        return false;
    v = be16(&in[at + 1]);
    at += 3;
    return true;
}

} // namespace

Compressor::Compressor(Options options) : opt_(options)
{
    for (unsigned i = 0; i <= opt_.max_slot; ++i)
        slots_.push_back(Slot{static_cast<uint8_t>(i)});
}

Kind Compressor::uncompressed(Slot &s, std::span<const uint8_t> packet, size_t hlen, std::vector<uint8_t> &out)
{
    std::copy_n(packet.begin(), hlen, s.header.begin());
    s.hlen = hlen;
    size_t at = out.size();
    out.insert(out.end(), packet.begin(), packet.end());
    out[at + 9] = s.id;   // the slot where the protocol was (RFC 1144 §3.2.4)
    last_sent_ = s.id;
    ++stats_.uncompressed;
    return Kind::Uncompressed;
}

namespace {

// The length of IP and TCP headers of a TCP segment that only ACKs, whole, with both
// headers in max_header; 0 for anything else (sent as plain IP).
size_t compressible(std::span<const uint8_t> p)
{
    if (p.size() < 40 || p[0] >> 4 != 4 || p[9] != proto_tcp || (be16(&p[6]) & 0x3FFF) || be16(&p[2]) != p.size())
        return 0;
    size_t ihl = ip_hlen(p.data());
    if (ihl < 20 || ihl + 20 > p.size())
        return 0;
    const uint8_t *th = p.data() + ihl;
    size_t hlen = ihl + tcp_hlen(th);
    if (tcp_hlen(th) < 20 || hlen > p.size() || hlen > max_header ||
        (th[13] & (tcp_syn | tcp_fin | tcp_rst | tcp_ack)) != tcp_ack)
        return 0;
    return hlen;
}

// Whether only what the deltas can say differs from the slot's header `oip`: not the
// version, header length or TOS; DF; TTL or protocol; the TCP header length and reserved
// bits; flags but PSH and URG (ECE and CWR came after RFC 1144); IP or TCP options.
bool same_shape(const uint8_t *ip, const uint8_t *oip)
{
    const uint8_t *th = ip + ip_hlen(ip), *oth = oip + ip_hlen(oip);
    constexpr uint8_t said = tcp_psh | tcp_urg;
    return std::memcmp(ip, oip, 2) == 0 && std::memcmp(ip + 6, oip + 6, 4) == 0 && th[12] == oth[12] &&
           (th[13] & ~said) == (oth[13] & ~said) && std::memcmp(ip + 20, oip + 20, ip_hlen(ip) - 20) == 0 &&
           std::memcmp(th + 20, oth + 20, tcp_hlen(th) - 20) == 0;
}

// The change mask and deltas from the slot's header `oip` to `ip` (a packet of `size`
// octets), RFC 1144's special cases included; false when they cannot say it.
bool changes_of(const uint8_t *ip, size_t size, const uint8_t *oip, size_t old_hlen, uint8_t &changes, Deltas &d)
{
    const uint8_t *th = ip + ip_hlen(ip), *oth = oip + ip_hlen(oip);
    changes = 0;
    if (th[13] & tcp_urg) {
        d.add(be16(th + 18), true);
        changes |= new_u;
    } else if (be16(th + 18) != be16(oth + 18)) {
        return false;
    }
    if (uint16_t w = static_cast<uint16_t>(be16(th + 14) - be16(oth + 14)); w) {
        d.add(w);
        changes |= new_w;
    }
    // The ACK and the sequence number move forward by at most 16 bits (a step back is a
    // very large one).
    uint32_t delta_a = be32(th + 8) - be32(oth + 8), delta_s = be32(th + 4) - be32(oth + 4);
    if (delta_a > 0xFFFF || delta_s > 0xFFFF)
        return false;
    for (auto [v, bit] : {std::pair{delta_a, new_a}, std::pair{delta_s, new_s}}) {
        if (v) {
            d.add(v);
            changes |= bit;
        }
    }
    uint32_t old_data = be16(oip + 2) - static_cast<uint32_t>(old_hlen);   // the previous segment's data
    switch (changes) {
    case 0:
        // Nothing changed: data after a pure ACK (interactive traffic) goes compressed;
        // anything else is likely a retransmission, sent whole in case the other side
        // missed the compressed one.
        if (size != be16(oip + 2) && old_data == 0)
            break;
        return false;
    case special_i:
    case special_d: return false;   // the specials' own codes
    case new_s | new_a:
        if (delta_s == delta_a && delta_s == old_data) {
            changes = special_i;
            d.n = 0;
        }
        break;
    case new_s:
        if (delta_s == old_data) {
            changes = special_d;
            d.n = 0;
        }
        break;
    default: break;
    }
    if (uint16_t id = static_cast<uint16_t>(be16(ip + 4) - be16(oip + 4)); id != 1) {
        d.add(id, true);
        changes |= new_i;
    }
    if (th[13] & tcp_psh)
        changes |= push_bit;
    return true;
}

} // namespace

Kind Compressor::compress(std::span<const uint8_t> p, std::vector<uint8_t> &out)
{
    size_t hlen = compressible(p);
    if (!hlen) {
        out.insert(out.end(), p.begin(), p.end());
        ++stats_.ip;
        return Kind::Ip;
    }
    // The connection's slot (addresses and ports), most recently used first; a new one
    // takes the least recently used.
    const uint8_t *th = p.data() + ip_hlen(p.data());
    auto it = std::find_if(slots_.begin(), slots_.end(), [&](const Slot &s) {
        return s.hlen && std::memcmp(&s.header[12], &p[12], 8) == 0 &&
               std::memcmp(&s.header[ip_hlen(s.header.data())], th, 4) == 0;
    });
    bool found = it != slots_.end();
    if (!found)
        it = slots_.end() - 1;
    std::rotate(slots_.begin(), it, it + 1);
    Slot &s = slots_.front();
    uint8_t changes = 0;
    Deltas deltas;
    if (!found || !same_shape(p.data(), s.header.data()) ||
        !changes_of(p.data(), p.size(), s.header.data(), s.hlen, changes, deltas))
        return uncompressed(s, p, hlen, out);

    std::copy_n(p.begin(), hlen, s.header.begin());
    s.hlen = hlen;
    bool with_slot = !opt_.slot_id_compressed || last_sent_ != s.id;
    out.push_back(with_slot ? changes | new_c : changes);
    if (with_slot)
        out.push_back(s.id);
    out.push_back(th[16]);   // the TCP checksum, as it was
    out.push_back(th[17]);
    out.insert(out.end(), deltas.b.begin(), deltas.b.begin() + static_cast<long>(deltas.n));
    out.insert(out.end(), p.begin() + static_cast<long>(hlen), p.end());
    last_sent_ = s.id;
    ++stats_.compressed;
    stats_.header_octets_saved += hlen - (3 + (with_slot ? 1 : 0) + deltas.n);
    return Kind::Compressed;
}

Decompressor::Decompressor(Options options) : opt_(options), slots_(size_t{options.max_slot} + 1) {}

Result<> Decompressor::bad(const char *what)
{
    toss_ = true;
    ++stats_.errors;
    return fail(EBADMSG, what);
}

Result<> Decompressor::uncompressed(std::span<const uint8_t> p, std::vector<uint8_t> &out)
{
    if (p.size() < 40 || p[0] >> 4 != 4 || be16(&p[2]) != p.size())
        return bad("VJ uncompressed: not a whole IPv4 packet with a TCP header");
    size_t ihl = ip_hlen(p.data());
    if (ihl < 20 || ihl + 20 > p.size())
        return bad("VJ uncompressed: IP header length");
    size_t hlen = ihl + tcp_hlen(p.data() + ihl);
    if (tcp_hlen(p.data() + ihl) < 20 || hlen > p.size() || hlen > max_header)
        return bad("VJ uncompressed: TCP header length");
    if (p[9] > opt_.max_slot)
        return bad("VJ uncompressed: slot beyond Max-Slot-Id");
    last_recv_ = p[9];
    toss_ = false;
    Slot &s = slots_[last_recv_];
    std::copy_n(p.begin(), hlen, s.header.begin());
    s.header[9] = proto_tcp;
    s.hlen = hlen;
    s.stale = false;
    out.insert(out.end(), p.begin(), p.end());
    out[out.size() - p.size() + 9] = proto_tcp;
    ++stats_.uncompressed;
    return {};
}

Result<> Decompressor::compressed(std::span<const uint8_t> in, std::vector<uint8_t> &out)
{
    size_t at = 0;
    if (in.empty())
        return bad("VJ compressed: empty");
    uint8_t changes = in[at++];
    if (changes & new_c) {
        if (at >= in.size() || in[at] > opt_.max_slot)
            return bad("VJ compressed: slot beyond Max-Slot-Id");
        last_recv_ = in[at++];
        toss_ = false;
    } else if (toss_) {
        ++stats_.tossed;   // RFC 1144 §4.2: since an error, until a packet names its slot
        return fail(EAGAIN, "VJ compressed: tossed after an error");
    }
    Slot &s = slots_[last_recv_];
    if (!s.hlen)
        return bad("VJ compressed: a slot never set up");
    if (s.stale) {
        ++stats_.tossed;
        return fail(EAGAIN, "VJ compressed: tossed, its slot is stale until an uncompressed packet");
    }
    if (at + 2 > in.size())
        return bad("VJ compressed: cut short");
    // Worked on a copy: a packet that fails leaves the slot as it was.
    std::array<uint8_t, max_header> h = s.header;
    uint8_t *ip = h.data(), *th = ip + ip_hlen(ip);
    th[16] = in[at], th[17] = in[at + 1];
    at += 2;
    th[13] = static_cast<uint8_t>((changes & push_bit) ? th[13] | tcp_psh : th[13] & ~tcp_psh);
    uint32_t old_data = be16(ip + 2) - static_cast<uint32_t>(s.hlen);
    uint32_t v = 0;
    switch (changes & specials_mask) {
    case special_i:
        store32(th + 8, be32(th + 8) + old_data);
        store32(th + 4, be32(th + 4) + old_data);
        break;
    case special_d: store32(th + 4, be32(th + 4) + old_data); break;
    default:
        if (changes & new_u) {
            if (!decode(in, at, v))
                return bad("VJ compressed: cut short");
            th[13] |= tcp_urg;
            store16(th + 18, static_cast<uint16_t>(v));
        } else {
            th[13] &= static_cast<uint8_t>(~tcp_urg);
        }
        if (changes & new_w) {
            if (!decode(in, at, v))
                return bad("VJ compressed: cut short");
            store16(th + 14, static_cast<uint16_t>(be16(th + 14) + v));
        }
        if (changes & new_a) {
            if (!decode(in, at, v))
                return bad("VJ compressed: cut short");
            store32(th + 8, be32(th + 8) + v);
        }
        if (changes & new_s) {
            if (!decode(in, at, v))
                return bad("VJ compressed: cut short");
            store32(th + 4, be32(th + 4) + v);
        }
        break;
    }
    if (changes & new_i) {
        if (!decode(in, at, v))
            return bad("VJ compressed: cut short");
        store16(ip + 4, static_cast<uint16_t>(be16(ip + 4) + v));
    } else {
        store16(ip + 4, static_cast<uint16_t>(be16(ip + 4) + 1));
    }
    size_t data = in.size() - at;
    if (s.hlen + data > 0xFFFF)
        return bad("VJ compressed: longer than an IPv4 packet");
    store16(ip + 2, static_cast<uint16_t>(s.hlen + data));
    store16(ip + 10, 0);
    store16(ip + 10, inet::checksum(std::span<const uint8_t>(ip, ip_hlen(ip))));
    auto payload = in.subspan(at);
    if (!tcp_checksum_ok(h.data(), s.hlen, payload)) {
        s.stale = true;   // RFC 1144 §4.1: a lost delta; TCP would drop this and the rest
        ++stats_.tossed;
        return fail(EAGAIN, "VJ compressed: rebuilt with a wrong TCP checksum (a delta was lost)");
    }
    s.header = h;
    out.insert(out.end(), h.begin(), h.begin() + static_cast<long>(s.hlen));
    out.insert(out.end(), in.begin() + static_cast<long>(at), in.end());
    ++stats_.compressed;
    return {};
}

} // namespace alopex::slirp::ppp::vj
