// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's DNS proxy: the peer's UDP queries to slirpd's address, port 53, are sent to
// the host's resolvers (the nameservers of /etc/resolv.conf at start, or [dns] upstreams
// of alopex-slirp.toml) from an ordinary unprivileged UDP socket, one per query, and the
// answer goes back to the peer from slirpd's address. A query refused by an upstream, or
// unanswered within the timeout, goes to the next one, then is given up (the peer's
// resolver asks again).
// Bounded: at most max_pending queries in flight (more are dropped and counted); an
// answer must carry the query's ID and fit the link's MTU.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"
#include "alopex/net.hpp"
#include "alopex/sd.hpp"
#include "stack.hpp"

namespace alopex::slirp {

struct DnsProxyStats {
    uint64_t queries = 0, answers = 0, timeouts = 0;
    uint64_t dropped = 0;   // malformed, too many pending, no upstream, an answer too large
};

class DnsProxy {
public:
    struct Limits {
        size_t max_pending = 64;
        uint64_t timeout_usec = 2'000'000;
    };
    // Binds local:53 in `stack`.
    static Result<std::unique_ptr<DnsProxy>> create(sd_event *event, stack::Stack &stack, const net::Address &local,
                                                    std::vector<net::Address> upstreams, Limits limits);
    // Binds local:53 too (slirpd's IPv6 address, once it has one); answers go from the
    // address each query was sent to.
    void listen_on(const net::Address &local);
    ~DnsProxy();
    DnsProxy(const DnsProxy &) = delete;
    DnsProxy &operator=(const DnsProxy &) = delete;

    const DnsProxyStats &stats() const noexcept { return stats_; }
    // Queries go to these from now on (a pending one goes on down the new list).
    void set_upstreams(std::vector<net::Address> upstreams) { upstreams_ = std::move(upstreams); }
    size_t pending() const noexcept { return pending_.size(); }

private:
    struct Query {
        DnsProxy *proxy = nullptr;
        uint64_t key = 0;
        net::Address local, peer;
        uint16_t peer_port = 0;
        std::vector<uint8_t> payload;
        size_t upstream = 0;   // index of the one asked now
        Fd fd;
        EventSourcePtr io, timer;
    };
    DnsProxy(sd_event *event, stack::Stack &stack, std::vector<net::Address> upstreams, Limits l)
        : event_(event), stack_(stack), upstreams_(std::move(upstreams)), limits_(l) {}
    void query(const net::Address &local, const net::Address &peer, uint16_t port, std::span<const uint8_t> payload);
    bool ask(Query &q);   // sends to upstreams_[q.upstream]; false when it cannot
    void next_upstream(Query &q);
    void finish(uint64_t key);
    static int on_answer(sd_event_source *, int, uint32_t, void *userdata) noexcept;
    static int on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept;

    sd_event *event_;
    stack::Stack &stack_;
    std::vector<net::Address> upstreams_;
    Limits limits_;
    DnsProxyStats stats_;
    std::map<uint64_t, std::unique_ptr<Query>> pending_;
    uint64_t next_key_ = 1;
};

} // namespace alopex::slirp
