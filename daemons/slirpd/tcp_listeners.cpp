// SPDX-License-Identifier: GPL-2.0-or-later
// TcpForwarder's [listen] side: host ports whose connections go across the link,
// each through a Bridge (tcp_bridge.hpp) to a connection the stack opens.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "alopex/log.hpp"
#include "tcp_bridge.hpp"
#include "tcp_forwarder.hpp"

namespace alopex::slirp {

namespace {

constexpr unsigned port_tries = 64;   // a taken port: the next ones tried

// Closes an accepted host connection with a RST (nothing to carry it to).
void reset_socket(Fd fd)
{
    linger l{1, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

} // namespace

Result<> TcpForwarder::listen(const std::vector<Listen> &listens, Resolve resolve)
{
    resolve_ = std::move(resolve);
    for (const Listen &config : listens) {
        auto l = std::make_unique<Listener>();
        l->config = config;
        l->forwarder = this;
        ALOPEX_TRY_VOID(bind_listener(*l));
        if (l->bound.port != config.bind.port)
            log::notice("[listen] {} is in use: listening on {} instead (to {})", config.bind.to_string(),
                        l->bound.to_string(), config.target_text());
        else
            log::info("listening on {} (to {})", l->bound.to_string(), config.target_text());
        listeners_.push_back(std::move(l));
    }
    return {};
}

Result<> TcpForwarder::bind_listener(Listener &l)
{
    net::Endpoint at = l.config.bind;
    for (unsigned i = 0; i < port_tries && at.port != 0; ++i, ++at.port) {
        sockaddr_storage ss{};
        socklen_t len = net::to_sockaddr(at, ss);
        Fd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fd)
            return failf(errno, "[listen] {}: {}", l.config.bind.to_string(), strerror(errno));
        int one = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd.get(), reinterpret_cast<const sockaddr *>(&ss), len) < 0) {
            if (errno == EADDRINUSE)
                continue;
            return failf(errno, "[listen] cannot listen on {}: {}", at.to_string(), strerror(errno));
        }
        if (::listen(fd.get(), 128) < 0)
            return failf(errno, "[listen] cannot listen on {}: {}", at.to_string(), strerror(errno));
        sd_event_source *s = nullptr;
        if (int r = sd_event_add_io(event_, &s, fd.get(), EPOLLIN, on_listen, &l); r < 0)
            return failf(-r, "[listen] {}: {}", at.to_string(), strerror(-r));
        l.source.reset(s);
        l.fd = std::move(fd);
        l.bound = at;
        return {};
    }
    return failf(EADDRINUSE, "[listen] {} and the {} ports after it are in use", l.config.bind.to_string(),
                 port_tries - 1);
}

int TcpForwarder::on_listen(sd_event_source *, int, uint32_t, void *userdata) noexcept
{
    auto *l = static_cast<Listener *>(userdata);
    TcpForwarder &f = *l->forwarder;
    log::contained("[listen] accept", [&] { f.accept_host(*l); });
    f.kick_();
    return 0;
}

int TcpForwarder::on_listen_pause(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *l = static_cast<Listener *>(userdata);
    sd_event_source_set_enabled(l->source.get(), SD_EVENT_ON);
    l->pause.reset();
    return 0;
}

void TcpForwarder::accept_host(Listener &l)
{
    for (;;) {
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        Fd fd(::accept4(l.fd.get(), reinterpret_cast<sockaddr *>(&from), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            int err = errno;
            if (err == EAGAIN || err == EINTR || err == ECONNABORTED)
                return;
            log::warning("[listen] {}: accept: {}", l.bound.to_string(), strerror(err));
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                // The connection waits in the backlog; a level-triggered source would spin.
                sd_event_source_set_enabled(l.source.get(), SD_EVENT_OFF);
                sd_event_source *t = nullptr;
                if (sd_event_add_time_relative(event_, &t, CLOCK_MONOTONIC, 1'000'000, 0, on_listen_pause, &l) >= 0)
                    l.pause.reset(t);
            }
            return;
        }
        net::Address dst = resolve_ ? resolve_(l.config) : net::Address();
        std::string name = fmt::format("{} -> {}", l.bound.to_string(), net::Endpoint{dst, l.config.port}.to_string());
        if (dst.empty()) {
            ++stats_.listen_refused;
            log::debug("[listen] {}: the link is not up, reset", l.bound.to_string());
            reset_socket(std::move(fd));
            continue;
        }
        auto b = std::make_unique<Bridge>(*this, std::move(fd), name);
        stack::tcp::Connection *c = stack_.connect_tcp(dst, l.config.port, b.get(), now());
        if (!c) {
            ++stats_.listen_refused;
            log::info("TCP {}: no room for another connection, reset", name);
            b->reset_host();
            continue;
        }
        ++l.accepted;
        ++stats_.listen_accepted;
        Bridge *raw = b.get();
        bridges_.emplace(raw, std::move(b));
        if (auto r = raw->attach(*c); !r)
            log::warning("TCP {}: {}", name, r.error().message);
    }
}

Result<> TcpForwarder::Bridge::attach(stack::tcp::Connection &c)
{
    conn_ = &c;
    log::debug("TCP {}: connecting across the link", name_);
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_io(f_.event_, &s, fd_.get(), EPOLLIN, on_io, this); r < 0) {
        conn_->set_events(nullptr);
        std::exchange(conn_, nullptr)->abort();
        reset_host();
        gone();
        return failf(-r, "cannot watch the host socket: {}", strerror(-r));
    }
    io_.reset(s);
    update_events();   // off until established
    return {};
}

} // namespace alopex::slirp
