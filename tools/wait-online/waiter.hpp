// SPDX-License-Identifier: GPL-2.0-or-later
// The waiting itself: linkd's link objects followed with bus::Follower<LinkInfo> (one
// GetManagedObjects when linkd appears, then its signals only, applied as deltas to an
// online::Tracker), the verdict looked at once per loop iteration, a status line on
// stderr whenever what is waited for changes, and the timeout. The verdict also waits
// for linkd's Startup to be false (read when linkd appears, then followed by signal):
// before, the first profile round may not have put the addresses it configures.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus/follower.hpp"
#include "alopex/error.hpp"
#include "alopex/sd.hpp"
#include "link1_client.hpp"
#include "online.hpp"

namespace alopex::online {

inline constexpr int exit_online = 0, exit_timeout = 1, exit_usage = 2, exit_failure = 3;

// Non-movable: sd-event and the follower's callbacks hold `this`.
class Waiter {
public:
    Waiter(sd_bus *bus, sd_event *event, Options options, bool quiet);
    Waiter(const Waiter &) = delete;
    Waiter &operator=(const Waiter &) = delete;

    // Follows linkd and arms the timeout (0: none); sd_event_exit() once online or timed out.
    Result<> start(uint64_t timeout_s);
    // exit_online or exit_timeout, once the loop has ended.
    int result() const noexcept { return result_; }

private:
    void schedule();
    void evaluate();
    void say(const std::string &status);
    static int on_defer(sd_event_source *, void *userdata) noexcept;
    static int on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept;
    // org.alopex.Link1.Manager.Startup
    Result<> watch_startup();
    void read_startup();
    static int on_startup_changed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_startup_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;

    sd_bus *bus_;
    sd_event *event_;
    Tracker tracker_;
    bool quiet_;
    int result_ = exit_timeout;
    std::string last_status_, error_;
    bool absent_ = false;
    EventSourcePtr defer_, timer_;
    std::unique_ptr<bus::Follower<ipc::link1::LinkInfo>> follower_;
    std::optional<bool> starting_;   // unknown until read
    SlotPtr startup_match_, startup_get_;
};

} // namespace alopex::online
