// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-ipv4: a packet from the peer into slirpd's IPv4 stack. Whatever it sends
// back must be one valid IPv4 packet, no larger than the MTU, to the sender, carrying a
// valid ICMP message or a TCP RST.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "ipv4.hpp"
#include "stack.hpp"
#include "transport.hpp"

using namespace alopex::slirp::stack;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::span<const uint8_t> in(data, size);
    StackConfig config;
    auto sender = parse_ipv4(in);
    Stack stack(config, [&](std::span<const uint8_t> out) {
        auto ip = parse_ipv4(out);
        if (!ip || !sender || ip->dst != sender->src || out.size() > config.mtu)
            std::abort();
        if (ip->protocol == proto_icmp ? !parse_icmp(ip->payload).has_value()
                                       : ip->protocol != proto_tcp || !parse_tcp(*ip) ||
                                             !(parse_tcp(*ip)->flags & tcp_flag::rst))
            std::abort();
    });
    stack.input(in, 0);
    return 0;
}
