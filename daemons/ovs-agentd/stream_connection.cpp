// SPDX-License-Identifier: GPL-2.0-or-later
#include "stream_connection.hpp"

#include <cerrno>
#include <cstring>

#include <sys/socket.h>

#include "alopex/log.hpp"
#include "alopex/unix_socket.hpp"

namespace alopex::ovs {

Result<Fd> StreamConnection::connect_unix(const std::string &path)
{
    return alopex::connect_unix(path, true);
}

Result<std::unique_ptr<StreamConnection>> StreamConnection::create(sd_event *event, std::string what,
                                                                   Connect connect, Callbacks callbacks,
                                                                   Options options)
{
    std::unique_ptr<StreamConnection> c(
        new StreamConnection(event, std::move(what), std::move(connect), std::move(callbacks), options));
    StreamConnection *self = c.get();
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, UINT64_MAX, 10'000, on_retry, self); r < 0)
        return failf(-r, "{}: reconnect timer: {}", c->what_, strerror(-r));
    c->retry_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    if (int r = sd_event_add_defer(event, &s, on_lost, self); r < 0)
        return failf(-r, "{}: {}", c->what_, strerror(-r));
    c->lost_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    // The first attempt from the loop, so that the owner holds the connection before any
    // callback runs (a Connect may answer at once).
    sd_event_source_set_time(c->retry_.get(), 0);
    sd_event_source_set_enabled(c->retry_.get(), SD_EVENT_ONESHOT);
    return c;
}

StreamConnection::~StreamConnection() = default;   // alive_ goes: a late Connect answer is dropped

void StreamConnection::attempt()
{
    if (connecting_ || fd_)
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

void StreamConnection::retry_now()
{
    if (fd_ || connecting_)
        return;
    sd_event_source_set_enabled(retry_.get(), SD_EVENT_OFF);
    attempt();
}

void StreamConnection::use(Result<Fd> fd)
{
    if (!fd) {
        log::debug("{}: {}", what_, fd.error().message);
        drop(fd.error().message);
        return;
    }
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_io(event_, &s, fd->get(), EPOLLIN, on_io, this); r < 0) {
        drop(fmt::format("watching the socket: {}", strerror(-r)));
        return;
    }
    fd_ = std::move(*fd);
    io_.reset(s);
    out_.clear();
    if (cb_.up)
        cb_.up();
}

void StreamConnection::drop(const std::string &why)
{
    bool was_up = bool(fd_);
    io_.reset();
    fd_.reset();
    out_.clear();
    if (was_up) {
        log::info("{} connection lost: {}; again in {} ms", what_, why, backoff_ / 1000);
        if (cb_.down)
            cb_.down(why);
    }
    sd_event_source_set_time_relative(retry_.get(), backoff_);
    sd_event_source_set_enabled(retry_.get(), SD_EVENT_ONESHOT);
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
}

void StreamConnection::fail(std::string why)
{
    lost_why_ = std::move(why);
    sd_event_source_set_enabled(lost_.get(), SD_EVENT_ONESHOT);
}

void StreamConnection::send(std::string_view bytes)
{
    out_.append(bytes);
    flush();
}

void StreamConnection::flush()
{
    while (fd_ && !out_.empty()) {
        ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                fail(fmt::format("send: {}", strerror(errno)));
            break;
        }
        out_.erase(0, static_cast<size_t>(n));
    }
    if (io_)
        sd_event_source_set_io_events(io_.get(), out_.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT);
}

void StreamConnection::read_all()
{
    char buf[65536];
    for (int i = 0; i < 16 && fd_; ++i) {
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            drop(n == 0 ? fmt::format("{} closed the connection", what_) : fmt::format("recv: {}", strerror(errno)));
            return;
        }
        if (cb_.input)
            cb_.input(std::span<const char>(buf, static_cast<size_t>(n)));
        if (sd_event_source_get_enabled(lost_.get(), nullptr) > 0)
            return;   // the protocol gave up on it
    }
}

int StreamConnection::on_io(sd_event_source *, int, uint32_t revents, void *userdata) noexcept
{
    auto *c = static_cast<StreamConnection *>(userdata);
    return log::contained(c->what_.c_str(), [c, revents] {
        if (revents & EPOLLOUT)
            c->flush();
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
            c->read_all();
    });
}

int StreamConnection::on_retry(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *c = static_cast<StreamConnection *>(userdata);
    return log::contained(c->what_.c_str(), [c] { c->attempt(); });
}

int StreamConnection::on_lost(sd_event_source *, void *userdata) noexcept
{
    auto *c = static_cast<StreamConnection *>(userdata);
    return log::contained(c->what_.c_str(), [c] { c->drop(c->lost_why_); });
}

} // namespace alopex::ovs
