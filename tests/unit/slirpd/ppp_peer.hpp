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
#include <optional>
#include <span>
#include <vector>

#include "auth_peer.hpp"
#include "ccp_peer.hpp"
#include "control.hpp"
#include "hdlc.hpp"
#include "ipcp_options.hpp"
#include "ipv6cp_options.hpp"
#include "lcp_options.hpp"
#include "vj.hpp"

namespace slirp_test {

using namespace alopex::slirp::ppp;
using Bytes = std::vector<uint8_t>;

// IPCP as pppd's client side with `noipdefault usepeerdns`: asks for VJ compression (pppd
// does by default), address 0.0.0.0 and both DNS servers 0.0.0.0, takes what is Naked,
// stops asking for what is rejected, acknowledges the server's address.
struct ClientIpcp {
    uint32_t address = 0, dns = 0, dns2 = 0;
    bool ask_vj = true, ask_dns = true, ask_dns2 = true;
    bool vj_rejected = false, dns2_rejected = false;
    std::optional<vj::Options> server_vj;   // slirpd's request asked for VJ: we may send it
    bool accept_vj = true;                  // false: pppd's novj (slirpd's VJ rejected)
    Negotiator negotiator()
    {
        return {[this] {
                    Bytes b;
                    if (ask_vj)   // VJ, 16 slots, slot-id compression: pppd's request
                        b.insert(b.end(), {ipcp_option::ip_compression, 6, 0x00, 0x2D, 0x0F, 0x01});
                    put_option_u32(b, ipcp_option::ip_address, address);
                    if (ask_dns)
                        put_option_u32(b, ipcp_option::primary_dns, dns);
                    if (ask_dns2)
                        put_option_u32(b, ipcp_option::secondary_dns, dns2);
                    return b;
                },
                [this](std::span<const uint8_t> d, bool) -> alopex::Result<ConfigureReply> {
                    server_vj.reset();
                    if (auto l = parse_options(d)) {
                        for (const auto &o : *l) {
                            if (o.type != ipcp_option::ip_compression)
                                continue;
                            if (!accept_vj) {
                                Bytes opt = {o.type, static_cast<uint8_t>(o.value.size() + 2)};
                                opt.insert(opt.end(), o.value.begin(), o.value.end());
                                return ConfigureReply{Code::ConfigureReject, opt};
                            }
                            if (o.value.size() == 4 && o.value[1] == 0x2D)
                                server_vj = vj::Options{o.value[2], o.value[3] == 1};
                        }
                    }
                    return ConfigureReply{Code::ConfigureAck, Bytes(d.begin(), d.end())};
                },
                [](std::span<const uint8_t>) { return true; },
                [this](std::span<const uint8_t> d) {
                    auto l = parse_options(d);
                    if (!l)
                        return false;
                    for (const auto &o : *l) {
                        if (o.type == ipcp_option::ip_address)
                            value_u32(o, address);
                        else if (o.type == ipcp_option::primary_dns)
                            value_u32(o, dns);
                        else if (o.type == ipcp_option::secondary_dns)
                            value_u32(o, dns2);
                    }
                    return true;
                },
                [this](std::span<const uint8_t> d) {
                    auto l = parse_options(d);
                    if (!l)
                        return false;
                    for (const auto &o : *l) {
                        if (o.type == ipcp_option::ip_compression)
                            ask_vj = false, vj_rejected = true;
                        else if (o.type == ipcp_option::primary_dns)
                            ask_dns = false;
                        else if (o.type == ipcp_option::secondary_dns)
                            ask_dns2 = false, dns2_rejected = true;
                    }
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
    bool ccp_rejected = false;          // slirpd sent a Protocol-Reject for our CCP
    std::optional<vj::Decompressor> vj_in;   // VJ from slirpd, when negotiated
    std::optional<vj::Compressor> vj_out;    // VJ to slirpd, when negotiated
    uint64_t vj_compressed_in = 0, vj_compressed_out = 0, vj_errors = 0, line_errors = 0;
    bool answer_echoes = true;
    bool keep_frames = true;            // false: `frames` stays empty (a long-running peer)
    uint32_t seed = 7;
    LcpOptions lcp_options{{}, [this] { return seed = seed * 1103515245 + 12345; }};
    ClientIpcp ipcp_client;
    Decoder decoder{{1508, default_accm, Fcs::Fcs16}};
    EncoderOptions encoder;
    std::unique_ptr<ControlProtocol> lcp, ipcp;
    std::unique_ptr<PeerCcp> ccp;       // set before start(): CCP with Deflate as pppd and ppp_deflate
    std::optional<PeerAuth> auth;       // set before start(): authenticates when slirpd asks
    // IPV6CP as pppd's +ipv6 (enable_ipv6() before start()); its identifiers and state.
    Ipv6cpOptions ipv6cp_options{{.enabled = true, .local_id = 0}, [this] { return seed = seed * 1103515245 + 12345; }};
    std::unique_ptr<ControlProtocol> ipv6cp;
    bool ipv6cp_open = false, ipv6cp_rejected = false;
    void enable_ipv6()
    {
        ipv6cp = std::make_unique<ControlProtocol>(
            proto_ipv6cp, negotiator_for(ipv6cp_options),
            [this](uint16_t proto, Bytes info) { encode(to_link, proto, info, encoder); },
            ControlProtocol::Layer{[this] { ipv6cp_open = true; }, [this] { ipv6cp_open = false; }, {}, {}});
    }
    Negotiator lcp_negotiator()
    {
        Negotiator n = negotiator_for(lcp_options);
        auto inner = n;
        n.on_request = [this, inner](std::span<const uint8_t> d, bool r) {
            return auth ? auth->on_request(inner, d, r) : inner.on_request(d, r);
        };
        return n;
    }
    void network_start()
    {
        if (ccp) {   // as pppd: CCP first
            ccp->cp->up();
            ccp->cp->open();
        } else {
            // pppd's CCP Configure-Request (Deflate 15, BSD-Compress 15), which slirpd has
            // to Protocol-Reject.
            send_raw(proto_ccp, Bytes{1, 1, 0, 11, 26, 4, 0x78, 0x00, 21, 3, 0x2F});
        }
        ipcp->up();
        ipcp->open();
        if (ipv6cp) {
            ipv6cp->up();
            ipv6cp->open();
        }
    }

    Peer()
    {
        auto send = [this](uint16_t proto, Bytes info) { encode(to_link, proto, info, encoder); };
        lcp = std::make_unique<ControlProtocol>(
            proto_lcp, lcp_negotiator(), send,
            ControlProtocol::Layer{[this] {
                                       lcp_open = true;
                                       const auto &s = lcp_options.settings();
                                       encoder = {s.send_accm, s.send_acfc, s.send_pfc, Fcs::Fcs16};
                                       decoder.set_options({1508, s.receive_accm, Fcs::Fcs16});
                                       if (auth && auth->agreed) {   // the NCPs after authentication
                                           auth->start([this](uint16_t p, const Bytes &i) { send_raw(p, i); });
                                           return;
                                       }
                                       network_start();
                                   },
                                   [this] {
                                       lcp_open = false;
                                       encoder = {};
                                       if (ccp)
                                           ccp->cp->down();
                                       ipcp->down();
                                       if (ipv6cp)
                                           ipv6cp->down();
                                   },
                                   {}, {}});
        lcp->set_lcp_extras({[this](uint16_t protocol) {
                                 if (protocol == proto_ccp)
                                     ccp_rejected = true;
                                 if (protocol == proto_ipv6cp && ipv6cp) {
                                     ipv6cp_rejected = true;
                                     ipv6cp->protocol_rejected();
                                 }
                             },
                             {}, [this] { return lcp_options.settings().our_magic; }, {}});
        ipcp = std::make_unique<ControlProtocol>(
            proto_ipcp, ipcp_client.negotiator(), send,
            ControlProtocol::Layer{[this] {
                                       ipcp_open = true;
                                       // VJ as pppd's kernel (slhc) would use it: from slirpd
                                       // when our request kept it, to slirpd when its asked.
                                       vj_in.reset();
                                       vj_out.reset();
                                       if (ipcp_client.ask_vj)
                                           vj_in.emplace(vj::Options{});
                                       if (ipcp_client.server_vj)
                                           vj_out.emplace(*ipcp_client.server_vj);
                                   },
                                   [this] { ipcp_open = false; }, {}, {}});
    }
    // CCP with Deflate as pppd with ppp_deflate (before start()).
    void enable_deflate()
    {
        ccp = std::make_unique<PeerCcp>([this](uint16_t proto, Bytes info) { encode(to_link, proto, info, encoder); });
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
            const auto &d = decoder.stats();
            if (d.fcs_errors + d.too_long + d.aborts != line_errors) {
                line_errors = d.fcs_errors + d.too_long + d.aborts;
                if (vj_in)
                    vj_in->line_error();   // RFC 1144 §4.2, as slhc does
            }
            auto p = parse_frame(f);
            if (!p)
                return;
            data_input(p->protocol, p->info);
        });
    }
    // A frame's protocol and information; `decompressed`: it came out of Deflate.
    void data_input(uint16_t protocol, std::span<const uint8_t> info, bool decompressed = false)
    {
        if (ccp && protocol == proto_ccp) {
            ccp->cp->input(info);
            return;
        }
        if (ccp && protocol == 0x00FD) {
            if (auto d = ccp->decompress(info))
                data_input(d->first, d->second, true);
            else if (vj_in)
                vj_in->line_error();   // a packet lost: VJ tosses, as the kernel's slhc_toss
            return;
        }
        if (ccp && !decompressed)
            ccp->plain(protocol, info);
        if (auth && (protocol == proto_pap || protocol == proto_chap)) {
            bool was = auth->passed;
            auth->input(protocol, info, [this](uint16_t p, const Bytes &i) { send_raw(p, i); });
            if (auth->passed && !was)
                network_start();
            return;
        }
        if (protocol == proto_lcp) {
            auto pk = parse_packet(info);
            if (!answer_echoes && pk && pk->code == static_cast<uint8_t>(Code::EchoRequest))
                return;
            lcp->input(info);
        } else if (protocol == proto_ipcp) {
            ipcp->input(info);
        } else if (protocol == proto_ipv6cp && ipv6cp) {
            ipv6cp->input(info);
        } else if (protocol == proto_ipv6) {
            ip.emplace_back(info.begin(), info.end());
        } else if (protocol == proto_ip) {
            ip.emplace_back(info.begin(), info.end());
        } else if (vj_in && (protocol == proto_vj_compressed || protocol == proto_vj_uncompressed)) {
            Bytes packet;
            bool compressed = protocol == proto_vj_compressed;
            if (compressed ? vj_in->compressed(info, packet) : vj_in->uncompressed(info, packet)) {
                vj_compressed_in += compressed;
                ip.push_back(std::move(packet));
            } else {
                ++vj_errors;
            }
        }
    }
    // A data packet to slirpd, through Deflate when CCP has it.
    void send_data(uint16_t protocol, std::span<const uint8_t> info)
    {
        if (ccp) {
            if (auto z = ccp->compress(protocol, info)) {
                encode(to_link, 0x00FD, *z, encoder);
                return;
            }
        }
        encode(to_link, protocol, info, encoder);
    }
    void send_ip(std::span<const uint8_t> packet)
    {
        if (!packet.empty() && packet[0] >> 4 == 6) {
            send_data(proto_ipv6, packet);
            return;
        }
        if (!vj_out) {
            send_data(proto_ip, packet);
            return;
        }
        Bytes info;
        auto kind = vj_out->compress(packet, info);
        vj_compressed_out += kind == vj::Kind::Compressed;
        uint16_t protocol = kind == vj::Kind::Ip             ? proto_ip
                            : kind == vj::Kind::Uncompressed ? proto_vj_uncompressed
                                                             : proto_vj_compressed;
        send_data(protocol, info);
    }
    void send_raw(uint16_t protocol, std::span<const uint8_t> info) { encode(to_link, protocol, info, encoder); }
};

} // namespace slirp_test
