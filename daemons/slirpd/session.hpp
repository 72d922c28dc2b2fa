// SPDX-License-Identifier: GPL-2.0-or-later
// One PPP session on the event loop: the line's bytes into the Link (ppp/link.hpp), the
// Link's IPv4 packets into the Stack (stack/stack.hpp) and back, the DNS proxy at
// slirpd's address (dns_proxy.hpp), TCP and UDP port maps to host sockets
// (tcp_forwarder.hpp, udp_forwarder.hpp),
// the Link's and the Stack's timers on one CLOCK_MONOTONIC event source, and the state
// changes logged and in STATUS=.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"
#include "capture.hpp"
#include "dns_proxy.hpp"
#include "line.hpp"
#include "link.hpp"
#include "settings.hpp"
#include "stack.hpp"
#include "tcp_forwarder.hpp"
#include "udp_forwarder.hpp"

namespace alopex::slirp {

struct SessionConfig {
    ppp::LinkConfig link;
    std::vector<net::Address> dns_upstreams;   // empty: no DNS proxy (port 53 refused)
    std::vector<PortMap> tcp_ports, udp_ports;
    std::vector<Listen> listens;   // host ports carried to the other side
    BackendPolicy backends;
    std::optional<TcpForwarder::Socks5Upstream> socks5;
    Limits limits;
};

class Session {
public:
    // `line` comes later (set_line): the Link's output goes to it.
    static Result<std::unique_ptr<Session>> create(sd_event *event, SessionConfig config);
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    // The line's congestion holds TCP's new data back (Line::congested, on_drained).
    void set_line(Line *line);
    void start();
    void line_input(std::span<const uint8_t> bytes);
    void hangup();

    const ppp::Link &link() const noexcept { return *link_; }
    const stack::Stack &ip() const noexcept { return *stack_; }
    stack::Stack &ip() noexcept { return *stack_; }
    const TcpForwarder &tcp() const noexcept { return *tcp_; }
    const UdpForwarder &udp() const noexcept { return *udp_; }
    const DnsProxy *dns() const noexcept { return dns_.get(); }
    const Line *line() const noexcept { return line_; }
    // Every counter of the link, the stack and the host side, by name (the bus's Counters,
    // and the log line at stop).
    std::map<std::string, uint64_t> counters() const;
    const std::vector<PortMap> &tcp_ports() const noexcept { return tcp_ports_; }
    // How long the last packet of this TCP connection waited in the flow queue (µs; 0
    // unpaced; a flow shares its bucket's value with any that hash alike).
    uint64_t queue_delay(const stack::TcpKey &k) const
    {
        return link_->paced() ? link_->queue().last_delay_of(flow_of(k)) : 0;
    }
    const std::vector<PortMap> &udp_ports() const noexcept { return udp_ports_; }

    // Reload: the port maps and the DNS proxy's upstreams change at once; connections
    // already open stay.
    void set_port_maps(std::vector<PortMap> tcp, std::vector<PortMap> udp);
    void set_dns_upstreams(std::vector<net::Address> upstreams);

    // A capture of the link's frames into `fd` for `usec` (capture.hpp); EBUSY while one
    // runs.
    Result<> start_capture(Fd fd, uint64_t usec);
    bool capturing() const noexcept { return capture_ != nullptr; }

    // A lockout began (stack/rate_limit.hpp); its details as a JSON object, for the ledger.
    std::function<void(std::string details)> on_lockout;

    // Called when the phase, the line or IPCP's state changed (after the loop's work).
    std::function<void()> on_state_changed;

private:
    explicit Session(sd_event *event) : event_(event) {}
    uint32_t local_ = 0;
    std::vector<PortMap> tcp_ports_, udp_ports_;
    uint64_t now() const;
    void rearm();
    void network_up();
    void ipv6_up();
    bool link_busy(const stack::TcpKey &k) const;
    // The flow queue's flow of a TCP connection's packets to the peer.
    static uint32_t flow_of(const stack::TcpKey &k)
    {
        auto fold = [](const net::Address &a) { return a.is_v6() ? ppp::FlowQueue::fold6(a.data()) : a.v4_number(); };
        return ppp::FlowQueue::flow_id(6, fold(k.local), fold(k.remote), k.local_port, k.remote_port);
    }
    static int on_resume(sd_event_source *, void *userdata) noexcept;
    void report();
    static int on_timer(sd_event_source *, uint64_t, void *userdata) noexcept;

    sd_event *event_;
    Line *line_ = nullptr;
    std::unique_ptr<ppp::Link> link_;
    std::unique_ptr<stack::Stack> stack_;
    std::unique_ptr<DnsProxy> dns_;
    std::unique_ptr<TcpForwarder> tcp_;   // after stack_: destroyed before it
    std::unique_ptr<UdpForwarder> udp_;
    EventSourcePtr timer_, resume_;
    std::unique_ptr<Capture> capture_;
    uint64_t capture_frames_ = 0, capture_dropped_ = 0;   // of the captures that ended
    static constexpr uint64_t frame_time_usec = 16'000;   // paced: a TCP frame's longest time on the line
    size_t flow_cap_ = 1024, queue_cap_ = 16 * 1024;   // network_up() sets them for the line
    ppp::Phase reported_phase_ = ppp::Phase::Dead;
    bool reported_network_ = false, reported_line_ = false;
};

} // namespace alopex::slirp
