// SPDX-License-Identifier: GPL-2.0-or-later
#include "line.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "alopex/log.hpp"
#include "serial.hpp"

namespace alopex::slirp {

namespace {

Result<> make_raw_nonblocking(int fd, bool tty)
{
    if (tty) {
        termios t{};
        if (tcgetattr(fd, &t) < 0)
            return failf(errno, "tcgetattr: {}", strerror(errno));
        cfmakeraw(&t);
        if (tcsetattr(fd, TCSANOW, &t) < 0)
            return failf(errno, "tcsetattr: {}", strerror(errno));
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return failf(errno, "cannot make the line non-blocking: {}", strerror(errno));
    return {};
}

} // namespace

Line::~Line() = default;

Result<std::unique_ptr<Line>> Line::adopt_serial(sd_event *event, Fd fd, const LineSettings &line, Input input,
                                                 Hangup hangup)
{
    std::unique_ptr<Line> l(new Line(event, std::move(input), std::move(hangup)));
    ALOPEX_TRY_VOID(configure_serial(fd.get(), line));
    l->wfd_ = Fd(fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
    if (l->wfd_.get() < 0)
        return failf(errno, "dup: {}", strerror(errno));
    l->rfd_ = std::move(fd);
    ALOPEX_TRY_VOID(l->watch());
    return l;
}

Result<std::unique_ptr<Line>> Line::open_pty(sd_event *event, Input input, Hangup hangup)
{
    std::unique_ptr<Line> l(new Line(event, std::move(input), std::move(hangup)));
    Fd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (master.get() < 0 || grantpt(master.get()) < 0 || unlockpt(master.get()) < 0)
        return failf(errno, "cannot make a pty: {}", strerror(errno));
    char name[128] = {};
    if (ptsname_r(master.get(), name, sizeof name) != 0)
        return failf(errno, "ptsname: {}", strerror(errno));
    l->slave_path_ = name;
    // Held open by us too: without any slave open, the master reports a hangup forever.
    l->slave_ = Fd(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (l->slave_.get() < 0)
        return failf(errno, "cannot open {}: {}", l->slave_path_, strerror(errno));
    ALOPEX_TRY_VOID(make_raw_nonblocking(l->slave_.get(), true));
    ALOPEX_TRY_VOID(make_raw_nonblocking(master.get(), false));
    l->wfd_ = Fd(fcntl(master.get(), F_DUPFD_CLOEXEC, 3));
    if (l->wfd_.get() < 0)
        return failf(errno, "dup: {}", strerror(errno));
    l->rfd_ = std::move(master);
    ALOPEX_TRY_VOID(l->watch());
    return l;
}

Result<std::unique_ptr<Line>> Line::open_stdio(sd_event *event, Input input, Hangup hangup)
{
    std::unique_ptr<Line> l(new Line(event, std::move(input), std::move(hangup)));
    l->rfd_ = Fd(fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3));
    l->wfd_ = Fd(fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
    if (l->rfd_.get() < 0 || l->wfd_.get() < 0)
        return failf(errno, "cannot take stdin and stdout: {}", strerror(errno));
    ALOPEX_TRY_VOID(make_raw_nonblocking(l->rfd_.get(), isatty(l->rfd_.get())));
    ALOPEX_TRY_VOID(make_raw_nonblocking(l->wfd_.get(), false));
    ALOPEX_TRY_VOID(l->watch());
    return l;
}

Result<> Line::watch()
{
    // Edge-triggered both ways. A level-triggered tty is polled again on every turn of the
    // loop, and a tty's poll with no input waits for the kernel's flush work to finish
    // (n_tty_poll): slirpd would sleep in epoll_wait while it has frames to write.
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_io(event_, &s, rfd_.get(), EPOLLIN | EPOLLET, on_read, this); r < 0)
        return failf(-r, "cannot watch the line: {}", strerror(-r));
    read_src_.reset(s);
    if (int r = sd_event_add_defer(event_, &s, on_read_more, this); r < 0)
        return failf(-r, "cannot watch the line: {}", strerror(-r));
    read_more_src_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    if (int r = sd_event_add_io(event_, &s, wfd_.get(), EPOLLOUT | EPOLLET, on_write, this); r < 0)
        return failf(-r, "cannot watch the line: {}", strerror(-r));
    write_src_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    if (int r = sd_event_add_defer(event_, &s, on_drained_event, this); r < 0)
        return failf(-r, "cannot watch the line: {}", strerror(-r));
    drained_src_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    if (int r = sd_event_add_defer(event_, &s, on_write_batch, this); r < 0)
        return failf(-r, "cannot watch the line: {}", strerror(-r));
    batch_src_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    // After the events of this round at normal priority (their frames join the batch).
    sd_event_source_set_priority(s, SD_EVENT_PRIORITY_NORMAL + 10);
    return {};
}

int Line::on_read(sd_event_source *, int, uint32_t revents, void *userdata) noexcept
{
    auto *self = static_cast<Line *>(userdata);
    if (revents & (EPOLLHUP | EPOLLERR))
        self->hangup_seen_ = true;
    self->read_some();
    return 0;
}

int Line::on_read_more(sd_event_source *, void *userdata) noexcept
{
    static_cast<Line *>(userdata)->read_some();
    return 0;
}

void Line::read_some()
{
    uint8_t buf[65536];
    // Edge-triggered: read until the line is drained. A read shorter than the buffer has
    // drained it (a tty hands over at most its line discipline's 4 KiB at a time; a pipe or
    // a socket what it holds), and anything that arrives after it is a new edge. Reading
    // on to EAGAIN would make a tty wait for the kernel's flush work. After 16 full
    // buffers the rest is read on the next turn of the loop, after the other events. A
    // hangup's edge may come with the last data: then the line is read to its end.
    for (int i = 0; i < 16; ++i) {
        ssize_t n = read(rfd_.get(), buf, sizeof buf);
        if (n > 0) {
            try {
                input_(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
            } catch (const std::exception &e) {
                log::err("line input: {}", e.what());
            }
            if (static_cast<size_t>(n) < sizeof buf && !hangup_seen_)
                return;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        // EOF (stdin closed) or EIO (a hangup): the line is gone.
        sd_event_source_set_enabled(read_src_.get(), SD_EVENT_OFF);
        if (hangup_)
            hangup_();
        return;
    }
    sd_event_source_set_enabled(read_more_src_.get(), SD_EVENT_ONESHOT);
}

int Line::on_write(sd_event_source *, int, uint32_t, void *userdata) noexcept
{
    static_cast<Line *>(userdata)->flush();
    return 0;
}

void Line::write(std::span<const uint8_t> bytes)
{
    size_t queued = queue_.size() - head_;
    if (queued + bytes.size() > max_queued) {
        dropped_ += bytes.size();   // the line does not drain: keep what is queued
        return;
    }
    if (head_ > 0 && head_ * 2 >= queue_.size()) {
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(head_));
        head_ = 0;
    }
    queue_.insert(queue_.end(), bytes.begin(), bytes.end());
    if (queued + bytes.size() >= high_water)
        congested_ = true;
    // Frames made while the loop works on one batch of events go out in one write (fewer
    // system calls, fewer wakeups of the peer): the write waits for the batch's end,
    // unless a good part of the line's buffer is there already. A queue that waits for
    // EPOLLOUT is left to it.
    if (write_src_enabled_)
        return;
    if (queued + bytes.size() >= batch_bytes)
        flush();
    else
        sd_event_source_set_enabled(batch_src_.get(), SD_EVENT_ONESHOT);
}

void Line::flush()
{
    while (head_ < queue_.size()) {
        ssize_t n = ::write(wfd_.get(), queue_.data() + head_, queue_.size() - head_);
        if (n > 0) {
            head_ += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;   // EAGAIN: wait for EPOLLOUT; an error: the read side reports the hangup
    }
    if (head_ == queue_.size()) {
        queue_.clear();
        head_ = 0;
    }
    write_src_enabled_ = !queue_.empty();
    sd_event_source_set_enabled(write_src_.get(), write_src_enabled_ ? SD_EVENT_ON : SD_EVENT_OFF);
    if (congested_ && queue_.size() - head_ < low_water) {
        congested_ = false;
        // From the loop, not from inside a write (the stack would send from within its own send).
        sd_event_source_set_enabled(drained_src_.get(), SD_EVENT_ONESHOT);
    }
}

int Line::on_write_batch(sd_event_source *, void *userdata) noexcept
{
    auto *self = static_cast<Line *>(userdata);
    if (!self->write_src_enabled_)
        self->flush();
    return 0;
}

int Line::on_drained_event(sd_event_source *, void *userdata) noexcept
{
    auto *self = static_cast<Line *>(userdata);
    return log::contained("line drained", [self] {
        if (self->on_drained)
            self->on_drained();
    });
}

} // namespace alopex::slirp
