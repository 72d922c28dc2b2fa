// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-brokerd: wiring only. Config, table and operations live in broker.cpp and its
// helpers; the D-Bus surface in bus_api.cpp.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex-config.h"
#include "alopex/ipc/broker1.hpp"
#include "alopex/log.hpp"
#include "alopex/notify.hpp"
#include "alopex/paths.hpp"
#include "alopex/sd.hpp"
#include "broker.hpp"
#include "bus_api.hpp"

using namespace alopex;

namespace {

constexpr const char *usage = "Usage: alopex-brokerd [--help] [--version]\n"
                              "\n"
                              "The alopex suite's root broker (org.alopex.Broker1).\n"
                              "Reads $CONFIGURATION_DIRECTORY/broker.toml (default "
                              "/etc/alopex/broker.toml),\n"
                              "keeps its ledger in $STATE_DIRECTORY/ledger.jsonl unless "
                              "[ledger] path says otherwise,\n"
                              "and serves the system bus ($DBUS_SYSTEM_BUS_ADDRESS).\n"
                              "SIGHUP reloads broker.toml; SIGTERM and SIGINT stop it.\n"
                              "See alopex-brokerd(8) and alopex-broker.toml(5).\n";

int on_exit_signal(sd_event_source *s, const signalfd_siginfo *si, void *) noexcept
{
    log::info("received signal {}, exiting", strsignal(static_cast<int>(si->ssi_signo)));
    notify::stopping();
    return sd_event_exit(sd_event_source_get_event(s), 0);
}

int on_hangup(sd_event_source *, const signalfd_siginfo *, void *userdata) noexcept
{
    auto *broker = static_cast<broker::Broker *>(userdata);
    try {
        notify::reloading();
        if (auto r = broker->reload(); !r)
            log::err({{"ALOPEX_CONFIG", broker->config().source}},
                     "reload refused, keeping the last good table: {}", r.error().to_string());
        else
            log::info("reloaded {}", broker->config().source);
        if (auto l = broker->open_ledger(); !l)
            log::err("{}", l.error().to_string());
        notify::ready("serving");
    } catch (const std::exception &e) {
        log::err("reload failed: {}", e.what());
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--version") {
            printf("alopex-brokerd %s\n", ALOPEX_VERSION);
            return 0;
        }
        if (a == "--help" || a == "-h") {
            fputs(usage, stdout);
            return 0;
        }
        fprintf(stderr, "alopex-brokerd: unknown argument '%s'\n%s", argv[i], usage);
        return 2;
    }

    log::init("alopex-brokerd");
    broker::Broker broker(paths::config_dir() / "broker.toml", paths::state_dir("broker"));
    if (auto r = broker.reload(); !r) {
        log::err("refusing to start: {}", r.error().to_string());
        return 1;
    }
    if (auto r = broker.open_ledger(); !r)
        log::err("{}", r.error().to_string());
    else
        log::info({{"ALOPEX_LEDGER", broker.ledger_path().string()}}, "ledger at {}",
                  broker.ledger_path().string());

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, nullptr);

    sd_event *raw_event = nullptr;
    if (int r = sd_event_default(&raw_event); r < 0) {
        log::err("cannot create the event loop: {}", strerror(-r));
        return 1;
    }
    EventPtr event(raw_event);
    sd_event_source *src = nullptr;
    EventSourcePtr sig_term, sig_int, sig_hup;
    if (sd_event_add_signal(event.get(), &src, SIGTERM, on_exit_signal, nullptr) >= 0)
        sig_term.reset(src);
    if (sd_event_add_signal(event.get(), &src, SIGINT, on_exit_signal, nullptr) >= 0)
        sig_int.reset(src);
    if (sd_event_add_signal(event.get(), &src, SIGHUP, on_hangup, &broker) >= 0)
        sig_hup.reset(src);
    if (!sig_term || !sig_int || !sig_hup) {
        log::err("cannot watch signals");
        return 1;
    }

    auto bus = paths::open_system_bus();
    if (!bus) {
        log::err("{}", bus.error().to_string());
        return 1;
    }
    if (int r = sd_bus_attach_event(bus->get(), event.get(), SD_EVENT_PRIORITY_NORMAL); r < 0) {
        log::err("cannot attach the bus to the event loop: {}", strerror(-r));
        return 1;
    }
    sd_bus_set_exit_on_disconnect(bus->get(), 1);
    broker::BusApi api(broker);
    if (auto r = api.attach(bus->get()); !r) {
        log::err("{}", r.error().to_string());
        return 1;
    }
    if (int r = sd_bus_request_name(bus->get(), ipc::broker1::service, 0); r < 0) {
        log::err("cannot own {}: {}", ipc::broker1::service, strerror(-r));
        return 1;
    }

    notify::ready("serving");
    notify::enable_watchdog(event.get());
    log::info("alopex-brokerd {} serving {}", ALOPEX_VERSION, ipc::broker1::service);
    int r = sd_event_loop(event.get());
    if (r < 0) {
        log::err("event loop failed: {}", strerror(-r));
        return 1;
    }
    return r;
}
