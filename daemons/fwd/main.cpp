// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-fwd: wiring only. The state and every change live in manager*.cpp and
// interfaces.cpp; the model in config/, its compilation in compile/, the kernel in nft/.
//
// The table stays when fwd stops (it carries the persist flag): the host keeps its
// firewall, and the next fwd takes the table over in one transaction.
#include <cstring>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex-config.h"
#include "alopex/daemon.hpp"
#include "alopex/ipc/firewall1.hpp"
#include "alopex/log.hpp"
#include "alopex/notify.hpp"
#include "alopex/paths.hpp"
#include "alopex/sd.hpp"
#include "config/config.hpp"
#include "linkd/linkd_zones.hpp"
#include "manager.hpp"
#include "nft/session.hpp"

using namespace alopex;

namespace {

constexpr const char *usage =
    "Usage: alopex-fwd [--help] [--version]\n"
    "\n"
    "The alopex firewall (org.alopex.Firewall1): owns the nf_tables table `inet alopex`,\n"
    "built from $CONFIGURATION_DIRECTORY/firewall.toml (default /etc/alopex/firewall.toml)\n"
    "and runtime rules kept in $STATE_DIRECTORY/runtime.json, and keeps the zones' address\n"
    "sets in step with the host's addresses. SIGHUP reloads firewall.toml; SIGTERM and\n"
    "SIGINT stop it (the table stays). See alopex-fwd(8) and alopex-firewall.toml(5).\n";

// Wires the Manager to the bus name, sd_notify, linkd's zones and the signals, then runs
// the loop.
int serve(fwd::Manager &m, sd_event *event, sd_bus *bus)
{
    // The name is taken once the first ruleset is in the kernel, then READY=1: nobody can
    // call fwd before it has a firewall to change.
    m.on_ready = [&m, b = bus, e = event] {
        if (int r = sd_bus_request_name(b, ipc::firewall1::service, 0); r < 0) {
            log::err("cannot own {}: {}", ipc::firewall1::service, strerror(-r));
            sd_event_exit(e, 1);
            return;
        }
        log::info("alopex-fwd {} serving {}: {}", ALOPEX_VERSION, ipc::firewall1::service, m.status_line());
        notify::ready(m.status_line());
    };
    m.on_changed = [&m] { notify::status(m.status_line()); };
    m.on_fatal = [e = event](const Error &err) {
        log::err("cannot apply the first ruleset, exiting (the kernel keeps the previous "
                 "table, if any): {}", err.to_string());
        sd_event_exit(e, 1);
    };

    // Zones alopex-linkd gives its links (profiles' zone=, its SetZone), when it runs,
    // followed by ifindex. The first ruleset waits (at most 2 s, without blocking the
    // loop) until linkd's objects are read or linkd is known to be absent, so that a
    // restarted fwd does not put an interface into its pattern's zone first and move it
    // back a moment later.
    m.hold_start(2'000'000);
    auto linkd_zones = fwd::LinkdZones::start(bus, [&m](int32_t ifindex, const std::string &zone) {
        m.set_linkd_zone(ifindex, zone);
    });
    if (linkd_zones) {
        (*linkd_zones)->on_settled = [&m] { m.release_start(); };
    } else {
        log::warning("not following alopex-linkd's zones: {}", linkd_zones.error().to_string());
        m.release_start();
    }

    auto signals = daemon::Signals::watch(event, " (the table stays)", [&m] {
        notify::reloading();
        m.reload([&m](Result<> r) {
            if (!r) {
                log::err("reload refused, keeping the running ruleset: {}", r.error().to_string());
            } else {
                log::info("reloaded firewall.toml");
                m.record("fw.Reload", {{"signal", std::string("SIGHUP")}, {"generation", m.generation()}});
            }
            notify::ready(m.status_line());
        });
    });
    if (!signals) {
        log::err("{}", signals.error().to_string());
        return 1;
    }

    notify::status("reading links and addresses");
    notify::enable_watchdog(event);
    return daemon::run(event);
}

} // namespace

int main(int argc, char **argv)
{
    if (auto done = daemon::parse_args(argc, argv, "alopex-fwd", usage))
        return *done;
    log::init("alopex-fwd");

    // An invalid firewall.toml stops the start ("file:line:col: what"); the kernel keeps
    // whatever table a previous fwd left.
    const auto config_path = paths::config_dir() / "firewall.toml";
    auto model = fwd::config::load(config_path);
    if (!model) {
        log::err("{}", model.error().to_string());
        return 1;
    }

    auto base = daemon::loop_and_bus();
    if (!base) {
        log::err("{}", base.error().to_string());
        return 1;
    }
    sd_event *event = base->event.get();
    sd_bus *bus = base->bus.get();

    auto session = fwd::nft::Session::open(event);
    if (!session) {
        log::err("cannot open the nf_tables socket: {}", session.error().to_string());
        return 1;
    }

    fwd::ManagerOptions options;
    options.config_file = config_path;
    std::error_code ec;
    auto state_dir = paths::state_dir("fwd");
    std::filesystem::create_directories(state_dir, ec);
    options.state_file = state_dir / "runtime.json";
    auto mgr = fwd::Manager::create(event, bus, std::move(*model), std::move(*session),
                                    std::move(options));
    if (!mgr) {
        log::err("cannot start: {}", mgr.error().to_string());
        return 1;
    }
    return serve(**mgr, event, bus);
}
