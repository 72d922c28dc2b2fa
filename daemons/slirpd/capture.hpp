// SPDX-License-Identifier: GPL-2.0-or-later
// A packet capture of the link on demand (org.alopex.Slirp1.Line.Capture): pcap with
// LINKTYPE_PPP_WITH_DIR written to an fd the caller handed over (a file or a pipe), for a
// while, then the fd is closed. Each record: a direction octet (1 sent, 0 received), then
// the frame as PPP in HDLC-like framing without the flags, escapes and FCS: address and
// control (always, as libpcap's PPP), the 16-bit protocol, the information. Writes never
// block the loop: the fd is made non-blocking, and what it cannot take waits in a
// bounded buffer; beyond that frames are dropped and counted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"
#include "alopex/sd.hpp"

namespace alopex::slirp {

inline constexpr uint32_t linktype_ppp_with_dir = 204;

// The pcap file header and one record, appended to `out` (pure, for tests).
void pcap_header(std::vector<uint8_t> &out, uint32_t linktype);
void pcap_ppp_record(std::vector<uint8_t> &out, uint64_t realtime_usec, bool sent, uint16_t protocol,
                     std::span<const uint8_t> info);

class Capture {
public:
    static constexpr size_t max_buffered = 4 << 20;
    // Starts writing to `fd` (the header at once); `done` is called (from the loop) when
    // the time is up, the reader went away or a write failed; the fd is closed by then.
    static Result<std::unique_ptr<Capture>> start(sd_event *event, Fd fd, uint64_t usec, std::function<void()> done);
    ~Capture();
    Capture(const Capture &) = delete;
    Capture &operator=(const Capture &) = delete;

    void frame(bool sent, uint16_t protocol, std::span<const uint8_t> info);
    uint64_t frames() const noexcept { return frames_; }
    uint64_t dropped() const noexcept { return dropped_; }

private:
    Capture(sd_event *event, Fd fd, std::function<void()> done) : event_(event), fd_(std::move(fd)), done_(std::move(done)) {}
    void flush();
    void finish();
    static int on_writable(sd_event_source *, int, uint32_t, void *userdata) noexcept;
    static int on_time(sd_event_source *, uint64_t, void *userdata) noexcept;
    static int on_done(sd_event_source *, void *userdata) noexcept;

    sd_event *event_;
    Fd fd_;
    std::function<void()> done_;
    EventSourcePtr io_, timer_, done_src_;
    std::vector<uint8_t> buf_;
    size_t head_ = 0;
    bool finished_ = false, stopping_ = false;   // stopping: the time is up, the rest goes
    uint64_t frames_ = 0, dropped_ = 0;
};

} // namespace alopex::slirp
