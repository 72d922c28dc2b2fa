// SPDX-License-Identifier: GPL-2.0-or-later
// The stack's IPv6 side: packets to slirpd's link-local address (or to all nodes), ICMPv6
// echo, and the errors a host with nothing listening sends (RFC 4443 §2.4: never for an
// ICMPv6 error, a packet from the unspecified or a multicast address, or one sent to a
// multicast address unless an option asked; at most the minimum MTU; at most 10 a second,
// a burst of 10).
#include <algorithm>

#include "stack.hpp"
#include "transport.hpp"
#include "wire.hpp"

namespace alopex::slirp::stack {

namespace {

// ff02::1, all nodes on the link.
constexpr Address6 all_nodes = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

} // namespace

void Stack::input6(std::span<const uint8_t> packet, uint64_t now)
{
    now6_ = now;
    ++stats_.ipv6_in;
    if (!address6_) {
        ++stats_.not_handled;
        return;
    }
    Ipv6Problem problem;
    auto ip = parse_ipv6(packet, &problem);
    if (!ip) {
        ++stats_.bad_packets;
        auto type = icmp6_type_of(packet);
        if (!problem.code || packet.size() < ipv6_header || (type && *type < 128))
            return;
        Ipv6 whole;
        whole.packet = packet.first(std::min<size_t>(packet.size(), ipv6_header + wire::be16(&packet[4])));
        std::copy_n(packet.begin() + 8, 16, whole.src.begin());
        std::copy_n(packet.begin() + 24, 16, whole.dst.begin());
        if (whole.dst == *address6_ || whole.dst == all_nodes)   // only about what was ours to take
            icmp6_error(whole, icmp6_parameter_problem, *problem.code, problem.pointer, problem.even_to_multicast);
        return;
    }
    if (ip->fragment) {
        ++stats_.fragments;
        return;
    }
    bool ours = serves6(*ip), multicast = is_multicast(ip->dst);
    if (!ours && ip->dst != all_nodes) {
        ++stats_.not_handled;   // not routed; other multicast (solicitations) not answered
        return;
    }
    switch (ip->next) {
    case proto_icmpv6: answer_icmp6(*ip); return;
    case proto_tcp:
        if (ours)
            input_tcp6(*ip, now);
        return;
    case proto_udp:
        if (ours)
            input_udp6(*ip);
        return;
    case proto_none6: return;
    default:
        if (!multicast)
            icmp6_error(*ip, icmp6_parameter_problem, 1, static_cast<uint32_t>(ip->next_at));
        ++stats_.not_handled;
        return;
    }
}

void Stack::answer_icmp6(const Ipv6 &ip)
{
    ++stats_.icmpv6_in;
    auto m = parse_icmp6(ip);
    if (!m) {
        ++stats_.icmpv6_bad;
        return;
    }
    if (m->type != icmp6_echo_request || m->code != 0 || is_multicast(ip.src) || is_unspecified(ip.src))
        return;   // solicitations, errors: nothing for a host at the end of a point-to-point link to say
    out_.assign(ipv6_header, 0);
    build_icmp6(out_, *address6_, ip.src, icmp6_echo_reply, 0, m->rest);
    ++stats_.echo6_replies;
    send6(*address6_, ip.src, proto_icmpv6);
}

// slirpd's own address, or one a listener or UDP service names.
bool Stack::serves6(const Ipv6 &ip) const
{
    if (ip.dst == *address6_)
        return true;
    net::Address a = to_address(ip.dst);
    auto l = listeners_.lower_bound({a, 0});
    auto u = udp_.lower_bound({a, 0});
    return (l != listeners_.end() && l->first.first == a) || (u != udp_.end() && u->first.first == a);
}

void Stack::input_tcp6(const Ipv6 &ip, uint64_t now)
{
    auto t = parse_tcp_segment(ip.payload, pseudo6_sum(ip.src, ip.dst, proto_tcp, ip.payload.size()));
    if (!t) {
        ++stats_.bad_packets;
        return;
    }
    if (is_multicast(ip.src) || is_unspecified(ip.src))
        return;
    // What an ICMPv6 error about the SYN quotes: the packet, as much as fits.
    auto quote = ip.packet.first(std::min(ip.packet.size(), ipv6_min_mtu - ipv6_header - 8));
    if (!take_tcp(to_address(ip.src), to_address(ip.dst), *t, quote, now))
        refuse_tcp6(ip, *t);
}

// No listener: a RST the sender accepts (RFC 9293 §3.10.7.1), from the address the
// segment was sent to; a RST is never answered.
void Stack::refuse_tcp6(const Ipv6 &ip, const Tcp &t)
{
    if (t.flags & tcp_flag::rst)
        return;
    Tcp r = reset_for(t);
    out_.assign(ipv6_header, 0);
    size_t start = put_tcp(out_, r, {});
    set_tcp_checksum(out_, start, pseudo6_sum(ip.dst, ip.src, proto_tcp, out_.size() - start));
    ++stats_.resets;
    send6(ip.dst, ip.src, proto_tcp);
}

// To a bound service, else a port unreachable (RFC 4443 §3.1 code 4).
void Stack::input_udp6(const Ipv6 &ip)
{
    auto u = parse_udp_segment(ip.payload, pseudo6_sum(ip.src, ip.dst, proto_udp, 0), true);
    if (!u) {
        ++stats_.bad_packets;
        return;
    }
    if (is_multicast(ip.src) || is_unspecified(ip.src))
        return;
    if (auto it = udp_.find({to_address(ip.dst), u->dst_port}); it != udp_.end()) {
        ++stats_.udp_delivered;
        it->second(to_address(ip.src), u->src_port, u->payload);
        return;
    }
    icmp6_error(ip, icmp6_unreachable, 4, 0);
}

// The host side could not reach the target: a Destination Unreachable (RFC 4443 §3.1)
// quoting the held SYN, its code from ICMP's (1 host: 3 address unreachable; 13
// prohibited: 1; else 0, no route).
void Stack::unreachable6(std::span<const uint8_t> syn, uint8_t code)
{
    if (syn.size() < ipv6_header)
        return;
    Ipv6 ip;
    ip.packet = syn;
    ip.next = proto_tcp;
    std::copy_n(syn.begin() + 8, 16, ip.src.begin());
    std::copy_n(syn.begin() + 24, 16, ip.dst.begin());
    ++stats_.host_unreachables;
    icmp6_error(ip, icmp6_unreachable, code == 1 ? 3 : code == 13 ? 1 : 0, 0);
}

void Stack::icmp6_error(const Ipv6 &ip, uint8_t type, uint8_t code, uint32_t pointer, bool even_to_multicast)
{
    if (is_multicast(ip.src) || is_unspecified(ip.src) || (is_multicast(ip.dst) && !even_to_multicast))
        return;
    if (ip.next == proto_icmpv6 && !ip.payload.empty() && ip.payload[0] < 128)
        return;   // never about an error
    uint64_t refill = (now6_ - std::min(now6_, icmp6_refilled_at_)) / 100'000;   // a token every 100 ms
    if (refill) {
        icmp6_tokens_ = std::min<uint64_t>(10, icmp6_tokens_ + refill);
        icmp6_refilled_at_ = now6_;
    }
    if (icmp6_tokens_ == 0) {
        ++stats_.icmpv6_rate_limited;
        return;
    }
    --icmp6_tokens_;
    std::vector<uint8_t> rest = {static_cast<uint8_t>(pointer >> 24), static_cast<uint8_t>(pointer >> 16),
                                 static_cast<uint8_t>(pointer >> 8), static_cast<uint8_t>(pointer)};
    size_t room = ipv6_min_mtu - ipv6_header - 8;
    rest.insert(rest.end(), ip.packet.begin(), ip.packet.begin() + static_cast<long>(std::min(room, ip.packet.size())));
    out_.assign(ipv6_header, 0);
    build_icmp6(out_, *address6_, ip.src, type, code, rest);
    ++stats_.icmpv6_errors;
    if (type == icmp6_unreachable && code == 4)
        ++stats_.port_unreachables;
    send6(*address6_, ip.src, proto_icmpv6);
}

// out_ holds 40 octets for the header, then the upper layer.
void Stack::send6(const Address6 &src, const Address6 &dst, uint8_t next)
{
    size_t len = out_.size() - ipv6_header;
    if (out_.size() > config_.mtu || len > 0xFFFF)
        return;
    put_ipv6_header(out_.data(), src, dst, next, 64, len);
    if (output_)
        output_(out_);
}

} // namespace alopex::slirp::stack
