// SPDX-License-Identifier: GPL-2.0-or-later
// The paced line's flow queue: new (sparse) flows before backlogged ones, round robin
// between bulk flows by quantum, a refilling flow not passing as new, the fattest flow
// dropped from at the limit, and flows told apart by protocol, addresses and ports
// (hostile packets too short to have ports are one flow, never read past their end).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "flow_queue.hpp"
#include "tcp_packet.hpp"

using alopex::slirp::ppp::FlowQueue;
using slirp_test::Seg;

namespace {

std::vector<uint8_t> tcp_from(uint16_t port, size_t data, uint32_t seq = 1000)
{
    Seg s;
    s.src = 0x0A000001;
    s.dst = 0x0A000002;
    s.sport = 22;
    s.dport = port;
    s.data = data;
    s.seq = seq;
    return slirp_test::packet(s);
}

uint16_t port_of(const std::vector<uint8_t> &p)
{
    return static_cast<uint16_t>(p[22] << 8 | p[23]);
}

// The destination ports of everything the queue hands out, in order.
std::vector<uint16_t> drain(FlowQueue &q)
{
    std::vector<uint16_t> order;
    while (auto p = q.pop())
        order.push_back(port_of(p->bytes));
    return order;
}

} // namespace

TEST_CASE("flow queue: a sparse flow's packet goes before a backlogged flow's", "[slirp][pace]")
{
    FlowQueue q(300);
    for (uint32_t i = 0; i < 6; ++i)
        q.push(tcp_from(1000, 200, 1000 + i * 200));
    // The bulk flow starts: its first quantum, then it is old.
    auto first = q.pop();
    REQUIRE(first);
    CHECK(port_of(first->bytes) == 1000);
    CHECK(port_of(q.pop()->bytes) == 1000);   // quantum 300: a second packet still fits
    q.push(tcp_from(2000, 20));               // a keystroke
    auto next = q.pop();
    REQUIRE(next);
    CHECK(port_of(next->bytes) == 2000);
    CHECK(q.packets() == 4);
    CHECK(q.bytes() == 4 * 240);
    CHECK(drain(q) == std::vector<uint16_t>(4, 1000));
    CHECK(q.empty());
    CHECK_FALSE(q.pop());
}

TEST_CASE("flow queue: bulk flows take turns by quantum", "[slirp][pace]")
{
    FlowQueue q(240);   // one 240-octet packet a turn
    for (uint32_t i = 0; i < 4; ++i) {
        q.push(tcp_from(1000, 200, i * 200));
        q.push(tcp_from(1001, 200, i * 200));
        q.push(tcp_from(1002, 200, i * 200));
    }
    auto order = drain(q);
    REQUIRE(order.size() == 12);
    // After each flow's first (new) turn, strict rotation.
    for (size_t i = 3; i < order.size(); ++i)
        CHECK(order[i] == order[i - 3]);
    std::vector<int> seen(3);
    for (size_t i = 0; i < 6; ++i)
        ++seen[order[i] - 1000];
    CHECK(seen == std::vector<int>{2, 2, 2});
}

TEST_CASE("flow queue: a flow refilled as it empties stays old and gets only its share", "[slirp][pace]")
{
    FlowQueue q(240);
    for (uint32_t i = 0; i < 40; ++i)
        q.push(tcp_from(1000, 200, i * 200));
    q.push(tcp_from(1001, 200));
    int bulk = 0, other = 0;
    for (int i = 0; i < 30; ++i) {
        auto p = q.pop();
        REQUIRE(p);
        if (port_of(p->bytes) == 1001) {
            ++other;
            q.push(tcp_from(1001, 200));   // the same size again, at once
        } else {
            ++bulk;
        }
    }
    CHECK(other >= 14);
    CHECK(other <= 16);
    CHECK(bulk + other == 30);
}

TEST_CASE("flow queue: over the limit the fattest flow loses its oldest packet", "[slirp][pace]")
{
    FlowQueue q(300, 2400);   // ten 240-octet packets
    for (uint32_t i = 0; i < 9; ++i)
        q.push(tcp_from(1000, 200, i * 200), i);
    q.push(tcp_from(2000, 200), 100);
    CHECK(q.dropped() == 0);
    q.push(tcp_from(2001, 200), 101);
    CHECK(q.dropped() == 1);
    CHECK(q.bytes() == 2400);
    CHECK(q.bytes_of(FlowQueue::flow_id(6, 0x0A000001, 0x0A000002, 22, 1000)) == 8 * 240);
    CHECK(q.bytes_of(FlowQueue::flow_id(6, 0x0A000001, 0x0A000002, 22, 2001)) == 240);
    auto p = q.pop(150);
    REQUIRE(p);
    CHECK(port_of(p->bytes) == 1000);
    CHECK(p->queued_at == 1);   // the one queued at 0 was dropped
    CHECK(q.last_delay_of(FlowQueue::flow_id(6, 0x0A000001, 0x0A000002, 22, 1000)) == 149);
}

TEST_CASE("flow queue: flows by protocol, addresses and ports; hostile packets are one flow", "[slirp][pace]")
{
    auto a = tcp_from(1000, 0), b = tcp_from(1001, 0);
    CHECK(FlowQueue::flow_of(a) == FlowQueue::flow_id(6, 0x0A000001, 0x0A000002, 22, 1000));
    CHECK(FlowQueue::flow_of(a) != FlowQueue::flow_of(b));
    auto udp = a;
    udp[9] = 17;
    CHECK(FlowQueue::flow_of(udp) == FlowQueue::flow_id(17, 0x0A000001, 0x0A000002, 22, 1000));
    auto fragment = a;
    fragment[6] = 0x00;
    fragment[7] = 0x10;   // not the first fragment: no ports in it
    CHECK(FlowQueue::flow_of(fragment) == FlowQueue::flow_id(6, 0x0A000001, 0x0A000002, 0, 0));
    // Too short for ports, for an IPv4 header, not IPv4, empty: flow 0 or no ports,
    // never a read past the end (ASan would say).
    CHECK(FlowQueue::flow_of(std::vector<uint8_t>(a.begin(), a.begin() + 22)) ==
          FlowQueue::flow_id(6, 0x0A000001, 0x0A000002, 0, 0));
    CHECK(FlowQueue::flow_of(std::vector<uint8_t>(a.begin(), a.begin() + 19)) == 0);
    CHECK(FlowQueue::flow_of(std::vector<uint8_t>{0x60, 0, 0, 0}) == 0);
    CHECK(FlowQueue::flow_of({}) == 0);
    auto long_ihl = a;
    long_ihl[0] = 0x4f;   // 60-octet header claimed in a 40-octet packet
    CHECK(FlowQueue::flow_of(long_ihl) == FlowQueue::flow_id(6, 0x0A000001, 0x0A000002, 0, 0));
    FlowQueue q;
    q.push(std::vector<uint8_t>{1, 2, 3});
    q.push({});
    CHECK(q.packets() == 2);
    CHECK(q.pop()->bytes.size() == 3);
    CHECK(q.pop()->bytes.empty());
    CHECK(q.empty());
}
