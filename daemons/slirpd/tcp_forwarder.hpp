// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's TCP port maps: a SYN from the peer to a mapped address:port becomes an
// ordinary non-blocking socket to the map's host target ([ports] of
// alopex-slirp.toml(5)). The SYN is answered only when the host side's connect() has
// succeeded; refused (or a unix socket that is not there) becomes a RST, an unreachable
// network or host (or no answer within connect_timeout) an ICMP unreachable, a denial
// (EACCES, EPERM) an ICMP administratively prohibited.
//
// Bytes move with backpressure both ways and never pile up: the host socket is read
// only while the connection's send buffer has room, and the peer's data stays in the
// connection's receive buffer (closing its window) while the host socket does not take
// it. A half-close goes across both ways (the host's EOF becomes our FIN; the peer's FIN
// becomes shutdown(SHUT_WR) once its data is delivered); a reset goes across both ways.
//
// The other way ([listen], mode client or both): a connection accepted on a host port
// becomes a connection the stack opens to the other side (Stack::connect_tcp), coupled
// the same way. The host connection is reset when the link is not up, or when the other
// side refuses or does not answer. A port that is taken when slirpd starts is moved to
// the next free one (the published port says where).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <systemd/sd-event.h>

#include <map>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "backend_pool.hpp"
#include "settings.hpp"
#include "socks5.hpp"
#include "stack.hpp"

namespace alopex::slirp {

struct TcpForwarderStats {
    uint64_t connected = 0, refused = 0, unreachable = 0, host_resets = 0;
    uint64_t failovers = 0;   // a backend could not be reached and the next was tried
    uint64_t socks_connected = 0, socks_failed = 0;   // CONNECTs through the SOCKS5 upstream
    uint64_t bytes_to_host = 0, bytes_from_host = 0;
    uint64_t listen_accepted = 0;   // [listen]: host connections carried across
    uint64_t listen_refused = 0;    // [listen]: reset (the link down, the connection limit)
};

// A [listen] port as it is: where it listens (the configured port or, taken, the next
// free one), and the host connections it took.
struct Listener {
    Listen config;
    net::Endpoint bound;
    uint64_t accepted = 0;
    Fd fd;
    EventSourcePtr source, pause;   // pause: out of descriptors, accepting again in 1 s
    class TcpForwarder *forwarder = nullptr;
};

class TcpForwarder {
public:
    struct Options {
        uint64_t connect_timeout_usec = 10'000'000;
        BackendPolicy backends;
    };
    // `kick` is called after every host-side event (the stack's timers may have moved).
    TcpForwarder(sd_event *event, stack::Stack &stack, Options options, std::function<void()> kick);
    ~TcpForwarder();
    TcpForwarder(const TcpForwarder &) = delete;
    TcpForwarder &operator=(const TcpForwarder &) = delete;

    // Listens on map.address:map.port in the stack; remove() stops taking new
    // connections there (those open stay).
    void add(const PortMap &map);
    void remove(const net::Address &address, uint16_t port);
    // TCP to destinations other than slirpd's own that no map covers: through this SOCKS5
    // proxy (socks5.hpp); nullopt: refused.
    struct Socks5Upstream {
        HostTarget server;
        std::optional<Socks5Auth> auth;
    };
    void set_socks5(std::optional<Socks5Upstream> upstream);

    // [listen]: listens on each host address and port (a taken port: the next free of the
    // 64 after it); an error names the one that failed. `resolve` gives a listener's
    // destination address now, none while the link (of its family) is not up.
    using Resolve = std::function<net::Address(const Listen &)>;
    Result<> listen(const std::vector<Listen> &listens, Resolve resolve);
    const std::vector<std::unique_ptr<Listener>> &listeners() const noexcept { return listeners_; }

    size_t bridges() const noexcept { return bridges_.size(); }
    // The backends of each listened address and port.
    const std::map<stack::Port, std::shared_ptr<BackendPool>> &pools() const noexcept
    {
        return pools_;
    }
    const TcpForwarderStats &stats() const noexcept { return stats_; }

private:
    class Bridge;
    friend class Bridge;
    void accept(stack::tcp::Connection &c, const stack::TcpKey &key, std::shared_ptr<BackendPool> pool,
                std::optional<Socks5Client> socks = std::nullopt);
    void bury(Bridge *b);
    uint64_t now() const;
    static int on_reap(sd_event_source *, void *userdata) noexcept;
    // tcp_listeners.cpp
    Result<> bind_listener(Listener &l);
    void accept_host(Listener &l);
    static int on_listen(sd_event_source *, int fd, uint32_t, void *userdata) noexcept;
    static int on_listen_pause(sd_event_source *, uint64_t, void *userdata) noexcept;

    sd_event *event_;
    stack::Stack &stack_;
    Options options_;
    std::function<void()> kick_;
    TcpForwarderStats stats_;
    std::unordered_map<Bridge *, std::unique_ptr<Bridge>> bridges_;
    std::vector<Bridge *> graveyard_;
    EventSourcePtr reaper_;
    std::vector<uint8_t> buffer_;   // one read at a time, shared
    std::map<stack::Port, std::shared_ptr<BackendPool>> pools_;
    std::optional<Socks5Upstream> socks5_;
    std::shared_ptr<BackendPool> socks_pool_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    Resolve resolve_;
};

} // namespace alopex::slirp
