// SPDX-License-Identifier: GPL-2.0-or-later
#include "flow_queue.hpp"

#include <algorithm>

#include "wire.hpp"

namespace alopex::slirp::ppp {

FlowQueue::FlowQueue(size_t quantum, size_t limit) : quantum_(std::max<size_t>(quantum, 1)), limit_(limit), flows_(buckets)
{
}

uint32_t FlowQueue::flow_id(uint8_t protocol, uint32_t src, uint32_t dst, uint16_t src_port, uint16_t dst_port)
{
    uint64_t x = (uint64_t{src} << 32 | dst) ^ (uint64_t{src_port} << 24 | uint64_t{dst_port} << 8 | protocol) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return static_cast<uint32_t>(x);
}

uint32_t FlowQueue::fold6(const uint8_t *a)
{
    return wire::be32(a) ^ wire::be32(a + 4) ^ wire::be32(a + 8) ^ wire::be32(a + 12);
}

uint32_t FlowQueue::flow_of(std::span<const uint8_t> p)
{
    if (p.size() >= 40 && p[0] >> 4 == 6) {
        uint8_t next = p[6];
        bool ports = (next == 6 || next == 17) && p.size() >= 44;
        return flow_id(next, fold6(p.data() + 8), fold6(p.data() + 24), ports ? wire::be16(p.data() + 40) : 0,
                       ports ? wire::be16(p.data() + 42) : 0);
    }
    if (p.size() < 20 || p[0] >> 4 != 4)
        return 0;
    size_t ihl = size_t{p[0] & 0x0fu} * 4;
    uint8_t protocol = p[9];
    uint16_t sport = 0, dport = 0;
    bool first_fragment = (p[6] & 0x1f) == 0 && p[7] == 0;
    if ((protocol == 6 || protocol == 17) && first_fragment && ihl >= 20 && p.size() >= ihl + 4) {
        sport = wire::be16(p.data() + ihl);
        dport = wire::be16(p.data() + ihl + 2);
    }
    return flow_id(protocol, wire::be32(p.data() + 12), wire::be32(p.data() + 16), sport, dport);
}

void FlowQueue::push(std::span<const uint8_t> packet, uint64_t now)
{
    auto index = static_cast<uint16_t>(flow_of(packet) % buckets);
    Flow &f = flows_[index];
    if (f.list == List::None) {
        f.list = List::New;
        f.deficit = static_cast<long>(quantum_);
        new_.push_back(index);
    }
    f.packets.push_back({std::vector<uint8_t>(packet.begin(), packet.end()), now});
    f.bytes += packet.size();
    bytes_ += packet.size();
    ++packets_;
    while (bytes_ > limit_)
        drop_from_fattest();
}

void FlowQueue::drop_from_fattest()
{
    auto fattest = std::max_element(flows_.begin(), flows_.end(),
                                    [](const Flow &a, const Flow &b) { return a.bytes < b.bytes; });
    size_t size = fattest->packets.front().bytes.size();
    fattest->bytes -= size;
    bytes_ -= size;
    --packets_;
    ++dropped_;
    fattest->packets.pop_front();
}

std::optional<FlowQueue::Packet> FlowQueue::pop(uint64_t now)
{
    while (!new_.empty() || !old_.empty()) {
        bool from_new = !new_.empty();
        auto &list = from_new ? new_ : old_;
        uint16_t index = list.front();
        Flow &f = flows_[index];
        if (f.deficit <= 0) {
            // Its quantum is spent: another one, at the end of the old flows.
            f.deficit += static_cast<long>(quantum_);
            list.pop_front();
            old_.push_back(index);
            f.list = List::Old;
            continue;
        }
        if (f.packets.empty()) {
            list.pop_front();
            if (from_new) {
                old_.push_back(index);   // RFC 8290 §4.2: not straight back to new
                f.list = List::Old;
            } else {
                f.list = List::None;
            }
            continue;
        }
        Packet p = std::move(f.packets.front());
        f.packets.pop_front();
        f.bytes -= p.bytes.size();
        f.deficit -= static_cast<long>(p.bytes.size());
        f.last_delay = now > p.queued_at ? now - p.queued_at : 0;
        bytes_ -= p.bytes.size();
        --packets_;
        return p;
    }
    return std::nullopt;
}

void FlowQueue::clear()
{
    for (auto &f : flows_)
        f = Flow{};
    new_.clear();
    old_.clear();
    bytes_ = packets_ = 0;
}

} // namespace alopex::slirp::ppp
