// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-link: slirpd's PPP link (framing, LCP, IPCP, echo) and the IPv4 stack behind
// it (TCP listeners that accept at once), fed what a peer may send, on a virtual clock,
// as in the daemon: the link's IP packets go to the stack, the stack's to the link. The input is a list of steps: an octet `op`, then for op & 3 == 0
// a length octet and that many line bytes, for 1 a clock advance of op's upper bits in
// 100 ms, for 2 an IPv4 packet of that length sent by slirpd, for 3 a hangup or a close.
// Everything slirpd writes to the line must decode as good frames again. The last octet
// turns CCP with Deflate (bit 0), pacing (bit 1) and authentication of the peer (bit 2:
// CHAP then PAP, bit 3: PAP only; a peer "pikvm" with secret "s3cret") and IPV6CP
// (bit 4) on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include <memory>

#include "hdlc.hpp"
#include "link.hpp"
#include "stack.hpp"

using namespace alopex::slirp::ppp;
namespace st = alopex::slirp::stack;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::span<const uint8_t> in(data, size);
    uint64_t now = 1'000'000;
    Decoder check({1 << 16, 0, Fcs::Fcs16});
    size_t written = 0;
    LinkConfig config;
    config.ipcp.dns1 = alopex::net::Address::v4(0x0A000001);
    config.echo_interval_usec = 1'000'000;
    // The last octet's low bits: CCP with Deflate, a paced line (the flow queue).
    config.ccp.deflate = size > 0 && (data[size - 1] & 1);
    config.line_rate = size > 0 && (data[size - 1] & 2) ? 11520 : 0;
    config.ipv6cp.enabled = size > 0 && (data[size - 1] & 16);
    if (size > 0 && (data[size - 1] & 12)) {
        config.auth.protocols = (data[size - 1] & 4) ? std::vector<uint16_t>{proto_chap, proto_pap}
                                                     : std::vector<uint16_t>{proto_pap};
        config.auth.secrets = {{"pikvm", "s3cret"}};
    }
    std::unique_ptr<Link> link_ptr;
    st::Stack stack({}, [&](std::span<const uint8_t> p) { link_ptr->send_ip(p); });
    stack.listen_tcp(alopex::net::Address::v4(0x0A000001), 22,
                     [&](st::tcp::Connection &c, const st::TcpKey &) { c.accept(now); });
    link_ptr = std::make_unique<Link>(config, [n = 1u]() mutable { return n++; },
              Link::Callbacks{[&](std::span<const uint8_t> b) {
                   written += b.size();
                   size_t frames = 0;
                   check.feed(b, [&](std::span<const uint8_t>) { ++frames; });
                   if (frames != 1 || check.stats().fcs_errors != 0)
                       std::abort();   // one well-formed frame per write
               },
               [&](std::span<const uint8_t> p) { stack.input(p, now); }, {}, {}, {}, {}, {}, {}, {}});
    Link &link = *link_ptr;
    stack.set_ipv6_address(link_local(1));
    link.start(now);
    while (!in.empty()) {
        uint8_t op = in[0];
        in = in.subspan(1);
        switch (op & 3) {
        case 0: {
            size_t n = in.empty() ? 0 : std::min<size_t>(in[0], in.size() - 1);
            auto bytes = in.empty() ? in : in.subspan(1, n);
            in = in.empty() ? in : in.subspan(1 + n);
            link.line_input(bytes, now);
            break;
        }
        case 1:
            now += static_cast<uint64_t>(op >> 2) * 100'000;
            link.advance(now);
            stack.advance(now);
            break;
        case 2: {
            std::vector<uint8_t> packet(op >> 2, 0x45);
            link.send_ip(packet);
            break;
        }
        default:
            if (op & 4)
                link.stop(now);
            else
                link.close(now);
            if (op & 8)
                link.start(now);
            break;
        }
        if (link.next_deadline() < now)
            std::abort();   // advance() leaves nothing overdue behind
    }
    return 0;
}
