// SPDX-License-Identifier: GPL-2.0-or-later
#include "alopex/daemon.hpp"

#include <signal.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include <systemd/sd-bus.h>

#include "alopex-config.h"
#include "alopex/log.hpp"
#include "alopex/notify.hpp"
#include "alopex/paths.hpp"

namespace alopex::daemon {

std::optional<int> parse_args(int argc, char **argv, const char *name, const char *usage)
{
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--version") {
            printf("%s %s\n", name, ALOPEX_VERSION);
            return 0;
        }
        if (a == "--help" || a == "-h") {
            fputs(usage, stdout);
            return 0;
        }
        fprintf(stderr, "%s: unknown argument '%s'\n%s", name, argv[i], usage);
        return 2;
    }
    return std::nullopt;
}

Result<EventPtr> event_loop()
{
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGTERM, SIGINT, SIGHUP})
        sigaddset(&mask, s);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    sd_event *raw = nullptr;
    if (int r = sd_event_default(&raw); r < 0)
        return failf(-r, "cannot create the event loop: {}", strerror(-r));
    return EventPtr(raw);
}

int Signals::on_exit(sd_event_source *s, const signalfd_siginfo *si, void *userdata) noexcept
{
    auto *self = static_cast<Signals *>(userdata);
    log::info("received signal {}, exiting{}", strsignal(static_cast<int>(si->ssi_signo)),
              self->exit_note_);
    notify::stopping();
    return sd_event_exit(sd_event_source_get_event(s), 0);
}

int Signals::on_hup(sd_event_source *, const signalfd_siginfo *, void *userdata) noexcept
{
    auto *self = static_cast<Signals *>(userdata);
    try {
        if (self->on_hangup_)
            self->on_hangup_();
    } catch (const std::exception &e) {
        log::err("reload failed: {}", e.what());
    } catch (...) {
        log::err("reload failed");
    }
    return 0;
}

Result<std::unique_ptr<Signals>> Signals::watch(sd_event *event, std::string exit_note,
                                                std::function<void()> on_hangup)
{
    std::unique_ptr<Signals> s(new Signals());
    s->exit_note_ = std::move(exit_note);
    s->on_hangup_ = std::move(on_hangup);
    struct {
        int sig;
        sd_event_signal_handler_t handler;
        EventSourcePtr *slot;
    } const want[] = {{SIGTERM, on_exit, &s->term_}, {SIGINT, on_exit, &s->int_},
                      {SIGHUP, on_hup, &s->hup_}};
    for (const auto &w : want) {
        sd_event_source *src = nullptr;
        if (int r = sd_event_add_signal(event, &src, w.sig, w.handler, s.get()); r < 0)
            return failf(-r, "cannot watch {}: {}", strsignal(w.sig), strerror(-r));
        w.slot->reset(src);
    }
    return s;
}

Result<BusPtr> system_bus(sd_event *event)
{
    auto bus = paths::open_system_bus();
    if (!bus)
        return std::unexpected(bus.error());
    if (int r = sd_bus_attach_event(bus->get(), event, bus_priority); r < 0)
        return failf(-r, "cannot attach the bus to the event loop: {}", strerror(-r));
    sd_bus_set_exit_on_disconnect(bus->get(), 1);
    return bus;
}

Result<LoopAndBus> loop_and_bus()
{
    ALOPEX_TRY(event, event_loop());
    ALOPEX_TRY(bus, system_bus(event.get()));
    return LoopAndBus{std::move(event), std::move(bus)};
}

int run(sd_event *event)
{
    int r = sd_event_loop(event);
    if (r < 0) {
        log::err("event loop failed: {}", strerror(-r));
        return 1;
    }
    return r;
}

} // namespace alopex::daemon
