// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-options: control packets (as a frame's information field) from a peer, one
// after the other, into one LcpOptions (asking the peer to authenticate), two
// IpcpOptions (the server's and the client's) and one Ipv6cpOptions: Configure-Requests get a reply, Acks, Naks and Rejects change what we ask. Each packet is one length octet and
// that many octets. Whatever comes, our requests and every reply must be well-formed
// option lists, a reply no longer than the request it answers, and an Ack exactly the
// request; the client's address and DNS servers are 0.0.0.0 (not given yet) or usable
// unicast ones, never what a hostile Nak said otherwise; our interface identifier never
// zero, the peer's never ours.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "auth.hpp"
#include "ipcp_options.hpp"
#include "ipv6cp_options.hpp"
#include "lcp_options.hpp"
#include "packet.hpp"

using namespace alopex::slirp::ppp;

namespace {

// The reply to a Configure-Request, checked.
template <typename Options> void answer(Options &opts, const Packet &p)
{
    auto r = opts.on_request(p.data, p.id & 1);
    if (!r)
        return;
    if (!parse_options(r->options) || r->options.size() > p.data.size())
        std::abort();
    if (r->code == Code::ConfigureAck && !std::ranges::equal(r->options, p.data))
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::span<const uint8_t> in(data, size);
    uint32_t seed = 1;
    LcpOptions lcp({.auth = {proto_chap, proto_pap}}, [&seed] { return seed = seed * 1103515245 + 12345; });
    Ipv6cpOptions six({.enabled = true, .local_id = 0}, [&seed] { return seed = seed * 1103515245 + 12345; });
    IpcpOptions ipcp({.local = alopex::net::Address::v4(0x0A000001), .peer = alopex::net::Address::v4(0x0A000002),
                      .dns1 = alopex::net::Address::v4(0x0A000001), .dns2 = {}});
    IpcpOptions client({.local = alopex::net::Address::v4(0), .peer = {}, .dns1 = {}, .dns2 = {}, .client = true});
    while (!in.empty()) {
        size_t n = std::min<size_t>(in[0], in.size() - 1);
        auto info = in.subspan(1, n);
        in = in.subspan(1 + n);
        auto p = parse_packet(info);
        if (!p)
            continue;
        switch (static_cast<Code>(p->code)) {
        case Code::ConfigureRequest:
            answer(lcp, *p);
            answer(ipcp, *p);
            answer(client, *p);
            answer(six, *p);
            break;
        case Code::ConfigureAck:
            (void)lcp.on_ack(p->data);
            (void)ipcp.on_ack(p->data);
            (void)client.on_ack(p->data);
            (void)six.on_ack(p->data);
            break;
        case Code::ConfigureNak:
            (void)lcp.on_nak(p->data);
            (void)ipcp.on_nak(p->data);
            (void)client.on_nak(p->data);
            (void)six.on_nak(p->data);
            break;
        case Code::ConfigureReject:
            (void)lcp.on_reject(p->data);
            (void)ipcp.on_reject(p->data);
            (void)client.on_reject(p->data);
            (void)six.on_reject(p->data);
            break;
        default:
            lcp.reset();
            ipcp.reset();
            client.reset();
            six.reset();
            break;
        }
        if (!parse_options(six.request()) || six.local_id() == 0 || six.local_id() == six.peer_id())
            std::abort();
        if (!parse_options(ipcp.request()) || !parse_options(client.request()))
            std::abort();
        for (const auto *a : {&client.local(), &client.dns1(), &client.dns2(), &client.peer()}) {
            if (a->empty() || a->is_unspecified())
                continue;
            auto b = a->bytes();
            if (!a->is_v4() || b[0] == 127 || b[0] >= 224)
                std::abort();
        }
        auto ours = lcp.request();
        if (!parse_options(ours) || ours.size() > 4 + 6 + 6 + 2 + 2 + 5)
            std::abort();
        if (lcp.settings().send_mru != 0 && lcp.settings().send_mru < min_mru)
            std::abort();
    }
    return 0;
}
