// SPDX-License-Identifier: GPL-2.0-or-later
#include "tcp_forwarder.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "alopex/fd.hpp"
#include "alopex/log.hpp"
#include "tcp_bridge.hpp"

namespace alopex::slirp {

namespace {

std::string describe(const stack::TcpKey &k)
{
    return fmt::format("{} -> {}", net::Endpoint{k.remote, k.remote_port}.to_string(),
                       net::Endpoint{k.local, k.local_port}.to_string());
}

} // namespace

void TcpForwarder::Bridge::start(const HostTarget &t)
{
    name_ = key_ + " (" + t.to_string() + ")";
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (t.is_unix()) {
        auto *sun = reinterpret_cast<sockaddr_un *>(&ss);
        sun->sun_family = AF_UNIX;
        std::memcpy(sun->sun_path, t.unix_path.data(), t.unix_path.size());
        len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + t.unix_path.size() + 1);
    } else {
        len = net::to_sockaddr(t.inet, ss);
    }
    fd_.reset(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_) {
        fail(errno);
        return;
    }
    if (::connect(fd_.get(), reinterpret_cast<const sockaddr *>(&ss), len) < 0 && errno != EINPROGRESS) {
        fail(errno);
        return;
    }
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_io(f_.event_, &s, fd_.get(), EPOLLOUT, on_io, this); r < 0) {
        fail(-r);
        return;
    }
    io_.reset(s);
    if (int r = sd_event_add_time_relative(f_.event_, &s, CLOCK_MONOTONIC, f_.options_.connect_timeout_usec, 0,
                                           on_timeout, this);
        r < 0) {
        fail(-r);
        return;
    }
    timer_.reset(s);
}

// The host side could not be reached: the peer hears it the way a host would tell it.
void TcpForwarder::Bridge::fail(int err)
{
    log::info("TCP {}: {}", name_, strerror(err));
    pool_->failed(order_[attempt_], f_.now());
    if (conn_ && ++attempt_ < order_.size()) {   // failover: the next backend
        io_.reset();
        timer_.reset();
        fd_.reset();
        ++f_.stats_.failovers;
        start();
        return;
    }
    tell_peer(err);
}

// The host side could not be reached: the peer hears it the way a host would tell it.
void TcpForwarder::Bridge::tell_peer(int err)
{
    stack::tcp::Connection *c = std::exchange(conn_, nullptr);
    if (!c) {
        gone();
        return;
    }
    c->set_events(nullptr);
    switch (err) {
    case ENETUNREACH: ++f_.stats_.unreachable; f_.stack_.unreachable(*c, 0); break;
    case EHOSTUNREACH:
    case ETIMEDOUT: ++f_.stats_.unreachable; f_.stack_.unreachable(*c, 1); break;
    case EACCES:
    case EPERM: ++f_.stats_.unreachable; f_.stack_.unreachable(*c, 13); break;
    default: ++f_.stats_.refused; c->refuse(); break;
    }
    gone();
}

void TcpForwarder::Bridge::gone()
{
    io_.reset();
    timer_.reset();
    fd_.reset();
    f_.bury(this);
}

