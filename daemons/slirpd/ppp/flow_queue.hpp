// SPDX-License-Identifier: GPL-2.0-or-later
// The IP packets waiting for a paced line, one FIFO per flow, served the way fq_codel's
// scheduler does (RFC 8290 §4.1-4.2, without CoDel: the stack's TCP already keeps each
// flow's queue short): deficit round robin with a quantum of octets, and a flow that had
// nothing queued when its packet came (a keystroke, a DNS query, a pure ACK) is "new"
// and served before the backlogged ones. A new flow that uses its quantum, or empties,
// joins the end of the old list, so a bulk flow cannot pass as new by refilling; bulk
// flows take turns. Flows are the packet's protocol, addresses and ports hashed into a
// fixed number of buckets (a collision shares a queue, as in fq_codel). Past `limit`
// octets in all, the head of the fattest flow is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

namespace alopex::slirp::ppp {

class FlowQueue {
public:
    static constexpr size_t buckets = 1024;
    explicit FlowQueue(size_t quantum = 300, size_t limit = 256 * 1024);

    // The flow of an IP packet: protocol, addresses and, for TCP and UDP in an
    // unfragmented IPv4 packet or an IPv6 one without extension headers, ports. Anything
    // else (too short, not IP) is flow 0.
    static uint32_t flow_of(std::span<const uint8_t> packet);
    // An IPv6 address's 16 octets folded into 32 bits for flow_id (an IPv4 address is
    // its own number).
    static uint32_t fold6(const uint8_t *address);
    static uint32_t flow_id(uint8_t protocol, uint32_t src, uint32_t dst, uint16_t src_port, uint16_t dst_port);

    struct Packet {
        std::vector<uint8_t> bytes;
        uint64_t queued_at = 0;   // the caller's clock, as push() was given it
    };
    void push(std::span<const uint8_t> packet, uint64_t now = 0);
    // The next packet by the schedule; nullopt when nothing waits. `now` is the time it
    // leaves (for the flow's last queue delay).
    std::optional<Packet> pop(uint64_t now = 0);

    bool empty() const noexcept { return packets_ == 0; }
    size_t bytes() const noexcept { return bytes_; }
    size_t packets() const noexcept { return packets_; }
    // Octets queued in the bucket of this flow (flow_id's value).
    size_t bytes_of(uint32_t flow) const noexcept { return flows_[flow % buckets].bytes; }
    // How long the last packet of this flow's bucket waited.
    uint64_t last_delay_of(uint32_t flow) const noexcept { return flows_[flow % buckets].last_delay; }
    uint64_t dropped() const noexcept { return dropped_; }
    void clear();

private:
    enum class List : uint8_t { None, New, Old };
    struct Flow {
        std::deque<Packet> packets;
        size_t bytes = 0;
        uint64_t last_delay = 0;
        long deficit = 0;
        List list = List::None;
    };
    void drop_from_fattest();

    size_t quantum_, limit_;
    std::vector<Flow> flows_;
    std::deque<uint16_t> new_, old_;
    size_t bytes_ = 0, packets_ = 0;
    uint64_t dropped_ = 0;
};

} // namespace alopex::slirp::ppp
