// SPDX-License-Identifier: GPL-2.0-or-later
#include "ovsdb_connection.hpp"

#include <cerrno>
#include <cstring>

#include <sys/socket.h>
#include <sys/un.h>

#include "alopex/log.hpp"

namespace alopex::ovs {

Result<Fd> OvsdbConnection::connect_unix(const std::string &path)
{
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path)
        return failf(ENAMETOOLONG, "{}: too long for a unix socket", path);
    std::memcpy(sa.sun_path, path.data(), path.size());
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd)
        return io_fail(errno, "socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&sa), sizeof sa) < 0)
        return io_fail(errno, path);
    return fd;
}

Result<std::unique_ptr<OvsdbConnection>> OvsdbConnection::create(sd_event *event, Connect connect,
                                                                 ovsdb::SessionConfig config,
                                                                 ovsdb::Session::Callbacks callbacks, Options options)
{
    std::unique_ptr<OvsdbConnection> c(new OvsdbConnection(event, std::move(connect), options));
    OvsdbConnection *self = c.get();
    c->user_ = std::move(callbacks);
    ovsdb::Session::Callbacks cb;
    cb.send = [self](std::string_view bytes) { self->send(bytes); };
    cb.synced = [self] {
        self->backoff_ = self->options_.min_backoff;
        if (self->user_.synced)
            self->user_.synced();
    };
    cb.changed = [self](const std::vector<ovsdb::RowChange> &ch) {
        if (self->user_.changed)
            self->user_.changed(ch);
    };
    cb.lost = [self](const std::string &why) {   // from inside the session: closed from the loop
        self->lost_why_ = why;
        sd_event_source_set_enabled(self->lost_.get(), SD_EVENT_ONESHOT);
    };
    c->session_ = std::make_unique<ovsdb::Session>(std::move(config), std::move(cb));
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, UINT64_MAX, 10'000, on_timer, self); r < 0)
        return failf(-r, "OVSDB keepalive timer: {}", strerror(-r));
    c->timer_.reset(s);
    if (int r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, UINT64_MAX, 10'000, on_retry, self); r < 0)
        return failf(-r, "OVSDB reconnect timer: {}", strerror(-r));
    c->retry_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    if (int r = sd_event_add_defer(event, &s, on_lost, self); r < 0)
        return failf(-r, "OVSDB: {}", strerror(-r));
    c->lost_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    c->attempt();
    return c;
}

OvsdbConnection::~OvsdbConnection() = default;   // alive_ goes: a late Connect answer is dropped

uint64_t OvsdbConnection::now() const
{
    uint64_t n = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &n);
    return n;
}

void OvsdbConnection::attempt()
{
    if (connecting_)
        return;
    ++connects_;
    connecting_ = true;
    connect_([this, alive = std::weak_ptr<bool>(alive_)](Result<Fd> fd) {
        if (alive.expired())
            return;   // answered after the connection object went
        connecting_ = false;
        use(std::move(fd));
    });
}

void OvsdbConnection::use(Result<Fd> fd)
{
    if (!fd) {
        log::debug("ovsdb-server: {}", fd.error().message);
        drop(fd.error().message);
        return;
    }
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_io(event_, &s, fd->get(), EPOLLIN, on_io, this); r < 0) {
        drop(fmt::format("watching the OVSDB socket: {}", strerror(-r)));
        return;
    }
    fd_ = std::move(*fd);
    io_.reset(s);
    out_.clear();
    session_->connected(now());
    rearm();
}

void OvsdbConnection::drop(const std::string &why)
{
    if (fd_) {
        log::info("ovsdb-server connection lost: {}; again in {} ms", why, backoff_ / 1000);
        session_->disconnected(why);
        if (user_.lost)
            user_.lost(why);
    }
    io_.reset();
    fd_.reset();
    out_.clear();
    sd_event_source_set_time_relative(retry_.get(), backoff_);
    sd_event_source_set_enabled(retry_.get(), SD_EVENT_ONESHOT);
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
    rearm();
}

void OvsdbConnection::send(std::string_view bytes)
{
    out_.append(bytes);
    flush();
}

void OvsdbConnection::flush()
{
    while (fd_ && !out_.empty()) {
        ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) {
                lost_why_ = fmt::format("send: {}", strerror(errno));
                sd_event_source_set_enabled(lost_.get(), SD_EVENT_ONESHOT);
                return;
            }
            break;
        }
        out_.erase(0, static_cast<size_t>(n));
    }
    if (io_)
        sd_event_source_set_io_events(io_.get(), out_.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT);
}

void OvsdbConnection::read_all()
{
    char buf[65536];
    for (int i = 0; i < 16 && fd_; ++i) {
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            drop(n == 0 ? std::string("ovsdb-server closed the connection") : fmt::format("recv: {}", strerror(errno)));
            return;
        }
        session_->input(std::span<const char>(buf, static_cast<size_t>(n)), now());
        if (session_->state() == ovsdb::SessionState::Failed)
            return;
    }
}

void OvsdbConnection::rearm()
{
    uint64_t at = fd_ ? session_->next_deadline() : UINT64_MAX;
    sd_event_source_set_time(timer_.get(), at);
    sd_event_source_set_enabled(timer_.get(), at == UINT64_MAX ? SD_EVENT_OFF : SD_EVENT_ONESHOT);
}

int OvsdbConnection::on_io(sd_event_source *, int, uint32_t revents, void *userdata) noexcept
{
    auto *c = static_cast<OvsdbConnection *>(userdata);
    return log::contained("OVSDB connection", [c, revents] {
        if (revents & EPOLLOUT)
            c->flush();
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
            c->read_all();
        c->rearm();
    });
}

int OvsdbConnection::on_timer(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *c = static_cast<OvsdbConnection *>(userdata);
    return log::contained("OVSDB keepalive", [c] {
        c->session_->advance(c->now());
        c->rearm();
    });
}

int OvsdbConnection::on_retry(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *c = static_cast<OvsdbConnection *>(userdata);
    return log::contained("OVSDB reconnect", [c] { c->attempt(); });
}

int OvsdbConnection::on_lost(sd_event_source *, void *userdata) noexcept
{
    auto *c = static_cast<OvsdbConnection *>(userdata);
    return log::contained("OVSDB session", [c] { c->drop(c->lost_why_); });
}

} // namespace alopex::ovs
