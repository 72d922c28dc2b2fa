// SPDX-License-Identifier: GPL-2.0-or-later
#include "waiter.hpp"

#include <fmt/format.h>

#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "output.hpp"

namespace alopex::online {

namespace l1 = ipc::link1;

Waiter::Waiter(sd_bus *bus, sd_event *event, Options options, bool quiet)
    : bus_(bus), event_(event), tracker_(std::move(options)), quiet_(quiet)
{
}

Result<> Waiter::start(uint64_t timeout_s)
{
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_defer(event_, &s, &Waiter::on_defer, this); r < 0)
        return failf(-r, "cannot add an event source: {}", strerror(-r));
    defer_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);   // armed by each change
    if (timeout_s > 0) {
        uint64_t now = 0;
        sd_event_now(event_, CLOCK_MONOTONIC, &now);
        if (int r = sd_event_add_time(event_, &s, CLOCK_MONOTONIC, now + timeout_s * 1'000'000, 0,
                                      &Waiter::on_timeout, this);
            r < 0)
            return failf(-r, "cannot add the timeout: {}", strerror(-r));
        timer_.reset(s);
    }
    if (auto r = watch_startup(); !r)
        return r;
    // Each change of a link touches only that link's entry; the verdict is looked at once
    // per loop iteration, however many signals arrived in it.
    auto follower = bus::Follower<l1::LinkInfo>::start(
        bus_, {l1::service, l1::path, l1::link_prefix}, l1::link_reader(),
        {.added = [this](const std::string &path, const l1::LinkInfo &l) { tracker_.update(path, view_of(l)); schedule(); },
         .changed = [this](const std::string &path, const l1::LinkInfo &l,
                           const std::vector<std::string> &) { tracker_.update(path, view_of(l)); schedule(); },
         .removed = [this](const std::string &path, const l1::LinkInfo &) { tracker_.remove(path); schedule(); }});
    if (!follower)
        return std::unexpected(follower.error());
    follower_ = std::move(*follower);
    follower_->on_synced = [this] {
        error_.clear();
        absent_ = false;
        read_startup();   // linkd (re)appeared: its Startup, again
        schedule();
    };
    follower_->on_absent = [this] {
        absent_ = true;
        schedule();
    };
    follower_->on_vanished = [this] { schedule(); };
    follower_->on_error = [this](const Error &e) {
        error_ = e.message;
        schedule();
    };
    return {};
}

void Waiter::schedule() { sd_event_source_set_enabled(defer_.get(), SD_EVENT_ONESHOT); }

void Waiter::evaluate()
{
    if (!follower_->synced()) {
        // Said once linkd is known to be away or unreadable, not while its answer is on the way.
        if (absent_ || !error_.empty() || follower_->full_reads() > 0)
            say(fmt::format("waiting for alopex-linkd ({})",
                            !error_.empty() ? error_ : std::string("not on the bus")));
        return;
    }
    if (starting_.value_or(true)) {
        say("waiting for alopex-linkd to finish starting (routes, first profile round)");
        return;
    }
    auto v = tracker_.verdict();
    if (v.online) {
        result_ = exit_online;
        sd_event_exit(event_, 0);
        return;
    }
    say("waiting for " + v.waiting_for);
}

Result<> Waiter::watch_startup()
{
    auto rule = fmt::format("type='signal',sender='{}',path='{}',interface='org.freedesktop.DBus.Properties',"
                            "member='PropertiesChanged',arg0='{}'",
                            l1::service, l1::path, l1::manager::interface);
    sd_bus_slot *slot = nullptr;
    if (int r = sd_bus_add_match_async(bus_, &slot, rule.c_str(), &Waiter::on_startup_changed, nullptr, this); r < 0)
        return failf(-r, "cannot follow alopex-linkd's Startup: {}", strerror(-r));
    startup_match_.reset(slot);
    return {};
}

void Waiter::read_startup()
{
    starting_.reset();
    sd_bus_slot *slot = nullptr;
    int r = sd_bus_call_method_async(bus_, &slot, l1::service, l1::path, "org.freedesktop.DBus.Properties", "GetAll",
                                     &Waiter::on_startup_reply, this, "s", l1::manager::interface);
    if (r < 0) {
        error_ = fmt::format("cannot ask for Startup: {}", strerror(-r));
        return;
    }
    startup_get_.reset(slot);
}

int Waiter::on_startup_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<Waiter *>(userdata);
    self->startup_get_.reset();
    l1::ManagerInfo info;
    if (!sd_bus_message_is_method_error(m, nullptr) && l1::manager_reader().read_dict(m, info))
        self->starting_ = info.startup.value_or(false);   // absent: an older linkd, started
    self->schedule();
    return 0;
}

int Waiter::on_startup_changed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<Waiter *>(userdata);
    const char *iface = nullptr;
    l1::ManagerInfo info;
    if (sd_bus_message_read(m, "s", &iface) < 0 || !l1::manager_reader().read_dict(m, info) || !info.startup)
        return 0;
    self->starting_ = *info.startup;
    self->schedule();
    return 0;
}

void Waiter::say(const std::string &status)
{
    // Link names come from linkd (and --interface): escaped, one status per line.
    if (!quiet_ && status != last_status_)
        fmt::print(stderr, "alopex-wait-online: {}\n", cli::printable(status));
    last_status_ = status;
}

int Waiter::on_defer(sd_event_source *, void *userdata) noexcept
{
    auto *self = static_cast<Waiter *>(userdata);
    try {
        self->evaluate();
    } catch (...) {
        self->result_ = exit_failure;
        sd_event_exit(self->event_, 0);
    }
    return 0;
}

int Waiter::on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<Waiter *>(userdata);
    if (!self->quiet_)
        fmt::print(stderr, "alopex-wait-online: timed out {}\n", cli::printable(self->last_status_));
    self->result_ = exit_timeout;
    sd_event_exit(self->event_, 0);
    return 0;
}

} // namespace alopex::online
