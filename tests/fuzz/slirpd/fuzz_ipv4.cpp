// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-ipv4: a packet from the peer into slirpd's IPv4 stack. Whatever it sends
// back must be a valid IPv4 packet from slirpd's address carrying a valid ICMP message,
// no larger than the MTU nor than what came in.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "ipv4.hpp"
#include "stack.hpp"

using namespace alopex::slirp::stack;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::span<const uint8_t> in(data, size);
    StackConfig config;
    Stack stack(config, [&](std::span<const uint8_t> out) {
        auto ip = parse_ipv4(out);
        if (!ip || ip->src != config.address || out.size() > config.mtu || out.size() > in.size())
            std::abort();
        if (!parse_icmp(ip->payload))
            std::abort();
    });
    stack.input(in);
    return 0;
}
