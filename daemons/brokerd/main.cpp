// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-brokerd: wiring only. Config, table and operations live in broker.cpp and its
// helpers; the D-Bus surface in bus_api.cpp.
#include <cstring>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex-config.h"
#include "alopex/daemon.hpp"
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

} // namespace

int main(int argc, char **argv)
{
    if (auto done = daemon::parse_args(argc, argv, "alopex-brokerd", usage))
        return *done;

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

    auto base = daemon::loop_and_bus();
    if (!base) {
        log::err("{}", base.error().to_string());
        return 1;
    }
    sd_event *event = base->event.get();
    sd_bus *bus = base->bus.get();
    auto signals = daemon::Signals::watch(event, "", [&broker] {
        notify::reloading();
        if (auto r = broker.reload(); !r)
            log::err({{"ALOPEX_CONFIG", broker.config().source}},
                     "reload refused, keeping the last good table: {}", r.error().to_string());
        else
            log::info("reloaded {}", broker.config().source);
        if (auto l = broker.open_ledger(); !l)
            log::err("{}", l.error().to_string());
        notify::ready("serving");
    });
    if (!signals) {
        log::err("{}", signals.error().to_string());
        return 1;
    }
    broker::BusApi api(broker);
    if (auto r = api.attach(bus, event); !r) {
        log::err("{}", r.error().to_string());
        return 1;
    }
    if (int r = sd_bus_request_name(bus, ipc::broker1::service, 0); r < 0) {
        log::err("cannot own {}: {}", ipc::broker1::service, strerror(-r));
        return 1;
    }

    notify::ready("serving");
    notify::enable_watchdog(event);
    log::info("alopex-brokerd {} serving {}", ALOPEX_VERSION, ipc::broker1::service);
    return daemon::run(event);
}
