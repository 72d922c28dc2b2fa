// SPDX-License-Identifier: GPL-2.0-or-later
// The serial line of an instance (--instance): the device of [line] opened by the broker
// (Broker1.OpenDevice, the fd over D-Bus: slirpd itself has no device access), set up
// raw (serial.hpp), and handed to the session. A line that hangs up or vanishes (a USB
// gadget unplugged), and a device that cannot be opened yet, are tried again with
// backoff: 1 s, doubling up to 30 s, back to 1 s once the line carries bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/sd.hpp"
#include "broker1_client.hpp"
#include "line.hpp"
#include "session.hpp"
#include "settings.hpp"

namespace alopex::slirp {

class SerialLine {
public:
    static Result<std::unique_ptr<SerialLine>> create(sd_event *event, sd_bus *bus, LineSettings settings,
                                                      Session &session);
    SerialLine(const SerialLine &) = delete;
    SerialLine &operator=(const SerialLine &) = delete;

    void start();   // the first open
    bool is_open() const noexcept { return line_ && !lost_; }
    unsigned reopens() const noexcept { return reopens_; }

private:
    SerialLine(sd_event *event, sd_bus *bus, LineSettings settings, Session &session)
        : event_(event), broker_(bus), settings_(std::move(settings)), session_(session) {}
    void open();
    void opened(Result<Fd> fd);
    void lost();
    void retry_later();
    static int on_retry(sd_event_source *, uint64_t, void *userdata) noexcept;

    sd_event *event_;
    ipc::broker1::Client broker_;
    LineSettings settings_;
    Session &session_;
    std::unique_ptr<Line> line_;
    EventSourcePtr retry_;
    uint64_t backoff_ = 1'000'000;
    bool lost_ = false, failing_ = false;
    unsigned reopens_ = 0;
};

} // namespace alopex::slirp
