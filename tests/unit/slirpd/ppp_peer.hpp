// SPDX-License-Identifier: GPL-2.0-or-later
// The other end of a PPP link for slirpd's unit tests, built from slirpd's own pieces in
// the client's role and asking what pppd asks by default (ACCM 0, magic, PFC, ACFC; IP
// address and DNS 0.0.0.0 with noipdefault usepeerdns). The real pppd and the kernel's
// stack are the peers of the integration tests; this one lets the pure engines be
// driven on a virtual clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "control.hpp"
#include "hdlc.hpp"
#include "ipcp_options.hpp"
#include "lcp_options.hpp"

namespace slirp_test {

using namespace alopex::slirp::ppp;
using Bytes = std::vector<uint8_t>;

// IPCP as a client: asks for 0.0.0.0 and DNS 0.0.0.0, takes what is Naked, stops asking
// for DNS when it is rejected, acknowledges the server's address.
struct ClientIpcp {
    uint32_t address = 0, dns = 0;
    bool ask_dns = true;
    Negotiator negotiator()
    {
        return {[this] {
                    Bytes b;
                    put_option_u32(b, ipcp_option::ip_address, address);
                    if (ask_dns)
                        put_option_u32(b, ipcp_option::primary_dns, dns);
                    return b;
                },
                [](std::span<const uint8_t> d, bool) -> alopex::Result<ConfigureReply> {
                    return ConfigureReply{Code::ConfigureAck, Bytes(d.begin(), d.end())};
                },
                [](std::span<const uint8_t>) { return true; },
                [this](std::span<const uint8_t> d) {
                    auto l = parse_options(d);
                    if (!l)
                        return false;
                    for (const auto &o : *l)
                        value_u32(o, o.type == ipcp_option::ip_address ? address : dns);
                    return true;
                },
                [this](std::span<const uint8_t> d) {
                    auto l = parse_options(d);
                    if (!l)
                        return false;
                    for (const auto &o : *l)
                        if (o.type == ipcp_option::primary_dns)
                            ask_dns = false;
                    return true;
                },
                [] {}};
    }
};

struct Peer {
    Bytes to_link;                      // line bytes for slirpd
    std::vector<Bytes> ip;              // IPv4 packets received
    std::vector<Bytes> frames;          // every frame received (address/control and protocol in it)
    bool lcp_open = false, ipcp_open = false;
    bool answer_echoes = true;
    bool keep_frames = true;            // false: `frames` stays empty (a long-running peer)
    uint32_t seed = 7;
    LcpOptions lcp_options{{}, [this] { return seed = seed * 1103515245 + 12345; }};
    ClientIpcp ipcp_client;
    Decoder decoder{{1508, default_accm, Fcs::Fcs16}};
    EncoderOptions encoder;
    std::unique_ptr<ControlProtocol> lcp, ipcp;

    Peer()
    {
        auto send = [this](uint16_t proto, Bytes info) { encode(to_link, proto, info, encoder); };
        lcp = std::make_unique<ControlProtocol>(
            proto_lcp, negotiator_for(lcp_options), send,
            ControlProtocol::Layer{[this] {
                                       lcp_open = true;
                                       const auto &s = lcp_options.settings();
                                       encoder = {s.send_accm, s.send_acfc, s.send_pfc, Fcs::Fcs16};
                                       decoder.set_options({1508, s.receive_accm, Fcs::Fcs16});
                                       ipcp->up();
                                       ipcp->open();
                                   },
                                   [this] {
                                       lcp_open = false;
                                       encoder = {};
                                       ipcp->down();
                                   },
                                   {}, {}});
        lcp->set_lcp_extras({{}, {}, [this] { return lcp_options.settings().our_magic; }, {}});
        ipcp = std::make_unique<ControlProtocol>(
            proto_ipcp, ipcp_client.negotiator(), send,
            ControlProtocol::Layer{[this] { ipcp_open = true; }, [this] { ipcp_open = false; }, {}, {}});
    }
    void start()
    {
        lcp->open();
        lcp->up();
    }
    void input(std::span<const uint8_t> bytes)
    {
        decoder.feed(bytes, [this](std::span<const uint8_t> f) {
            if (keep_frames)
                frames.emplace_back(f.begin(), f.end());
            auto p = parse_frame(f);
            if (!p)
                return;
            if (p->protocol == proto_lcp) {
                auto pk = parse_packet(p->info);
                if (!answer_echoes && pk && pk->code == static_cast<uint8_t>(Code::EchoRequest))
                    return;
                lcp->input(p->info);
            } else if (p->protocol == proto_ipcp) {
                ipcp->input(p->info);
            } else if (p->protocol == proto_ip) {
                ip.emplace_back(p->info.begin(), p->info.end());
            }
        });
    }
    void send_ip(std::span<const uint8_t> packet) { encode(to_link, proto_ip, packet, encoder); }
    void send_raw(uint16_t protocol, std::span<const uint8_t> info) { encode(to_link, protocol, info, encoder); }
};

} // namespace slirp_test
