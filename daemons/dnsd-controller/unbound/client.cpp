// SPDX-License-Identifier: GPL-2.0-or-later
#include "unbound/client.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "alopex/log.hpp"
#include "alopex/unix_socket.hpp"

namespace alopex::dns::unbound {

namespace {

constexpr size_t chunk = 64 * 1024;

// "local_zones", "flush_zone example.net" -> for messages, at most 80 bytes.
std::string shown(const std::string &command) { return command.substr(0, 80); }

} // namespace

Result<std::unique_ptr<Client>> Client::create(sd_event *event, ClientOptions options)
{
    std::unique_ptr<Client> c(new Client(event, std::move(options)));
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_defer(event, &s, on_start, c.get()); r < 0)
        return failf(-r, "unbound client: {}", strerror(-r));
    c->start_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    if (int r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_timeout, c.get()); r < 0)
        return failf(-r, "unbound client: {}", strerror(-r));
    c->timer_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    return c;
}

Client::~Client() = default;

void Client::command(std::string command, Done done)
{
    enqueue(Job{std::move(command), {}, false, std::move(done), std::nullopt});
}

void Client::bulk(std::string command, std::vector<std::string> lines, Done done)
{
    enqueue(Job{std::move(command), std::move(lines), true, std::move(done), std::nullopt});
}

void Client::enqueue(Job job)
{
    if (auto r = request(job.command); !r)
        job.refused = r.error();
    for (size_t i = 0; job.bulk && !job.refused && i < job.lines.size(); ++i)
        if (auto r = data_line(job.lines[i]); !r)
            job.refused = Error{r.error().code, fmt::format("{}, line {}: {}", shown(job.command), i + 1,
                                                            r.error().message), {}};
    jobs_.push_back(std::move(job));
    if (!running_)
        sd_event_source_set_enabled(start_.get(), SD_EVENT_ONESHOT);
}

void Client::start()
{
    if (running_ || jobs_.empty())
        return;
    running_ = true;
    Job &job = jobs_.front();
    if (job.refused)
        return finish(std::unexpected(*job.refused));
    auto fd = connect_unix(options_.socket, true);
    if (!fd) {
        int e = fd.error().code;
        if (e == ENOENT || e == ECONNREFUSED)
            return finish(failf(e, "unbound is not running (its control socket {}: {})", options_.socket,
                                strerror(e)));
        return finish(failf(e, "unbound's control socket, for '{}': {}", shown(job.command), fd.error().message));
    }
    fd_ = std::move(*fd);
    out_ = *request(job.command);
    out_pos_ = 0;
    next_line_ = 0;
    ended_ = !job.bulk;
    in_.clear();
    writing_ = true;
    fill();
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_io(event_, &s, fd_.get(), EPOLLIN | EPOLLOUT, on_io, this); r < 0)
        return finish(failf(-r, "unbound's control socket, for '{}': {}", shown(job.command), strerror(-r)));
    io_.reset(s);
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    sd_event_source_set_time(timer_.get(), now + (job.bulk ? options_.bulk_timeout_usec : options_.timeout_usec));
    sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT);
}

// Keeps up to a chunk of the bulk lines (then the end marker) ready to send.
void Client::fill()
{
    if (out_pos_ > 0 && out_pos_ >= out_.size() / 2) {
        out_.erase(0, out_pos_);
        out_pos_ = 0;
    }
    const Job &job = jobs_.front();
    while (out_.size() - out_pos_ < chunk && next_line_ < job.lines.size()) {
        out_ += job.lines[next_line_++];
        out_ += '\n';
    }
    if (!ended_ && next_line_ == job.lines.size()) {
        out_ += end_of_data;
        ended_ = true;
    }
}

void Client::on_writable()
{
    while (writing_) {
        if (out_pos_ == out_.size()) {
            writing_ = false;   // all sent; no half-close: unbound 1.17.1 would spin on it
            sd_event_source_set_io_events(io_.get(), EPOLLIN);
            return;
        }
        ssize_t n = ::send(fd_.get(), out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            // unbound closed early (a refused bulk line, an unknown view): what it said
            // before tells why.
            log::debug("unbound's control socket: sending '{}': {}", shown(jobs_.front().command), strerror(errno));
            writing_ = false;
            sd_event_source_set_io_events(io_.get(), EPOLLIN);
            return;
        }
        out_pos_ += size_t(n);
        fill();
    }
}

void Client::on_readable()
{
    char buf[chunk];
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            if (errno == ECONNRESET && !in_.empty())
                return finish(parse_reply(in_));
            return finish(failf(errno, "unbound's control socket: reading the answer to '{}': {}",
                                shown(jobs_.front().command), strerror(errno)));
        }
        if (n == 0)
            return finish(parse_reply(in_));
        if (in_.size() + size_t(n) > options_.max_reply)
            return finish(failf(EMSGSIZE, "unbound's answer to '{}' is longer than {} bytes",
                                shown(jobs_.front().command), options_.max_reply));
        in_.append(buf, size_t(n));
    }
}

void Client::finish(Result<Reply> r)
{
    io_.reset();
    fd_.reset();
    sd_event_source_set_enabled(timer_.get(), SD_EVENT_OFF);
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    running_ = false;
    out_.clear();
    in_.clear();
    if (!jobs_.empty())
        sd_event_source_set_enabled(start_.get(), SD_EVENT_ONESHOT);
    // Last: `done` may queue more, or destroy this client.
    job.done(std::move(r));
}

int Client::on_io(sd_event_source *, int, uint32_t revents, void *userdata) noexcept
{
    auto *c = static_cast<Client *>(userdata);
    return log::contained("unbound control", [c, revents] {
        if ((revents & EPOLLOUT) && c->writing_)
            c->on_writable();
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
            c->on_readable();
    });
}

int Client::on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *c = static_cast<Client *>(userdata);
    return log::contained("unbound control", [c] {
        const Job &job = c->jobs_.front();
        uint64_t t = job.bulk ? c->options_.bulk_timeout_usec : c->options_.timeout_usec;
        c->finish(failf(ETIMEDOUT, "unbound did not answer '{}' within {:.1f} s", shown(job.command), t / 1e6));
    });
}

int Client::on_start(sd_event_source *, void *userdata) noexcept
{
    auto *c = static_cast<Client *>(userdata);
    return log::contained("unbound control", [c] { c->start(); });
}

} // namespace alopex::dns::unbound
