// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-dhcp-packet: bytes as a DHCP payload (parser, reply checks, the state machine in
// every state that takes replies) and as an IPv4/UDP frame from the packet socket.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "client.hpp"
#include "ipudp.hpp"
#include "packet.hpp"

using namespace alopex::dhcp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // An exact-size copy: any read past `size` is a sanitizer report.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[size ? size : 1]);
    if (size)
        std::memcpy(copy.get(), data, size);
    std::span<const uint8_t> buf(copy.get(), size);

    if (auto p = parse_packet(buf)) {
        // Whatever parses must also pass through the lease code and back to bytes.
        Lease l = lease_from_ack(*p, 0);
        (void)parse_lease(format_lease(l, 0), 0);
        (void)encode_classless_routes(l.classless_routes);
    }
    Mac mac{};
    uint32_t xid = 0;
    if (size >= 34) {
        std::memcpy(mac.data(), &data[28], 6);
        xid = uint32_t(data[4]) << 24 | uint32_t(data[5]) << 16 | uint32_t(data[6]) << 8 | data[7];
    }
    (void)parse_reply(buf, xid, mac);

    // The state machine: make the client's xid match the packet's so it gets deep.
    uint32_t seed = xid;
    Client c(Identity{mac, {}, "fuzz"}, [&] { return seed; });
    (void)c.start(0);
    auto r = c.on_packet(buf, 1'000'000);    // as an OFFER while selecting
    (void)c.on_packet(buf, 2'000'000);       // as an ACK/NAK while requesting
    (void)c.on_timer(3'000'000'000);
    (void)c.on_packet(buf, 3'000'000'000);   // while renewing, if bound
    (void)c.release(4'000'000'000);

    (void)parse_ipv4_udp(buf, client_port, true);
    (void)parse_ipv4_udp(buf, client_port, false);
    (void)parse_classless_routes(buf);
    return 0;
}