void TcpForwarder::Bridge::connected(int err)
{
    timer_.reset();
    if (err || !conn_) {
        fail(err ? err : ECONNABORTED);
        return;
    }
    if (socks_ && !socks_done_) {   // the proxy took the connection: now the handshake
        pool_->succeeded(order_[attempt_]);
        handshaking_ = true;
        sd_event_source *s = nullptr;   // within the connect timeout again
        if (sd_event_add_time_relative(f_.event_, &s, CLOCK_MONOTONIC, f_.options_.connect_timeout_usec, 0, on_timeout,
                                       this) >= 0)
            timer_.reset(s);
        auto hello = socks_->start();
        if (::send(fd_.get(), hello.data(), hello.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(hello.size())) {
            fail(errno ? errno : EIO);
            return;
        }
        update_events();
        return;
    }
    connecting_ = false;
    if (!socks_)
        pool_->succeeded(order_[attempt_]);
    ++f_.stats_.connected;
    log::debug("TCP {}: connected", name_);
    conn_->accept(f_.now());   // the SYN-ACK, at last
    update_events();
}

// Host -> peer, as far as the connection's send buffer has room.
void TcpForwarder::Bridge::from_host()
{
    auto &buf = f_.buffer_;
    while (conn_ && !host_eof_ && fd_) {
        size_t space = std::min(conn_->send_space(), buf.size());
        if (space == 0)
            break;
        ssize_t n = ::recv(fd_.get(), buf.data(), space, MSG_DONTWAIT);
        if (n > 0) {
            f_.stats_.bytes_from_host += static_cast<size_t>(n);
            conn_->write(std::span(buf).first(static_cast<size_t>(n)), f_.now());
        } else if (n == 0) {
            host_eof_ = true;   // the host's FIN becomes ours
            conn_->shutdown(f_.now());
        } else if (errno == EAGAIN || errno == EINTR) {
            break;
        } else {
            log::debug("TCP {}: host side: {}", name_, strerror(errno));
            ++f_.stats_.host_resets;
            if (conn_) {
                conn_->set_events(nullptr);
                std::exchange(conn_, nullptr)->abort();   // a reset goes across
            }
            gone();
            return;
        }
    }
    update_events();
}

// Peer -> host, as far as the host socket takes it; the rest waits in the receive buffer.
void TcpForwarder::Bridge::to_host()
{
    want_write_ = false;
    while (conn_ && fd_) {
        auto data = conn_->received();
        if (data.empty())
            break;
        ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            f_.stats_.bytes_to_host += static_cast<size_t>(n);
            conn_->consume(static_cast<size_t>(n), f_.now());   // may close (and bury) us
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            want_write_ = true;
            break;
        } else {
            ++f_.stats_.host_resets;
            conn_->set_events(nullptr);
            std::exchange(conn_, nullptr)->abort();
            gone();
            return;
        }
    }
    if (conn_ && fd_ && conn_->peer_finished() && !shut_wr_) {
        shut_wr_ = true;
        ::shutdown(fd_.get(), SHUT_WR);   // the peer's FIN, after its data
    }
    update_events();
}

