// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's line: the fd PPP runs over (a pty slirpd makes, stdin/stdout, or the serial
// device the broker opened), raw and non-blocking, on the event loop. Reads go to a
// callback; writes that the line cannot take yet wait in a bounded queue: beyond
// max_queued a new frame is dropped whole and counted. Above high_water the line is
// congested(): TCP holds new data back (the stack asks) until the queue is under
// low_water again, when on_drained is called.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "settings.hpp"

namespace alopex::slirp {

class Line {
public:
    using Input = std::function<void(std::span<const uint8_t>)>;
    using Hangup = std::function<void()>;

    // A new pty pair: PPP on the master, the peer opens slave_path(). slirpd keeps the
    // slave open as well, so the master never sees a hangup while no peer is there.
    static Result<std::unique_ptr<Line>> open_pty(sd_event *event, Input input, Hangup hangup);
    // PPP on stdin (read) and stdout (write), for use over ssh or a socket.
    static Result<std::unique_ptr<Line>> open_stdio(sd_event *event, Input input, Hangup hangup);
    // PPP on a serial device already open (from the broker), set up by configure_serial().
    static Result<std::unique_ptr<Line>> adopt_serial(sd_event *event, Fd fd, const LineSettings &line, Input input,
                                                      Hangup hangup);
    ~Line();
    Line(const Line &) = delete;
    Line &operator=(const Line &) = delete;

    void write(std::span<const uint8_t> bytes);
    const std::string &slave_path() const noexcept { return slave_path_; }
    uint64_t dropped() const noexcept { return dropped_; }

    static constexpr size_t max_queued = 256 * 1024;
    static constexpr size_t high_water = 64 * 1024, low_water = 16 * 1024;
    static constexpr size_t batch_bytes = 32 * 1024;   // written at once when this much waits
    bool congested() const noexcept { return congested_; }
    size_t queued() const noexcept { return queue_.size() - head_; }
    std::function<void()> on_drained;

private:
    Line(sd_event *event, Input input, Hangup hangup) : event_(event), input_(std::move(input)), hangup_(std::move(hangup)) {}
    Result<> watch();
    void flush();
    void read_some();
    static int on_read(sd_event_source *, int, uint32_t, void *userdata) noexcept;
    static int on_read_more(sd_event_source *, void *userdata) noexcept;
    static int on_write(sd_event_source *, int, uint32_t, void *userdata) noexcept;
    static int on_drained_event(sd_event_source *, void *userdata) noexcept;
    static int on_write_batch(sd_event_source *, void *userdata) noexcept;

    sd_event *event_;
    Input input_;
    Hangup hangup_;
    Fd rfd_, wfd_, slave_;
    EventSourcePtr read_src_, read_more_src_, write_src_, drained_src_, batch_src_;
    bool write_src_enabled_ = false;   // waiting for EPOLLOUT
    bool hangup_seen_ = false;         // EPOLLHUP or EPOLLERR came: read to the end
    std::vector<uint8_t> queue_;
    size_t head_ = 0;   // queue_ before it is written
    bool congested_ = false;
    std::string slave_path_;
    uint64_t dropped_ = 0;
};

} // namespace alopex::slirp
