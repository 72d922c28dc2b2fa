// SPDX-License-Identifier: GPL-2.0-or-later
#include "stack.hpp"

#include <algorithm>

#include "ipv4.hpp"
#include "transport.hpp"

namespace alopex::slirp::stack {

void Stack::input(std::span<const uint8_t> packet, uint64_t now)
{
    collect();   // connections that finished in calls from the host side
    ++stats_.packets_in;
    if (!packet.empty() && packet[0] >> 4 == 6) {
        input6(packet, now);
        return;
    }
    auto ip = parse_ipv4(packet);
    if (!ip) {
        ++stats_.bad_packets;
        return;
    }
    if (ip->is_fragment()) {
        ++stats_.fragments;
        return;
    }
    switch (ip->protocol) {
    case proto_tcp:
        input_tcp(*ip, packet, now);
        collect();
        return;
    case proto_udp: refuse_udp(*ip, packet); return;
    case proto_icmp:
        if (ip->dst == config_.address) {
            answer_icmp(*ip);
            return;
        }
        break;
    default: break;
    }
    ++stats_.not_handled;
}

void Stack::send(uint32_t src, uint32_t dst, uint8_t protocol, std::span<const uint8_t> payload, uint8_t tos)
{
    out_.assign(ipv4_min_header, 0);
    out_.insert(out_.end(), payload.begin(), payload.end());
    emit(src, dst, protocol, tos);
}

void Stack::send_tcp(const net::Address &src, const net::Address &dst, const Tcp &h,
                     std::span<const uint8_t> payload)
{
    // The segment built straight after room for the IP header: the payload is copied once.
    if (src.is_v6()) {
        Address6 s = to_address6(src), d = to_address6(dst);
        out_.assign(ipv6_header, 0);
        size_t start = put_tcp(out_, h, payload);
        set_tcp_checksum(out_, start, pseudo6_sum(s, d, proto_tcp, out_.size() - start));
        send6(s, d, proto_tcp);
        return;
    }
    out_.assign(ipv4_min_header, 0);
    build_tcp(out_, src.v4_number(), dst.v4_number(), h, payload);
    emit(src.v4_number(), dst.v4_number(), proto_tcp, 0);
}

void Stack::emit(uint32_t src, uint32_t dst, uint8_t protocol, uint8_t tos)
{
    if (out_.size() > config_.mtu ||
        !finish_ipv4(out_, 0,
                     {.tos = tos, .id = next_id_++, .dont_fragment = false, .ttl = 64, .protocol = protocol,
                      .src = src, .dst = dst}))
        return;
    if (output_)
        output_(out_);
}

void Stack::answer_icmp(const Ipv4 &ip)
{
    ++stats_.icmp_in;
    auto icmp = parse_icmp(ip.payload);
    if (!icmp) {
        ++stats_.icmp_bad;
        return;
    }
    if (icmp->type != icmp_echo_request || icmp->code != 0)
        return;   // nothing else is for a host to answer
    icmp_.clear();
    build_icmp(icmp_, icmp_echo_reply, 0, icmp->rest);
    ++stats_.echo_replies;
    send(config_.address, ip.src, proto_icmp, icmp_, ip.tos);
}

// No listener (RFC 9293 §3.10.7.1, the CLOSED state): a RST that the sender accepts; a
// RST itself is never answered.
void Stack::refuse_tcp(const Ipv4 &ip, const Tcp &t)
{
    if (t.flags & tcp_flag::rst)
        return;
    Tcp r = reset_for(t);
    icmp_.clear();
    build_tcp(icmp_, ip.dst, ip.src, r, {});
    ++stats_.resets;
    send(ip.dst, ip.src, proto_tcp, icmp_);
}

// To a bound service, or, with nobody listening, an ICMP port unreachable with the IP
// header and the first 8 octets of the datagram (RFC 792), from the address it was sent to.
void Stack::refuse_udp(const Ipv4 &ip, std::span<const uint8_t> packet)
{
    auto u = parse_udp(ip);
    if (!u) {
        ++stats_.bad_packets;
        return;
    }
    if (auto it = udp_.find({net::Address::v4(ip.dst), u->dst_port}); it != udp_.end()) {
        ++stats_.udp_delivered;
        it->second(net::Address::v4(ip.src), u->src_port, u->payload);
        return;
    }
    std::vector<uint8_t> rest(4, 0);   // unused
    size_t quoted = std::min(packet.size(), ip.header.size() + 8);
    rest.insert(rest.end(), packet.begin(), packet.begin() + static_cast<long>(quoted));
    icmp_.clear();
    build_icmp(icmp_, icmp_unreachable, 3, rest);
    ++stats_.port_unreachables;
    send(ip.dst, ip.src, proto_icmp, icmp_);
}

} // namespace alopex::slirp::stack

namespace alopex::slirp::stack {

void Stack::bind_udp(const net::Address &address, uint16_t port, UdpHandler handler)
{
    udp_[{address, port}] = std::move(handler);
}

void Stack::unbind_udp(const net::Address &address, uint16_t port)
{
    udp_.erase({address, port});
}

bool Stack::send_udp(const net::Address &src, uint16_t src_port, const net::Address &dst, uint16_t dst_port,
                     std::span<const uint8_t> payload)
{
    if (src.is_v6() && dst.is_v6()) {
        if (!address6_ || ipv6_header + 8 + payload.size() > config_.mtu)
            return false;
        Address6 s = to_address6(src), d = to_address6(dst);
        out_.assign(ipv6_header, 0);
        size_t start = put_udp(out_, src_port, dst_port, payload);
        set_udp_checksum(out_, start, pseudo6_sum(s, d, proto_udp, out_.size() - start));
        send6(s, d, proto_udp);
        return true;
    }
    if (!src.is_v4() || !dst.is_v4() || ipv4_min_header + 8 + payload.size() > config_.mtu)
        return false;
    out_.assign(ipv4_min_header, 0);
    build_udp(out_, src.v4_number(), dst.v4_number(), src_port, dst_port, payload);
    emit(src.v4_number(), dst.v4_number(), proto_udp, 0);
    return true;
}

} // namespace alopex::slirp::stack
