// SPDX-License-Identifier: GPL-2.0-or-later
// IPCP's configuration options (RFC 1332, DNS from RFC 1877), pure, for slirpd as the
// server of the link (the peer gets its address and DNS servers from us) or as its client
// (IpcpConfig::client: we get ours from the peer).
//
// Server. Ours: IP-Address, slirpd's own (virtual) address. A Nak of it is not followed (the
// address is configured); a Reject stops asking for it.
// Theirs: IP-Address 0.0.0.0, or any other than the configured peer address, is Naked
// with the configured one; Primary-DNS (129) and Secondary-DNS (131) are Naked with the
// servers we offer until they match, and rejected when we offer none (a second one
// missing rejects 131). The deprecated IP-Addresses option (1), the NBNS options (130,
// 132) and anything unknown are rejected. With reject_instead_of_nak (max-failure), what
// would be Naked is rejected instead.
//
// Client. Ours: IP-Address (the configured local one, 0.0.0.0 for "give me one"),
// Primary-DNS and Secondary-DNS 0.0.0.0, as pppd's `usepeerdns`. A Nak's addresses are
// taken (an address of 0.0.0.0 or a multicast, broadcast or loopback one is not: the
// Nak is discarded); a Reject of a DNS option stops asking for it, a Reject of
// IP-Address (no address to get) fails the negotiation. Theirs: IP-Address, the server's
// own, is acknowledged (any unicast address) and learned; 0.0.0.0 is Naked with the
// configured peer address when there is one, else rejected, as are its DNS requests
// (we have none to give) and everything unknown.
//
// VJ (IP-Compression-Protocol 0x002D, RFC 1332 §3.2), unless configured off: the peer's
// request (pppd makes one by default) says what it can receive, and is acknowledged with
// any Max-Slot-Id and Comp-Slot-Id, so we may send it compressed; ours asks for 16 slots
// and the slot left out, so it may send us compressed. A Nak of ours with other VJ
// parameters is followed, a Reject or another protocol stops asking. Another
// compression protocol, or a malformed one, is rejected.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "alopex/net.hpp"
#include "lcp_options.hpp"
#include "packet.hpp"
#include "vj.hpp"

namespace alopex::slirp::ppp {

namespace ipcp_option {
inline constexpr uint8_t ip_addresses = 1;
inline constexpr uint8_t ip_compression = 2;
inline constexpr uint8_t ip_address = 3;
inline constexpr uint8_t primary_dns = 129;
inline constexpr uint8_t primary_nbns = 130;
inline constexpr uint8_t secondary_dns = 131;
inline constexpr uint8_t secondary_nbns = 132;
} // namespace ipcp_option

struct IpcpConfig {
    net::Address local = net::Address::v4(0x0A000001);   // 10.0.0.1
    net::Address peer = net::Address::v4(0x0A000002);    // 10.0.0.2
    net::Address dns1, dns2;                              // empty: not offered
    bool vj = true;                                       // VJ both ways when the peer agrees
    // The client of the link: `local` is asked for (0.0.0.0: any), the peer's address
    // and DNS servers are learned; `peer` only answers a server without an address.
    bool client = false;
};

class IpcpOptions {
public:
    explicit IpcpOptions(IpcpConfig config) : config_(config), peer_(config.client ? net::Address{} : config.peer)
    {
        reset();
    }

    void reset();
    std::vector<uint8_t> request() const;

    Result<ConfigureReply> on_request(std::span<const uint8_t> options, bool reject_instead_of_nak);
    bool on_ack(std::span<const uint8_t> options) const;
    bool on_nak(std::span<const uint8_t> options);
    bool on_reject(std::span<const uint8_t> options);

    const IpcpConfig &config() const noexcept { return config_; }
    // The peer's address is the configured one once its request was acknowledged.
    bool peer_acked() const noexcept { return peer_acked_; }
    // Once IPCP is Opened: our address and the peer's (server: the configured ones;
    // client: those negotiated, the peer's empty when its request named none), and the
    // DNS servers (server: offered; client: learned, empty when not given).
    const net::Address &local() const noexcept { return local_; }
    const net::Address &peer() const noexcept { return peer_; }
    const net::Address &dns1() const noexcept { return dns_[0]; }
    const net::Address &dns2() const noexcept { return dns_[1]; }
    // Once IPCP is Opened: VJ toward the peer (what its acknowledged request asked), and
    // VJ from it (our request, acknowledged, asked for it).
    std::optional<vj::Options> vj_to_peer() const { return peer_vj_; }
    std::optional<vj::Options> vj_from_peer() const
    {
        return asking_vj_ ? std::optional<vj::Options>(our_vj_) : std::nullopt;
    }

private:
    Result<ConfigureReply> on_client_request(std::span<const uint8_t> options, bool reject_instead_of_nak);
    void on_client_nak(const Option &x);

    IpcpConfig config_;
    net::Address local_, peer_, dns_[2];
    bool asking_dns_[2] = {false, false};
    bool asking_address_ = true;
    bool peer_acked_ = false;
    bool asking_vj_ = true;
    vj::Options our_vj_;
    std::optional<vj::Options> peer_vj_;
};

} // namespace alopex::slirp::ppp
