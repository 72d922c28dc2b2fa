// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's IPv4 stack, pure: the peer's packets in (from the PPP link), packets for the
// peer out. So far it validates every packet (ipv4.hpp, transport.hpp), drops fragments
// and counts them, answers ICMP echo sent to slirpd's own address, and refuses what is
// not mapped, as a host with nothing listening does: a TCP segment gets a RST (RFC 9293
// §3.10.7.1), a UDP datagram an ICMP port unreachable (RFC 1122 §3.2.2.1) from the
// address it was sent to, unless a UDP service is bound there (the DNS proxy). Port
// maps (TCP to host sockets, UDP) come next.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <utility>
#include <vector>

namespace alopex::slirp::stack {

struct StackConfig {
    uint32_t address = 0x0A000001;   // slirpd's own, host order (10.0.0.1)
    size_t mtu = 1500;               // the largest packet sent to the peer
};

struct StackStats {
    uint64_t packets_in = 0;
    uint64_t bad_packets = 0;      // header, length or checksum wrong
    uint64_t fragments = 0;        // dropped: no reassembly
    uint64_t icmp_in = 0, icmp_bad = 0, echo_replies = 0;
    uint64_t resets = 0;           // RSTs sent for TCP to unmapped ports
    uint64_t port_unreachables = 0;
    uint64_t udp_delivered = 0;    // to a bound service
    uint64_t not_handled = 0;      // other protocols, ICMP to other addresses
};

class Stack {
public:
    using Output = std::function<void(std::span<const uint8_t> packet)>;
    Stack(StackConfig config, Output output) : config_(config), output_(std::move(output)) {}

    void input(std::span<const uint8_t> packet);
    const StackStats &stats() const noexcept { return stats_; }

    // A UDP service at address:port (slirpd's DNS proxy at local:53): its datagrams go
    // to `handler` (sender address and port, payload) instead of being refused.
    using UdpHandler = std::function<void(uint32_t src, uint16_t src_port, std::span<const uint8_t> payload)>;
    void bind_udp(uint32_t address, uint16_t port, UdpHandler handler);
    // Sends a UDP datagram to the peer; false when it does not fit the MTU.
    bool send_udp(uint32_t src, uint16_t src_port, uint32_t dst, uint16_t dst_port, std::span<const uint8_t> payload);

private:
    void refuse_tcp(const struct Ipv4 &ip);
    void refuse_udp(const struct Ipv4 &ip, std::span<const uint8_t> packet);
    void answer_icmp(const struct Ipv4 &ip);
    void send(uint32_t src, uint32_t dst, uint8_t protocol, std::span<const uint8_t> payload, uint8_t tos = 0);

    StackConfig config_;
    Output output_;
    StackStats stats_;
    std::vector<uint8_t> out_, icmp_;
    uint16_t next_id_ = 1;
    std::map<std::pair<uint32_t, uint16_t>, UdpHandler> udp_;
};

} // namespace alopex::slirp::stack