// A message from the SOCKS5 proxy during the handshake (it is a few octets: sent whole).
void TcpForwarder::Bridge::socks_input()
{
    uint8_t buf[1024];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    auto step = n > 0 ? socks_->input(std::span(buf, static_cast<size_t>(n)))
                      : Socks5Client::Step{Socks5Client::Status::Failed, {}, 0, "the proxy closed the connection"};
    switch (step.status) {
    case Socks5Client::Status::More: return;
    case Socks5Client::Status::Send:
        if (::send(fd_.get(), step.send.data(), step.send.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(step.send.size()))
            tell_peer(errno ? errno : EIO);
        return;
    case Socks5Client::Status::Connected: {
        handshaking_ = false;
        socks_done_ = true;
        auto rest = socks_->leftover();
        pending_.assign(rest.begin(), rest.end());
        ++f_.stats_.socks_connected;
        connected(0);
        return;
    }
    case Socks5Client::Status::Failed: {
        ++f_.stats_.socks_failed;
        handshaking_ = false;
        timer_.reset();
        log::info("TCP {}: SOCKS5: {}", name_, step.what);
        // The proxy's answer as a host's would be (RFC 1928 §6's REP).
        static const int as_errno[] = {ECONNREFUSED, ECONNREFUSED, EACCES, ENETUNREACH, EHOSTUNREACH,
                                       ECONNREFUSED, EHOSTUNREACH, ECONNREFUSED, ECONNREFUSED};
        tell_peer(step.reply < 9 ? as_errno[step.reply] : ECONNREFUSED);
        return;
    }
    }
}

void TcpForwarder::Bridge::reset_host()
{
    if (!fd_)
        return;
    linger l{1, 0};   // close() sends a RST
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    io_.reset();
    fd_.reset();
}

void TcpForwarder::Bridge::update_events()
{
    if (!io_)
        return;
    uint32_t ev = 0;
    if (handshaking_)
        ev = EPOLLIN;
    else if (connecting_)
        ev = EPOLLOUT;
    else if (conn_ && up_) {
        // Read the host socket again once a good part of the send buffer is free, not for
        // every ACK's few segments (fewer reads, fewer epoll changes, bigger batches).
        size_t batch = std::min<size_t>(16 * 1024, conn_->send_buffer_size() / 4);
        if (!host_eof_ && conn_->send_space() >= std::max<size_t>(batch, 1))
            ev |= EPOLLIN;
        if (want_write_)
            ev |= EPOLLOUT;
    }
    if (ev == 0) {
        sd_event_source_set_enabled(io_.get(), SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_io_events(io_.get(), ev);
    sd_event_source_set_enabled(io_.get(), SD_EVENT_ON);
}

int TcpForwarder::Bridge::on_io(sd_event_source *, int fd, uint32_t revents, void *userdata) noexcept
{
    auto *b = static_cast<Bridge *>(userdata);
    TcpForwarder &f = b->f_;
    log::contained("TCP host socket", [&] {
        if (b->handshaking_) {
            b->socks_input();
            return;
        }
        if (b->connecting_) {
            int err = 0;
            socklen_t len = sizeof err;
            if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
            b->connected(err);
            return;
        }
        if (revents & EPOLLOUT)
            b->to_host();
        if (b->conn_ && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            b->from_host();
    });
    f.kick_();
    return 0;
}

int TcpForwarder::Bridge::on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *b = static_cast<Bridge *>(userdata);
    TcpForwarder &f = b->f_;
    log::contained("TCP connect timeout", [&] { b->fail(ETIMEDOUT); });
    f.kick_();
    return 0;
}

TcpForwarder::TcpForwarder(sd_event *event, stack::Stack &stack, Options options, std::function<void()> kick)
    : event_(event), stack_(stack), options_(options), kick_(std::move(kick)), buffer_(64 * 1024)
{
    sd_event_source *s = nullptr;
    if (sd_event_add_defer(event_, &s, on_reap, this) >= 0) {
        reaper_.reset(s);
        sd_event_source_set_enabled(s, SD_EVENT_OFF);
    }
}

TcpForwarder::~TcpForwarder()
{
    graveyard_.clear();
    bridges_.clear();
}

void TcpForwarder::add(const PortMap &map)
{
    auto pool = std::make_shared<BackendPool>(map.targets(), options_.backends);
    pools_[{map.address, map.port}] = pool;
    stack_.listen_tcp(map.address, map.port, [this, pool](stack::tcp::Connection &c, const stack::TcpKey &k) {
        accept(c, k, pool);
    });
}

void TcpForwarder::remove(const net::Address &address, uint16_t port)
{
    stack_.unlisten_tcp(address, port);
    pools_.erase({address, port});   // bridges still connecting keep theirs
}

void TcpForwarder::set_socks5(std::optional<Socks5Upstream> upstream)
{
    socks5_ = std::move(upstream);
    if (!socks5_) {
        stack_.listen_tcp_elsewhere({});
        socks_pool_.reset();
        return;
    }
    socks_pool_ = std::make_shared<BackendPool>(std::vector<HostTarget>{socks5_->server}, options_.backends);
    stack_.listen_tcp_elsewhere([this](stack::tcp::Connection &c, const stack::TcpKey &k) {
        accept(c, k, socks_pool_, Socks5Client(k.local.v4_number(), k.local_port, socks5_->auth));
    });
}

void TcpForwarder::accept(stack::tcp::Connection &c, const stack::TcpKey &key, std::shared_ptr<BackendPool> pool,
                          std::optional<Socks5Client> socks)
{
    auto b = std::make_unique<Bridge>(*this, c, describe(key), std::move(pool), std::move(socks));
    Bridge *raw = b.get();
    bridges_.emplace(raw, std::move(b));
    raw->start();
}

// Freed from the event loop, never inside one of the bridge's own calls.
void TcpForwarder::bury(Bridge *b)
{
    if (std::find(graveyard_.begin(), graveyard_.end(), b) != graveyard_.end())
        return;
    graveyard_.push_back(b);
    if (reaper_)
        sd_event_source_set_enabled(reaper_.get(), SD_EVENT_ONESHOT);
}

int TcpForwarder::on_reap(sd_event_source *, void *userdata) noexcept
{
    auto *f = static_cast<TcpForwarder *>(userdata);
    for (Bridge *b : std::exchange(f->graveyard_, {}))
        f->bridges_.erase(b);
    return 0;
}

uint64_t TcpForwarder::now() const
{
    uint64_t n = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &n);
    return n;
}

} // namespace alopex::slirp
