// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's IPv4 and IPv6 stack, pure: the peer's packets in (from the PPP link), packets
// for the peer out, time given by the caller. It validates every packet (ipv4.hpp,
// ipv6.hpp, transport.hpp), drops fragments and counts them, answers ICMP echo sent to slirpd's
// own address, carries TCP connections to listened addresses and ports (tcp.hpp; the
// daemon couples each to a host socket), and refuses what is not listened to, as a host
// with nothing listening does: a TCP segment gets a RST (RFC 9293 §3.10.7.1), a UDP
// datagram an ICMP port unreachable (RFC 1122 §3.2.2.1) from the address it was sent to,
// unless a UDP service is bound there (the DNS proxy, UDP port maps).
//
// TCP limits: at most `max_connections` connections (TIME-WAIT included; the oldest
// TIME-WAIT is recycled for a new SYN at the limit) and `max_per_port` to one listened
// address and port; a SYN beyond them gets a RST. A connection without a segment or a
// write for `idle_timeout` is reset.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "alopex/net.hpp"
#include "ipv6.hpp"
#include "rate_limit.hpp"
#include "tcp.hpp"

namespace alopex::slirp::stack {

struct TcpLimits {
    size_t max_connections = 4096;
    size_t max_per_port = 1024;
    uint64_t idle_timeout = 7440'000'000;   // µs; RFC 5382 REQ-5's 2 h 4 min
    RateLimit new_per_peer, new_per_port;   // new connections (rate_limit.hpp); off by default
};

struct StackConfig {
    uint32_t address = 0x0A000001;   // slirpd's own, host order (10.0.0.1)
    size_t mtu = 1500;               // the largest packet sent to the peer
    tcp::Config tcp;                 // mss is derived from mtu
    TcpLimits limits;
};

// A TCP connection's addresses (both IPv4 or both IPv6) and ports; "local" is slirpd's side.
struct TcpKey {
    net::Address local, remote;
    uint16_t local_port = 0, remote_port = 0;
    bool operator==(const TcpKey &) const = default;
};
struct TcpKeyHash {
    size_t operator()(const TcpKey &k) const noexcept
    {
        std::hash<net::Address> h;
        uint64_t a = (uint64_t{h(k.local)} ^ (uint64_t{h(k.remote)} << 1)) * 0x9E3779B97F4A7C15ull;
        uint64_t b = (uint64_t{k.local_port} << 16 | k.remote_port) * 0xC2B2AE3D27D4EB4Full;
        return static_cast<size_t>(a ^ (b >> 7) ^ (a >> 29));
    }
};
// An address and port of the stack's: a listener's, a UDP service's.
using Port = std::pair<net::Address, uint16_t>;

struct StackStats {
    uint64_t packets_in = 0;
    uint64_t bad_packets = 0;      // header, length or checksum wrong
    uint64_t fragments = 0;        // dropped: no reassembly
    uint64_t icmp_in = 0, icmp_bad = 0, echo_replies = 0;
    uint64_t resets = 0;           // RSTs sent for TCP to unmapped ports
    uint64_t port_unreachables = 0;
    uint64_t udp_delivered = 0;    // to a bound service
    uint64_t not_handled = 0;      // other protocols, ICMP to other addresses
    uint64_t tcp_accepted = 0;     // SYNs to a listened port handed to the acceptor
    uint64_t tcp_opened = 0;       // active opens (connect_tcp)
    uint64_t tcp_limited = 0;      // SYNs refused by the connection limits
    uint64_t tcp_rate_limited = 0; // SYNs refused by the new-connection rate limits (lockouts included)
    uint64_t lockouts = 0;         // lockouts begun
    uint64_t tcp_idle_resets = 0;
    uint64_t host_unreachables = 0;
    // IPv6 (stack6.cpp): packets in, ICMPv6 messages in and malformed, echo replies sent,
    // errors sent (unreachable, parameter problem: RFC 4443 §2.4's limits kept).
    uint64_t ipv6_in = 0, icmpv6_in = 0, icmpv6_bad = 0, echo6_replies = 0, icmpv6_errors = 0;
    uint64_t icmpv6_rate_limited = 0;   // errors not sent: over 10 a second (RFC 4443 §2.4(f))
};

class Stack {
public:
    using Output = std::function<void(std::span<const uint8_t> packet)>;
    Stack(StackConfig config, Output output, uint32_t isn_secret = 0);
    ~Stack();
    Stack(const Stack &) = delete;
    Stack &operator=(const Stack &) = delete;

