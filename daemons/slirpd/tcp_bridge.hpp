// SPDX-License-Identifier: GPL-2.0-or-later
// One TCP connection of the stack coupled to a host socket, for TcpForwarder (private to
// tcp_forwarder.cpp and tcp_listeners.cpp): the peer's connection to a port map's
// backend (or through the SOCKS5 upstream), or a host connection to a [listen] port
// carried across. Bytes move with backpressure both ways; a half-close and a reset go
// across both ways.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "tcp_forwarder.hpp"

namespace alopex::slirp {

class TcpForwarder::Bridge : public stack::tcp::Events {
public:
    // The bridge hears of the connection from the start: a RST from the peer may end it
    // while the host side is still connecting.
    Bridge(TcpForwarder &f, stack::tcp::Connection &c, std::string key, std::shared_ptr<BackendPool> pool,
           std::optional<Socks5Client> socks)
        : f_(f), conn_(&c), pool_(std::move(pool)), order_(pool_->order(f.now())), socks_(std::move(socks)),
          key_(std::move(key))
    {
        c.set_events(this);
    }
    // A host connection accepted on a [listen] port (tcp_listeners.cpp): it goes across
    // once attach() has the connection the stack opened for it.
    Bridge(TcpForwarder &f, Fd host, std::string name)
        : f_(f), conn_(nullptr), key_(name), name_(std::move(name)), fd_(std::move(host)), connecting_(false)
    {
    }
    Result<> attach(stack::tcp::Connection &c);
    // The host side hears a RST (close() with a zero linger).
    void reset_host();
    // The next backend in the order (the first from accept(), then after each failure).
    void start() { start(pool_->backends()[order_[attempt_]].target); }
    ~Bridge() override
    {
        if (conn_) {
            conn_->set_events(nullptr);
            conn_->abort();
        }
    }

    void start(const HostTarget &t);

    void readable() override { to_host(); }
    void peer_closed() override { to_host(); }
    void writable() override { update_events(); }
    void established() override
    {
        up_ = true;
        if (!pending_.empty() && conn_) {   // what the destination sent with the proxy's reply
            conn_->write(pending_, f_.now());
            pending_.clear();
        }
        from_host();
    }
    void closed(stack::tcp::CloseReason r) override
    {
        conn_ = nullptr;
        if (r != stack::tcp::CloseReason::Done || connecting_)
            reset_host();   // a reset, a timeout, an administrator's close: the host side hears a RST
        timer_.reset();
        log::debug("TCP {}: closed ({})", name_, to_string(r));
        f_.bury(this);
    }

private:
    void connected(int err);
    void fail(int err);
    void tell_peer(int err);
    void socks_input();
    void from_host();
    void to_host();
    void gone();
    void update_events();
    static int on_io(sd_event_source *, int, uint32_t revents, void *userdata) noexcept;
    static int on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept;

    TcpForwarder &f_;
    stack::tcp::Connection *conn_;
    std::shared_ptr<BackendPool> pool_;
    std::vector<size_t> order_;   // the backends to try, in order
    size_t attempt_ = 0;
    std::optional<Socks5Client> socks_;   // through the SOCKS5 upstream: its handshake
    bool handshaking_ = false, socks_done_ = false;
    std::vector<uint8_t> pending_;
    std::string key_, name_;
    Fd fd_;
    EventSourcePtr io_, timer_;
    bool connecting_ = true, host_eof_ = false, shut_wr_ = false, want_write_ = false;
    bool up_ = false;   // the connection is established: the host side is read
};

} // namespace alopex::slirp
