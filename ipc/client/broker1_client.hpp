// SPDX-License-Identifier: GPL-2.0-or-later
// Client side of org.alopex.Broker1, asynchronous: every call answers in a callback from
// the event loop (never waiting on the bus). File descriptors handed over are
// duplicated (F_DUPFD_CLOEXEC) off the reply and checked with fstat to be what was asked
// for (a character device, a socket) before the caller sees them.
//
// Recorder puts a daemon's mutating actions in the suite's audit ledger through
// Broker1.Record without ever blocking or failing the action: records wait in a bounded
// queue, go one at a time in order, wait while the broker is away (retrying with backoff
// and at once when its name appears), and what the queue could not hold is itself
// recorded ("ledger.dropped") when the broker answers again.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus/client.hpp"
#include "alopex/error.hpp"
#include "alopex/fd.hpp"
#include "alopex/sd.hpp"

namespace alopex::ipc::broker1 {

class Client {
public:
    explicit Client(sd_bus *bus, uint64_t timeout_usec = 10'000'000) : calls_(bus, timeout_usec) {}

    void open_device(const std::string &path, std::function<void(Result<Fd>)> done);
    void open_ovsdb(std::function<void(Result<Fd>)> done);
    // ovs-vswitchd's OpenFlow management socket of `bridge`.
    void open_ovs_bridge(const std::string &bridge, std::function<void(Result<Fd>)> done);
    void write_managed_file(const std::string &id, const std::string &contents, std::function<void(Result<>)> done);
    void write_managed_block(const std::string &id, const std::string &tag, const std::string &contents,
                             std::function<void(Result<>)> done);
    void record(const std::string &action, const std::string &details, std::function<void(Result<>)> done);
    void version(std::function<void(Result<std::string>)> done);

    size_t pending() const noexcept { return calls_.pending(); }

private:
    bus::Calls calls_;
};

// Takes the fd of a reply: F_DUPFD_CLOEXEC, then fstat must show `mode` (S_IFCHR, S_IFSOCK).
Result<Fd> adopt_fd(int borrowed, unsigned mode, const char *what);

struct RecorderOptions {
    size_t max_queue = 1024;                  // records held while the broker is away
    uint64_t retry_min_usec = 200'000;        // backoff after a failed Record
    uint64_t retry_max_usec = 30'000'000;
};

// Non-movable: hands `this` to sd-bus and sd-event.
class Recorder {
public:
    static Result<std::unique_ptr<Recorder>> create(sd_bus *bus, sd_event *event, RecorderOptions options = {});
    ~Recorder();
    Recorder(const Recorder &) = delete;
    Recorder &operator=(const Recorder &) = delete;

    // Queues one record; returns at once. `details` is JSON text (an object).
    void record(std::string action, std::string details);

    size_t queued() const noexcept { return queue_.size(); }
    uint64_t sent() const noexcept { return sent_; }
    uint64_t dropped() const noexcept { return dropped_total_; }
    uint64_t refused() const noexcept { return refused_; }
    // Called after each answered Record (tests; metrics).
    std::function<void()> on_progress;

private:
    struct Item {
        std::string action, details;
    };
    Recorder(sd_bus *bus, sd_event *event, RecorderOptions options);
    Result<> start();
    void pump();
    void retry_later();
    static int on_owner(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_timer(sd_event_source *, uint64_t, void *userdata) noexcept;

    sd_bus *bus_;
    sd_event *event_;
    RecorderOptions opt_;
    Client client_;
    SlotPtr owner_slot_;
    EventSourcePtr timer_;
    std::deque<Item> queue_;
    bool in_flight_ = false, waiting_ = false;
    uint64_t backoff_ = 0;
    uint64_t dropped_ = 0;        // since the last "ledger.dropped" record
    uint64_t dropped_total_ = 0, sent_ = 0, refused_ = 0;
};

} // namespace alopex::ipc::broker1
