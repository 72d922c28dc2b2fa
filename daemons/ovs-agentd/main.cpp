// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-ovs-agentd: keeps container veth/tap ports on an Open vSwitch bridge
// (alopex-ovs-agentd(8), alopex-ovs-agent.toml(5)). Only wiring: arguments, settings,
// the loop and the bus, the service.
#include <cstdio>
#include <string>
#include <string_view>

#include "alopex/daemon.hpp"
#include "alopex/log.hpp"
#include "alopex/notify.hpp"
#include "alopex/paths.hpp"
#include "service.hpp"
#include "settings.hpp"

using namespace alopex;

namespace {

constexpr const char *usage = "usage: alopex-ovs-agentd [--config FILE]\n"
                              "  --config FILE  settings (default $CONFIGURATION_DIRECTORY/ovs-agent.toml,\n"
                              "                 /etc/alopex/ovs-agent.toml)\n";

} // namespace

int main(int argc, char **argv)
{
    std::string config = (paths::config_dir() / "ovs-agent.toml").string();
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--config" && i + 1 < argc) {
            config = argv[++i];
            continue;
        }
        char *one[] = {argv[0], argv[i], nullptr};
        if (auto done = daemon::parse_args(2, one, "alopex-ovs-agentd", usage))
            return *done;
    }
    log::init("alopex-ovs-agentd");
    auto settings = ovs::load_settings(config);
    if (!settings) {
        log::err("{}", settings.error().to_string());
        return 1;
    }
    for (const auto &n : settings->notices)
        log::notice("{}", n);
    auto lb = daemon::loop_and_bus();
    if (!lb) {
        log::err("{}", lb.error().to_string());
        return 1;
    }
    ovs::Service *svc = nullptr;   // SIGHUP is taken from the start, acted on once the service runs
    auto signals = daemon::Signals::watch(lb->event.get(), "", [&svc] {
        if (!svc)
            return;
        if (auto r = svc->reload("SIGHUP"); !r)
            log::warning("SIGHUP: {} (the running settings are kept)", r.error().to_string());
    });
    if (!signals) {
        log::err("{}", signals.error().to_string());
        return 1;
    }
    auto service = ovs::Service::create(lb->event.get(), lb->bus.get(), *settings, config);
    if (!service) {
        log::err("{}", service.error().to_string());
        return 1;
    }
    svc = service->get();
    log::info("keeping ports with prefixes {} on {}", fmt::join(settings->prefixes, ", "), settings->bridge);
    notify::enable_watchdog(lb->event.get());
    return daemon::run(lb->event.get());
}
