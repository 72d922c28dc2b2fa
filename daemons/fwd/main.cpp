// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-fwd: wiring only. The state and every change live in manager*.cpp and
// interfaces.cpp; the model in config/, its compilation in compile/, the kernel in nft/.
//
// The table stays when fwd stops (it carries the persist flag): the host keeps its
// firewall, and the next fwd takes the table over in one transaction.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex-config.h"
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

int on_exit_signal(sd_event_source *s, const signalfd_siginfo *si, void *) noexcept
{
    log::info("received signal {}, exiting (the table stays)", strsignal(static_cast<int>(si->ssi_signo)));
    notify::stopping();
    return sd_event_exit(sd_event_source_get_event(s), 0);
}

int on_hangup(sd_event_source *, const signalfd_siginfo *, void *userdata) noexcept
{
    auto *mgr = static_cast<fwd::Manager *>(userdata);
    try {
        notify::reloading();
        if (auto r = mgr->reload(); !r)
            log::err("reload refused, keeping the running ruleset: {}", r.error().to_string());
        else
            log::info("reloaded firewall.toml");
        notify::ready(mgr->status_line());
    } catch (const std::exception &e) {
        log::err("reload failed: {}", e.what());
    }
    return 0;
}

EventSourcePtr add_signal(sd_event *e, int sig, sd_event_signal_handler_t h, void *userdata)
{
    sd_event_source *src = nullptr;
    if (sd_event_add_signal(e, &src, sig, h, userdata) < 0)
        return nullptr;
    return EventSourcePtr(src);
}

} // namespace

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--version") {
            printf("alopex-fwd %s\n", ALOPEX_VERSION);
            return 0;
        }
        if (a == "--help" || a == "-h") {
            fputs(usage, stdout);
            return 0;
        }
        fprintf(stderr, "alopex-fwd: unknown argument '%s'\n%s", argv[i], usage);
        return 2;
    }
    log::init("alopex-fwd");

    // An invalid firewall.toml stops the start ("file:line:col: what"); the kernel keeps
    // whatever table a previous fwd left.
    const auto config_path = paths::config_dir() / "firewall.toml";
    auto model = fwd::config::load(config_path);
    if (!model) {
        log::err("{}", model.error().to_string());
        return 1;
    }

    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGTERM, SIGINT, SIGHUP})
        sigaddset(&mask, s);
    sigprocmask(SIG_BLOCK, &mask, nullptr);

    sd_event *raw_event = nullptr;
    if (int r = sd_event_default(&raw_event); r < 0) {
        log::err("cannot create the event loop: {}", strerror(-r));
        return 1;
    }
    EventPtr event(raw_event);

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

    auto session = fwd::nft::Session::open();
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
    auto mgr = fwd::Manager::create(event.get(), bus->get(), std::move(*model), std::move(*session),
                                    std::move(options));
    if (!mgr) {
        log::err("cannot start: {}", mgr.error().to_string());
        return 1;
    }
    fwd::Manager &m = **mgr;
    // The name is taken once the first ruleset is in the kernel, then READY=1: nobody can
    // call fwd before it has a firewall to change.
    m.on_ready = [&m, b = bus->get(), e = event.get()] {
        if (int r = sd_bus_request_name(b, ipc::firewall1::service, 0); r < 0) {
            log::err("cannot own {}: {}", ipc::firewall1::service, strerror(-r));
            sd_event_exit(e, 1);
            return;
        }
        log::info("alopex-fwd {} serving {}: {}", ALOPEX_VERSION, ipc::firewall1::service, m.status_line());
        notify::ready(m.status_line());
    };
    m.on_changed = [&m] { notify::status(m.status_line()); };
    m.on_fatal = [e = event.get()](const Error &err) {
        log::err("cannot apply the first ruleset, exiting (the kernel keeps the previous "
                 "table, if any): {}", err.to_string());
        sd_event_exit(e, 1);
    };

    // Zones alopex-linkd gives its links (profiles' zone=, its SetZone), when it runs.
    auto linkd_zones = fwd::LinkdZones::start(bus->get(), [&m](const std::map<std::string, std::string> &z) {
        m.set_linkd_zones(z);
    });
    if (!linkd_zones)
        log::warning("not following alopex-linkd's zones: {}", linkd_zones.error().to_string());

    auto sig_term = add_signal(event.get(), SIGTERM, on_exit_signal, nullptr);
    auto sig_int = add_signal(event.get(), SIGINT, on_exit_signal, nullptr);
    auto sig_hup = add_signal(event.get(), SIGHUP, on_hangup, &m);
    if (!sig_term || !sig_int || !sig_hup) {
        log::err("cannot watch signals");
        return 1;
    }

    notify::status("reading links and addresses");
    notify::enable_watchdog(event.get());
    int r = sd_event_loop(event.get());
    if (r < 0) {
        log::err("event loop failed: {}", strerror(-r));
        return 1;
    }
    return r;
}