    void input(std::span<const uint8_t> packet, uint64_t now);
    // Runs the TCP timers due at `now`; next_deadline() says when to call it again.
    void advance(uint64_t now);
    uint64_t next_deadline() const;
    const StackStats &stats() const noexcept { return stats_; }
    // The TCP engines' own counters summed over every connection, closed ones included.
    tcp::Stats tcp_totals() const;

    // TCP to address:port (IPv4 or IPv6): a SYN creates a connection held in SYN-PENDING and calls
    // `acceptor` with it; the acceptor (now or later) calls accept() once the host side
    // has connected, refuse() (RST) or unreachable() here. The connection stays valid
    // until its Events::closed(), or until refuse()/abort()/unreachable().
    using TcpAcceptor = std::function<void(tcp::Connection &, const TcpKey &)>;
    void listen_tcp(const net::Address &address, uint16_t port, TcpAcceptor acceptor);
    // An active open from slirpd's address of dst's family (a free port of 49152..65535)
    // to dst:dst_port, its events going to `events` from the SYN on; null when the
    // connection limit is reached (no TIME-WAIT to recycle), no port is free or slirpd
    // has no address of that family yet. The connection stays valid until its
    // Events::closed(), or until abort().
    tcp::Connection *connect_tcp(const net::Address &dst, uint16_t dst_port, tcp::Events *events, uint64_t now);
    // IPv6 (stack6.cpp): slirpd's link-local address once IPV6CP has made it; before,
    // IPv6 packets are not handled. Echo requests to it (or to all nodes) are answered;
    // TCP and UDP to it, or to an address a listener or UDP service names, are taken as
    // over IPv4 (a RST, a port unreachable where nothing listens); another upper layer
    // gets a Parameter Problem; other destinations are not routed.
    void set_ipv6_address(const Address6 &a) noexcept { address6_ = a; }
    std::optional<Address6> ipv6_address() const noexcept { return address6_; }
    // slirpd's own address, once the link has it (the client of the link learns it).
    void set_address(uint32_t address) noexcept { config_.address = address; }
    uint32_t address() const noexcept { return config_.address; }
    // SYNs to addresses other than slirpd's own that no listener covers go to `acceptor`
    // (the SOCKS5 upstream); unset (the default): refused like any other.
    void listen_tcp_elsewhere(TcpAcceptor acceptor) { elsewhere_ = std::move(acceptor); }
    // The host side could not reach the target: an ICMP destination unreachable (RFC 792
    // code: 1 host, 0 net, 13 prohibited) quoting the held SYN, and the connection ends.
    void unreachable(tcp::Connection &c, uint8_t code);
    size_t tcp_connections() const noexcept { return tcp_.size(); }
    // Backpressure from the link: while `busy` says so for a connection, it holds new
    // data back; resume_output() (the link drained) lets those no longer busy send it.
    using LinkBusy = std::function<bool(const TcpKey &)>;
    void set_link_busy(LinkBusy busy) { link_busy_ = std::move(busy); }
    void resume_output(uint64_t now);
    bool output_blocked() const noexcept { return !blocked_.empty(); }
    // For connections opened from now on: the MSS offered and the largest segment sent
    // (a slow line's frames kept short), and the receive window offered. Zero keeps
    // what the MTU and the buffer size give.
    void set_segment_limits(uint16_t mss, uint32_t window);
    // Every connection with its id (unique for the stack's life), for listing.
    void each_tcp(const std::function<void(const TcpKey &, uint64_t id, const tcp::Connection &)> &f) const;
    // The connection with this key or id, or null.
    tcp::Connection *find_tcp(const TcpKey &k);
    tcp::Connection *find_tcp(uint64_t id);
    // A lockout began (a peer or a port went over its new-connection rate limit).
    using LockoutHandler = std::function<void(const net::Address &peer, const net::Address &address, uint16_t port,
                                              bool by_port, uint64_t until)>;
    void on_lockout(LockoutHandler h) { on_lockout_ = std::move(h); }
    // No more new connections to address:port (those open stay).
    void unlisten_tcp(const net::Address &address, uint16_t port);

