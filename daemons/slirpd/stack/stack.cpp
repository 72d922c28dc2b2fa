// SPDX-License-Identifier: GPL-2.0-or-later
#include "stack.hpp"

#include "ipv4.hpp"

namespace alopex::slirp::stack {

void Stack::input(std::span<const uint8_t> packet)
{
    ++stats_.packets_in;
    auto ip = parse_ipv4(packet);
    if (!ip) {
        ++stats_.bad_packets;
        return;
    }
    if (ip->is_fragment()) {
        ++stats_.fragments;
        return;
    }
    if (ip->dst != config_.address || ip->protocol != proto_icmp) {
        ++stats_.not_handled;
        return;
    }
    ++stats_.icmp_in;
    auto icmp = parse_icmp(ip->payload);
    if (!icmp) {
        ++stats_.icmp_bad;
        return;
    }
    if (icmp->type != icmp_echo_request || icmp->code != 0)
        return;   // nothing else is for a host to answer
    icmp_.clear();
    build_icmp(icmp_, icmp_echo_reply, 0, icmp->rest);
    out_.clear();
    if (ipv4_min_header + icmp_.size() > config_.mtu ||
        !build_ipv4(out_, {.tos = ip->tos, .id = next_id_++, .dont_fragment = false, .ttl = 64,
                           .protocol = proto_icmp, .src = config_.address, .dst = ip->src},
                    icmp_))
        return;
    ++stats_.echo_replies;
    if (output_)
        output_(out_);
}

} // namespace alopex::slirp::stack
