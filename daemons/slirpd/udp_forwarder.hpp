// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's UDP port maps ([udp_ports] of alopex-slirp.toml(5)): the peer's datagrams to
// a mapped address:port go out of an ordinary UDP socket connected to the map's host
// target, one socket per flow (the peer's address and port), and the target's answers
// come back to the peer from the mapped address and port. At most `max_flows` flows (the
// least recently used one makes room); a flow unused for `idle_timeout` is closed. An
// ICMP error from the host side (the target not listening) is counted, not relayed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <tuple>

#include <systemd/sd-event.h>

#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "settings.hpp"
#include "stack.hpp"

namespace alopex::slirp {

struct UdpForwarderStats {
    uint64_t datagrams_out = 0, datagrams_in = 0;
    uint64_t flows_opened = 0, flows_expired = 0, flows_evicted = 0;
    uint64_t errors = 0;   // sends that failed, ICMP errors from the host side, answers over the MTU
};

class UdpForwarder {
public:
    UdpForwarder(sd_event *event, stack::Stack &stack, size_t max_flows, uint64_t idle_timeout_usec,
                 std::function<void()> kick);
    ~UdpForwarder();
    UdpForwarder(const UdpForwarder &) = delete;
    UdpForwarder &operator=(const UdpForwarder &) = delete;

    void add(const PortMap &map);
    void remove(const net::Address &address, uint16_t port);   // its flows close too
    size_t flows() const noexcept { return flows_.size(); }
    const UdpForwarderStats &stats() const noexcept { return stats_; }

private:
    // The peer's address and port, the mapped address and port.
    using Key = std::tuple<net::Address, uint16_t, net::Address, uint16_t>;
    struct Flow {
        UdpForwarder *owner = nullptr;
        Key key;
        Fd fd;
        EventSourcePtr io;
        uint64_t last_used = 0;
    };
    void datagram(const PortMap &map, const net::Address &src, uint16_t sport, std::span<const uint8_t> payload);
    Flow *open(const Key &key, const HostTarget &target);
    void close(const Key &key);
    uint64_t now() const;
    void arm_sweep();
    static int on_readable(sd_event_source *, int, uint32_t, void *userdata) noexcept;
    static int on_sweep(sd_event_source *, uint64_t, void *userdata) noexcept;

    sd_event *event_;
    stack::Stack &stack_;
    size_t max_flows_;
    uint64_t idle_timeout_;
    std::function<void()> kick_;
    UdpForwarderStats stats_;
    std::map<Key, std::unique_ptr<Flow>> flows_;
    EventSourcePtr sweep_;
};

} // namespace alopex::slirp
