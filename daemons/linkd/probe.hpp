// SPDX-License-Identifier: GPL-2.0-or-later
// The connectivity probe: one non-blocking TCP connect to the endpoint of linkd.toml
// ([connectivity] probe), driven by sd-event (an io source waits for EPOLLOUT, SO_ERROR
// tells the outcome, a timer bounds it). Its answer feeds Manager::set_probe_result():
// success makes "limited" "full", a failure keeps it "limited".
//
// When it runs: only while the base state is "limited" with a default route (see
// probe_context() in connectivity.hpp). It probes at once when that becomes true or when
// the default routes or global addresses change (100 ms after the last kernel event, so
// a burst of events costs one probe), then every `interval` after the previous probe
// ended. When the default route goes, the result is cleared (nullopt). Probing off: it
// never probes and the result stays nullopt. Transitions are logged, single probes only
// at debug level.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <systemd/sd-event.h>

#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "settings.hpp"

namespace alopex::linkd {

class Manager;

class Prober {
public:
    // Non-movable: `this` is userdata of its event sources.
    Prober(sd_event *event, Manager &manager);
    ~Prober();
    Prober(const Prober &) = delete;
    Prober &operator=(const Prober &) = delete;

    // At start and after every reload. A changed endpoint, interval or timeout restarts
    // the cycle (probing at once when the state allows); identical settings change
    // nothing. A changed endpoint clears the previous result first.
    void configure(const Settings &s);
    // The Manager's state changed (its state_changed hook): re-check in 100 ms.
    void state_changed();

    std::optional<bool> result() const noexcept { return result_; }
    bool running() const noexcept { return static_cast<bool>(fd_); }

private:
    void evaluate();
    void start();
    void finish(int err);   // 0: connected
    void cancel_attempt();
    void clear_result(const char *why);
    EventSourcePtr add_timer(std::chrono::microseconds after, uint64_t accuracy_usec,
                             sd_event_time_handler_t handler);
    static int on_debounce(sd_event_source *, uint64_t, void *userdata) noexcept;
    static int on_interval(sd_event_source *, uint64_t, void *userdata) noexcept;
    static int on_deadline(sd_event_source *, uint64_t, void *userdata) noexcept;
    static int on_io(sd_event_source *, int fd, uint32_t revents, void *userdata) noexcept;

    sd_event *event_;
    Manager &manager_;
    std::optional<Endpoint> endpoint_;
    std::chrono::seconds interval_ = default_probe_interval;
    std::chrono::seconds timeout_ = default_probe_timeout;
    std::string context_;            // probe_context() the last probe was started for
    std::optional<bool> result_;
    int last_error_ = 0;
    Fd fd_;                          // the connect in flight (declared before its sources)
    EventSourcePtr io_, deadline_, next_, debounce_;
};

} // namespace alopex::linkd