    // A UDP service at address:port (slirpd's DNS proxy at local:53): its datagrams go
    // to `handler` (sender address and port, payload) instead of being refused.
    using UdpHandler =
        std::function<void(const net::Address &src, uint16_t src_port, std::span<const uint8_t> payload)>;
    void bind_udp(const net::Address &address, uint16_t port, UdpHandler handler);
    void unbind_udp(const net::Address &address, uint16_t port);
    // Sends a UDP datagram to the peer (src and dst of one family); false when it does not
    // fit the MTU, or IPv6 is not up.
    bool send_udp(const net::Address &src, uint16_t src_port, const net::Address &dst, uint16_t dst_port,
                  std::span<const uint8_t> payload);

private:
    struct TcpEntry;
    struct TcpOwner : tcp::Owner {
        Stack *stack;
        void changed(tcp::Connection &c) override;
        bool can_send(const tcp::Connection &c) const override;
        void blocked(tcp::Connection &c) override;
    };
    void input_tcp(const struct Ipv4 &ip, std::span<const uint8_t> packet, uint64_t now);
    bool take_tcp(const net::Address &src, const net::Address &dst, const struct Tcp &t,
                  std::span<const uint8_t> quote, uint64_t now);
    void input6(std::span<const uint8_t> packet, uint64_t now);
    bool serves6(const Ipv6 &ip) const;
    void input_tcp6(const Ipv6 &ip, uint64_t now);
    void input_udp6(const Ipv6 &ip);
    void answer_icmp6(const Ipv6 &ip);
    void refuse_tcp6(const Ipv6 &ip, const struct Tcp &t);
    void icmp6_error(const Ipv6 &ip, uint8_t type, uint8_t code, uint32_t pointer, bool even_to_multicast = false);
    void send6(const Address6 &src, const Address6 &dst, uint8_t next);   // out_ after its 40 octets
    void unreachable6(std::span<const uint8_t> syn, uint8_t code);
    bool open_tcp(const TcpKey &key, const struct Tcp &syn, std::span<const uint8_t> quote, uint64_t now);
    TcpEntry &add_tcp(const TcpKey &key, uint32_t iss, uint64_t now);
    void tcp_changed(TcpEntry &e);
    void collect();
    void sweep_idle(uint64_t now);
    bool make_room_for(const TcpKey &k);
    void refuse_tcp(const struct Ipv4 &ip, const struct Tcp &t);
    void refuse_udp(const struct Ipv4 &ip, std::span<const uint8_t> packet);
    void answer_icmp(const struct Ipv4 &ip);
    void send(uint32_t src, uint32_t dst, uint8_t protocol, std::span<const uint8_t> payload, uint8_t tos = 0);
    void send_tcp(const net::Address &src, const net::Address &dst, const struct Tcp &h,
                  std::span<const uint8_t> payload);
    void emit(uint32_t src, uint32_t dst, uint8_t protocol, uint8_t tos);   // out_ after its 20 octets

    StackConfig config_;
    Output output_;
    StackStats stats_;
    std::vector<uint8_t> out_, icmp_;
    tcp::Stats closed_totals_;   // of the connections freed
    uint16_t next_id_ = 1;
    std::map<Port, UdpHandler> udp_;

    std::map<Port, TcpAcceptor> listeners_;
    TcpAcceptor elsewhere_;
    std::map<Port, size_t> per_port_;
    std::unordered_map<TcpKey, std::unique_ptr<TcpEntry>, TcpKeyHash> tcp_;
    std::set<std::pair<uint64_t, TcpEntry *>> timers_;
    std::vector<TcpKey> dead_;
    LinkBusy link_busy_;
    RateLimiter limiter_;
    LockoutHandler on_lockout_;
    tcp::Config base_tcp_;   // config_.tcp as the MTU and buffer made it
    std::vector<TcpKey> blocked_;
    TcpOwner owner_{};
    uint32_t isn_secret_ = 0;
    uint64_t next_tcp_id_ = 1;
    std::optional<Address6> address6_;
    uint64_t icmp6_tokens_ = 10, icmp6_refilled_at_ = 0, now6_ = 0;   // the error rate limit
    uint16_t next_port_ = 0;   // connect_tcp's next local port to try (0: not chosen yet)
    uint64_t sweep_at_ = 0;
};

} // namespace alopex::slirp::stack
