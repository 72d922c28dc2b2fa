// SPDX-License-Identifier: GPL-2.0-or-later
#include "serial_line.hpp"

#include <cstring>

#include "alopex/log.hpp"
#include "alopex/notify.hpp"

namespace alopex::slirp {

namespace {
constexpr uint64_t backoff_min = 1'000'000, backoff_max = 30'000'000;
}

Result<std::unique_ptr<SerialLine>> SerialLine::create(sd_event *event, sd_bus *bus, LineSettings settings,
                                                       Session &session)
{
    std::unique_ptr<SerialLine> l(new SerialLine(event, bus, std::move(settings), session));
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, UINT64_MAX, 0, on_retry, l.get()); r < 0)
        return failf(-r, "cannot add the line's retry timer: {}", strerror(-r));
    l->retry_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    return l;
}

void SerialLine::start()
{
    open();
}

void SerialLine::open()
{
    notify::status("opening " + settings_.device);
    broker_.open_device(settings_.device, [this](Result<Fd> fd) { opened(std::move(fd)); });
}

void SerialLine::opened(Result<Fd> fd)
{
    Result<std::unique_ptr<Line>> line =
        fd ? Line::adopt_serial(
                 event_, std::move(*fd), settings_,
                 [this](std::span<const uint8_t> b) {
                     backoff_ = backoff_min;   // the line works
                     session_.line_input(b);
                 },
                 [this] { lost(); })
           : Result<std::unique_ptr<Line>>(std::unexpected(fd.error()));
    if (!line) {
        // Said once at warning, then quietly while it stays so.
        if (!failing_)
            log::warning("cannot open {}: {} (trying again)", settings_.device, line.error().to_string());
        else
            log::debug("cannot open {}: {}", settings_.device, line.error().to_string());
        failing_ = true;
        notify::status(fmt::format("waiting for {}", settings_.device));
        retry_later();
        return;
    }
    failing_ = lost_ = false;
    line_ = std::move(*line);
    log::info("line {} open at {} baud{}", settings_.device, settings_.baud,
              settings_.hardware_flow ? ", RTS/CTS" : "");
    session_.set_line(line_.get());
    session_.start();
}

// Called from the line's own read handler: the Line object stays until the retry.
void SerialLine::lost()
{
    if (lost_)
        return;
    lost_ = true;
    ++reopens_;
    session_.set_line(nullptr);
    session_.hangup();
    log::notice("line {} hung up; opening it again", settings_.device);
    retry_later();
}

void SerialLine::retry_later()
{
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    sd_event_source_set_time(retry_.get(), now + backoff_);
    sd_event_source_set_enabled(retry_.get(), SD_EVENT_ONESHOT);
    backoff_ = std::min(backoff_ * 2, backoff_max);
}

int SerialLine::on_retry(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<SerialLine *>(userdata);
    return log::contained("line retry", [self] {
        self->line_.reset();
        self->open();
    });
}

} // namespace alopex::slirp
