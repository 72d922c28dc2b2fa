// SPDX-License-Identifier: GPL-2.0-or-later
#include "ipv6.hpp"

#include <algorithm>
#include <cerrno>

#include "wire.hpp"

namespace alopex::slirp::stack {

using wire::be16;

namespace {

constexpr uint8_t hop_by_hop = 0, routing = 43, fragment_header = 44, destination_options = 60;
constexpr unsigned max_headers = 8;

std::unexpected<Error> problem(Ipv6Problem *p, uint8_t code, size_t pointer, const char *what, bool even_multicast = false)
{
    if (p) {
        p->code = code;
        p->pointer = static_cast<uint32_t>(pointer);
        p->even_to_multicast = even_multicast;
    }
    return fail(EBADMSG, what);
}

// The options of a Hop-by-Hop or Destination Options header at `at` (RFC 8200 §4.2):
// Pad1, PadN and Router Alert are known; an unknown one does what its two high bits say.
Result<void> check_options(std::span<const uint8_t> p, size_t at, size_t len, Ipv6Problem *pr)
{
    size_t i = at + 2, end = at + len;
    while (i < end) {
        uint8_t type = p[i];
        if (type == 0) {   // Pad1
            ++i;
            continue;
        }
        if (i + 1 >= end || i + 2 + p[i + 1] > end)
            return problem(pr, 0, i, "IPv6: an option runs past its header");
        if (type != 1 && type != 5) {
            switch (type >> 6) {
            case 0: break;   // skip
            case 1: return fail(EBADMSG, "IPv6: an unknown option says discard");
            case 2: return problem(pr, 2, i, "IPv6: an unknown option", true);
            default: return problem(pr, 2, i, "IPv6: an unknown option");
            }
        }
        i += 2 + p[i + 1];
    }
    return {};
}

} // namespace

Result<Ipv6> parse_ipv6(std::span<const uint8_t> packet, Ipv6Problem *pr)
{
    if (packet.size() < ipv6_header || packet[0] >> 4 != 6)
        return failf(EBADMSG, "IPv6: {} octets or not version 6", packet.size());
    size_t len = be16(&packet[4]);
    if (ipv6_header + len > packet.size())
        return failf(EBADMSG, "IPv6: Payload Length {} with {} octets", len, packet.size() - ipv6_header);
    Ipv6 ip;
    ip.packet = packet.first(ipv6_header + len);
    ip.traffic_class = static_cast<uint8_t>((packet[0] & 0x0F) << 4 | packet[1] >> 4);
    ip.hop_limit = packet[7];
    std::copy_n(packet.begin() + 8, 16, ip.src.begin());
    std::copy_n(packet.begin() + 24, 16, ip.dst.begin());
    auto p = ip.packet;
    uint8_t next = packet[6];
    size_t at = ipv6_header, next_at = 6;
    for (unsigned n = 0;; ++n) {
        if (next != hop_by_hop && next != routing && next != fragment_header && next != destination_options)
            break;
        if (n == max_headers)
            return fail(EBADMSG, "IPv6: more than 8 extension headers");
        if (next == hop_by_hop && at != ipv6_header)
            return problem(pr, 1, next_at, "IPv6: a Hop-by-Hop header not first");
        if (at + 8 > p.size())
            return problem(pr, 0, 4, "IPv6: an extension header runs past the packet");
        size_t hlen = next == fragment_header ? 8 : (size_t{p[at + 1]} + 1) * 8;
        if (at + hlen > p.size())
            return problem(pr, 0, at + 1, "IPv6: an extension header runs past the packet");
        if (next == hop_by_hop || next == destination_options) {
            ALOPEX_TRY_VOID(check_options(p, at, hlen, pr));
        } else if (next == routing && p[at + 3] != 0) {
            // Segments left: slirpd routes nowhere (RFC 8200 §4.4, RFC 5095).
            return problem(pr, 0, at + 2, "IPv6: a Routing header with segments left");
        } else if (next == fragment_header) {
            ip.fragment = true;
        }
        next_at = at;
        next = p[at];
        at += hlen;
        if (ip.fragment)
            break;
    }
    ip.next = next;
    ip.next_at = next_at;
    ip.payload = p.subspan(at);
    return ip;
}

std::optional<uint8_t> icmp6_type_of(std::span<const uint8_t> p)
{
    if (p.size() < ipv6_header)
        return std::nullopt;
    uint8_t next = p[6];
    size_t at = ipv6_header;
    for (unsigned n = 0; n <= max_headers; ++n) {
        if (next == proto_icmpv6)
            return at < p.size() ? std::optional<uint8_t>(p[at]) : std::nullopt;
        if ((next != hop_by_hop && next != routing && next != destination_options) || at + 8 > p.size())
            return std::nullopt;
        size_t hlen = (size_t{p[at + 1]} + 1) * 8;
        next = p[at];
        at += hlen;
    }
    return std::nullopt;
}

uint32_t pseudo6_sum(const Address6 &src, const Address6 &dst, uint8_t next, size_t length)
{
    uint8_t tail[8] = {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
                       static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length), 0, 0, 0, next};
    uint32_t s = inet::checksum_add(0, src);
    s = inet::checksum_add(s, dst);
    return inet::checksum_add(s, tail);
}

void put_ipv6_header(uint8_t *h, const Address6 &src, const Address6 &dst, uint8_t next, uint8_t hop_limit,
                     size_t length)
{
    h[0] = 0x60, h[1] = h[2] = h[3] = 0;
    h[4] = static_cast<uint8_t>(length >> 8), h[5] = static_cast<uint8_t>(length);
    h[6] = next, h[7] = hop_limit;
    std::copy(src.begin(), src.end(), h + 8);
    std::copy(dst.begin(), dst.end(), h + 24);
}

void build_ipv6(std::vector<uint8_t> &out, const Address6 &src, const Address6 &dst, uint8_t next, uint8_t hop_limit,
                std::span<const uint8_t> payload)
{
    size_t start = out.size();
    out.resize(start + ipv6_header);
    put_ipv6_header(out.data() + start, src, dst, next, hop_limit, payload.size());
    out.insert(out.end(), payload.begin(), payload.end());
}

Result<Icmp6> parse_icmp6(const Ipv6 &ip)
{
    auto m = ip.payload;
    if (m.size() < 4)
        return failf(EBADMSG, "ICMPv6: {} octets", m.size());
    if (inet::checksum_fold(inet::checksum_add(pseudo6_sum(ip.src, ip.dst, proto_icmpv6, m.size()), m)) != 0)
        return fail(EBADMSG, "ICMPv6: bad checksum");
    return Icmp6{m[0], m[1], m.subspan(4)};
}

void build_icmp6(std::vector<uint8_t> &out, const Address6 &src, const Address6 &dst, uint8_t type, uint8_t code,
                 std::span<const uint8_t> rest)
{
    size_t start = out.size();
    out.insert(out.end(), {type, code, 0, 0});
    out.insert(out.end(), rest.begin(), rest.end());
    auto m = std::span(out).subspan(start);
    uint16_t c = inet::checksum_fold(inet::checksum_add(pseudo6_sum(src, dst, proto_icmpv6, m.size()), m));
    out[start + 2] = static_cast<uint8_t>(c >> 8);
    out[start + 3] = static_cast<uint8_t>(c);
}

} // namespace alopex::slirp::stack
