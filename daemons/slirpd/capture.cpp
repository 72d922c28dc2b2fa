// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture.hpp"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "alopex/log.hpp"

namespace alopex::slirp {

namespace {

void put32le(std::vector<uint8_t> &out, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put16le(std::vector<uint8_t> &out, uint16_t v)
{
    out.push_back(static_cast<uint8_t>(v));
    out.push_back(static_cast<uint8_t>(v >> 8));
}

uint64_t realtime_usec()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

} // namespace

void pcap_header(std::vector<uint8_t> &out, uint32_t linktype)
{
    put32le(out, 0xA1B2C3D4);   // microsecond timestamps, this file's byte order
    put16le(out, 2);
    put16le(out, 4);
    put32le(out, 0);            // GMT offset
    put32le(out, 0);            // accuracy
    put32le(out, 65535);        // snap length
    put32le(out, linktype);
}

void pcap_ppp_record(std::vector<uint8_t> &out, uint64_t realtime_usec, bool sent, uint16_t protocol,
                     std::span<const uint8_t> info)
{
    uint32_t len = static_cast<uint32_t>(1 + 4 + info.size());
    put32le(out, static_cast<uint32_t>(realtime_usec / 1'000'000));
    put32le(out, static_cast<uint32_t>(realtime_usec % 1'000'000));
    put32le(out, len);
    put32le(out, len);
    out.insert(out.end(), {static_cast<uint8_t>(sent ? 1 : 0), 0xFF, 0x03, static_cast<uint8_t>(protocol >> 8),
                           static_cast<uint8_t>(protocol)});
    out.insert(out.end(), info.begin(), info.end());
}

Result<std::unique_ptr<Capture>> Capture::start(sd_event *event, Fd fd, uint64_t usec, std::function<void()> done)
{
    // A pipe whose reader went away must fail the write (EPIPE), not kill the daemon.
    signal(SIGPIPE, SIG_IGN);
    int flags = fcntl(fd.get(), F_GETFL);
    if (flags < 0 || fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0)
        return failf(errno, "fd: {}", strerror(errno));
    std::unique_ptr<Capture> c(new Capture(event, std::move(fd), std::move(done)));
    sd_event_source *s = nullptr;
    // A regular file cannot be watched with epoll: it is written at once (never EAGAIN).
    if (int r = sd_event_add_io(event, &s, c->fd_.get(), EPOLLOUT, on_writable, c.get()); r >= 0) {
        c->io_.reset(s);
        sd_event_source_set_enabled(s, SD_EVENT_OFF);
    } else if (r != -EPERM) {
        return failf(-r, "fd: {}", strerror(-r));
    }
    uint64_t now = 0;
    sd_event_now(event, CLOCK_MONOTONIC, &now);
    if (int r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, now + usec, 100'000, on_time, c.get()); r < 0)
        return failf(-r, "cannot add the capture's timer: {}", strerror(-r));
    c->timer_.reset(s);
    pcap_header(c->buf_, linktype_ppp_with_dir);
    c->flush();
    return c;
}

Capture::~Capture() = default;

void Capture::frame(bool sent, uint16_t protocol, std::span<const uint8_t> info)
{
    if (finished_ || stopping_)
        return;
    if (buf_.size() - head_ + info.size() + 32 > max_buffered) {
        ++dropped_;
        return;
    }
    ++frames_;
    pcap_ppp_record(buf_, realtime_usec(), sent, protocol, info);
    flush();
}

void Capture::flush()
{
    while (head_ < buf_.size()) {
        ssize_t n = ::write(fd_.get(), buf_.data() + head_, buf_.size() - head_);
        if (n > 0) {
            head_ += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && io_) {
            sd_event_source_set_enabled(io_.get(), SD_EVENT_ONESHOT);
            return;
        }
        log::notice("capture: the reader went away ({}): stopped", n < 0 ? strerror(errno) : "short write");
        finish();
        return;
    }
    buf_.clear();
    head_ = 0;
    if (stopping_)
        finish();
}

void Capture::finish()
{
    if (finished_)
        return;
    finished_ = true;
    io_.reset();
    timer_.reset();
    fd_ = Fd();
    // done_ (which may destroy this) from the loop: finish() can be reached from frame(),
    // inside the link's send.
    sd_event_source *s = nullptr;
    if (sd_event_add_defer(event_, &s, on_done, this) >= 0)
        done_src_.reset(s);
}

int Capture::on_done(sd_event_source *, void *userdata) noexcept
{
    auto *self = static_cast<Capture *>(userdata);
    if (self->done_)
        self->done_();   // may destroy self
    return 0;
}

int Capture::on_writable(sd_event_source *, int, uint32_t, void *userdata) noexcept
{
    static_cast<Capture *>(userdata)->flush();
    return 0;
}

int Capture::on_time(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<Capture *>(userdata);
    if (self->stopping_) {   // the reader did not take the rest in time
        log::notice("capture: {} octets not taken by the reader in time: stopped", self->buf_.size() - self->head_);
        self->finish();
        return 0;
    }
    // No more frames; what waits still goes (whole records), for at most 10 s.
    self->stopping_ = true;
    if (self->head_ == self->buf_.size()) {
        self->finish();
        return 0;
    }
    uint64_t now = 0;
    sd_event_now(self->event_, CLOCK_MONOTONIC, &now);
    sd_event_source_set_time(self->timer_.get(), now + 10'000'000);
    sd_event_source_set_enabled(self->timer_.get(), SD_EVENT_ONESHOT);
    return 0;
}

} // namespace alopex::slirp
