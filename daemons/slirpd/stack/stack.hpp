// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's IPv4 stack, pure: the peer's packets in (from the PPP link), packets for the
// peer out. This first part validates every packet (ipv4.hpp), drops fragments and counts
// them, and answers ICMP echo sent to slirpd's own address. TCP and UDP to mapped
// addresses come next; until then they are counted and dropped.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
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
    uint64_t not_handled = 0;      // TCP, UDP and other destinations, for now
};

class Stack {
public:
    using Output = std::function<void(std::span<const uint8_t> packet)>;
    Stack(StackConfig config, Output output) : config_(config), output_(std::move(output)) {}

    void input(std::span<const uint8_t> packet);
    const StackStats &stats() const noexcept { return stats_; }

private:
    StackConfig config_;
    Output output_;
    StackStats stats_;
    std::vector<uint8_t> out_, icmp_;
    uint16_t next_id_ = 1;
};

} // namespace alopex::slirp::stack
