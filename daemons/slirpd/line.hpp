// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's line: the fd PPP runs over (a pty slirpd makes, stdin/stdout, or the serial
// device the broker opened), raw and non-blocking, on the event loop. Reads go to a
// callback; writes that the line cannot take yet wait in a bounded queue (a line that
// does not drain loses its oldest frames' bytes beyond max_queued, counted).
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

private:
    Line(sd_event *event, Input input, Hangup hangup) : event_(event), input_(std::move(input)), hangup_(std::move(hangup)) {}
    Result<> watch();
    void flush();
    static int on_read(sd_event_source *, int, uint32_t, void *userdata) noexcept;
    static int on_write(sd_event_source *, int, uint32_t, void *userdata) noexcept;

    sd_event *event_;
    Input input_;
    Hangup hangup_;
    Fd rfd_, wfd_, slave_;
    EventSourcePtr read_src_, write_src_;
    std::vector<uint8_t> queue_;
    std::string slave_path_;
    uint64_t dropped_ = 0;
};

} // namespace alopex::slirp
