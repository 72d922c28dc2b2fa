// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-lcp: LCP packets (as a frame's information field) from a peer, one after the
// other, into one LcpOptions: Configure-Requests get a reply, Acks, Naks and Rejects change
// what we ask. Each packet is one length octet and that many octets. Whatever comes, our
// request and every reply must be well-formed option lists, a reply no longer than the
// request it answers, and an Ack exactly the request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "lcp_options.hpp"
#include "packet.hpp"

using namespace alopex::slirp::ppp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::span<const uint8_t> in(data, size);
    uint32_t seed = 1;
    LcpOptions lcp({}, [&seed] { return seed = seed * 1103515245 + 12345; });
    while (!in.empty()) {
        size_t n = std::min<size_t>(in[0], in.size() - 1);
        auto info = in.subspan(1, n);
        in = in.subspan(1 + n);
        auto p = parse_packet(info);
        if (!p)
            continue;
        switch (static_cast<Code>(p->code)) {
        case Code::ConfigureRequest: {
            auto r = lcp.on_request(p->data, p->id & 1);
            if (!r)
                break;
            if (!parse_options(r->options) || r->options.size() > p->data.size())
                std::abort();
            if (r->code == Code::ConfigureAck && !std::ranges::equal(r->options, p->data))
                std::abort();
            break;
        }
        case Code::ConfigureAck: (void)lcp.on_ack(p->data); break;
        case Code::ConfigureNak: (void)lcp.on_nak(p->data); break;
        case Code::ConfigureReject: (void)lcp.on_reject(p->data); break;
        default: lcp.reset(); break;
        }
        auto ours = lcp.request();
        if (!parse_options(ours) || ours.size() > 4 + 6 + 6 + 2 + 2)
            std::abort();
        if (lcp.settings().send_mru != 0 && lcp.settings().send_mru < min_mru)
            std::abort();
    }
    return 0;
}
