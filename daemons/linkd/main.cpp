// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-linkd: wiring only. State following and the D-Bus surface live in manager*.cpp
// and link*.cpp; rtnetlink requests in rtnl/, profiles in profile/, DHCP in dhcp/.
#include <filesystem>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/daemon.hpp"
#include "broker1_client.hpp"
#include "alopex/log.hpp"
#include "alopex/notify.hpp"
#include "alopex/paths.hpp"
#include "alopex/sd.hpp"
#include "announce.hpp"
#include "change_queue.hpp"
#include "checkpoint.hpp"
#include "configurator.hpp"
#include "dhcp_links.hpp"
#include "manager.hpp"
#include "probe.hpp"
#include "reloader.hpp"
#include "rtnl/async_client.hpp"
#include "settings.hpp"
#include "stats.hpp"

using namespace alopex;

namespace {

constexpr const char *usage =
    "Usage: alopex-linkd [--help] [--version]\n"
    "\n"
    "The alopex link manager (org.alopex.Link1): follows links, addresses and routes\n"
    "over rtnetlink and publishes them on the system bus ($DBUS_SYSTEM_BUS_ADDRESS).\n"
    "Settings: $CONFIGURATION_DIRECTORY/linkd.toml (default /etc/alopex/linkd.toml).\n"
    "Profiles: $CONFIGURATION_DIRECTORY/links/*.toml (default /etc/alopex/links).\n"
    "SIGHUP reloads both; SIGTERM and SIGINT stop it. See alopex-linkd(8).\n";

// The Manager, its kernel requests through `requests` and its ledger records through
// `recorder`; null (logged) when it cannot start.
std::unique_ptr<linkd::Manager> start_manager(sd_event *event, sd_bus *bus, linkd::rtnl::AsyncClient &requests,
                                              const linkd::Settings &settings, ipc::broker1::Recorder &recorder)
{
    linkd::Executor exec = [c = &requests](const linkd::rtnl::Request &req, linkd::ExecDone done) {
        c->submit({req}, [done = std::move(done)](Result<std::vector<Result<>>> r) {
            done(r ? std::move(r->front()) : Result<>(std::unexpected(r.error())));
        });
    };
    linkd::ManagerOptions options;
    options.monitor.receive_buffer = settings.receive_buffer;
    auto mgr = linkd::Manager::create(event, bus, std::move(options), std::move(exec), &linkd::read_link_stats);
    if (!mgr) {
        log::err("cannot start: {}", mgr.error().to_string());
        return nullptr;
    }
    // Every mutating action goes to the audit ledger through the broker, without ever
    // waiting for it (records queue while it is away or slow).
    (*mgr)->set_record_sink([r = &recorder](std::string action, std::string details) {
        r->record(std::move(action), std::move(details));
    });
    return std::move(*mgr);
}

// DHCPv4 clients for the links whose profile asks for one, following links and D-Bus.
void wire_dhcp(linkd::Manager &m, linkd::Configurator &conf, linkd::DhcpLinks &dhcp)
{
    conf.on_intents = [&dhcp](const std::vector<linkd::profile::LinkIntent> &intents) { dhcp.update(intents); };
    m.hooks.link_changed.add(
        [&dhcp](const linkd::LinkState &l, const netlink::Link &previous) { dhcp.link_changed(l, previous); });
    m.hooks.link_removed.add([&dhcp](int ifindex, const std::string &) { dhcp.link_removed(ifindex); });
    m.hooks.renew = [&dhcp](int ifindex) { return dhcp.renew(ifindex); };
    m.hooks.release = [&dhcp](int ifindex) { return dhcp.release(ifindex); };
}

// Everything on the loop, then the loop.
int serve(sd_event *event, sd_bus *bus, ipc::broker1::Recorder &recorder, const linkd::Settings &settings,
          const std::filesystem::path &settings_path)
{
    // Every rtnetlink request goes through this one client, answered from the loop and
    // never waited for: D-Bus methods directly, profile rounds, checkpoint rollbacks and
    // DHCP leases one job at a time through the ChangeQueue (change_queue.hpp).
    auto requests = linkd::rtnl::AsyncClient::open(event);
    if (!requests) {
        log::err("cannot open the rtnetlink request socket: {}", requests.error().to_string());
        return 1;
    }
    auto queue = linkd::ChangeQueue::create(event, **requests);
    if (!queue) {
        log::err("cannot start: {}", queue.error().to_string());
        return 1;
    }
    auto mgr = start_manager(event, bus, **requests, settings, recorder);
    if (!mgr)
        return 1;
    linkd::Manager &m = *mgr;

    // Profiles: applied after the first dump, on hotplug, Reload() and SIGHUP.
    std::error_code ec;
    auto runtime = paths::runtime_dir("link");
    std::filesystem::create_directories(runtime, ec);
    auto conf = linkd::Configurator::create(event, m, **queue, paths::config_dir() / "links", runtime / "owned.json");
    if (!conf) {
        log::err("cannot start: {}", conf.error().to_string());
        return 1;
    }
    linkd::DhcpLinks dhcp(event, m, **queue, paths::state_dir("link"));
    wire_dhcp(m, **conf, dhcp);
    // The bus name and READY=1 once links and addresses are in and the profiles' matches
    // published; Startup ends after the first profile round (announce.hpp).
    linkd::Announcer announcer(event, bus, m);
    m.hooks.links_known.add([c = conf->get(), &announcer] {
        c->publish_matches();
        announcer.links_known();
    });
    (*conf)->on_round = [&announcer] { announcer.round_done(); };

    // The connectivity probe ([connectivity] of linkd.toml): "limited" becomes "full" only
    // when a TCP connect to the configured endpoint succeeds.
    linkd::Prober prober(event, m);
    m.hooks.state_changed.add([&prober] { prober.state_changed(); });
    prober.configure(settings);

    // Reload() and SIGHUP re-read linkd.toml as well as the profiles (reloader.hpp).
    linkd::Reloader reloader({.load_settings = [settings_path] { return linkd::load_settings(settings_path); },
                              .apply_settings = [&prober](const linkd::Settings &s) { prober.configure(s); },
                              .reload_profiles = [c = conf->get()] { return c->reload(); },
                              .when_applied = [c = conf->get()](std::function<void()> then) {
                                  c->when_applied(std::move(then));
                              }},
                             settings);
    m.hooks.reload = [&reloader](std::function<void(Result<>)> done) { reloader.reload(std::move(done)); };

    // Checkpoints with automatic rollback (org.alopex.Link1.Checkpoints), kept in the state
    // directory so that a pending one outlives a crash or restart.
    auto checkpoints = linkd::Checkpoints::create(event, m, **queue, paths::state_dir("link"));
    if (!checkpoints) {
        log::err("cannot start: {}", checkpoints.error().to_string());
        return 1;
    }
    // A rollback also puts the profile set of the checkpoint back in force.
    (*checkpoints)->add_participant((*conf)->checkpoint_participant());
    // And every link's run-time DNS (SetDNS) as it was.
    (*checkpoints)->add_participant(m.runtime_dns_participant());

    auto signals = daemon::Signals::watch(event, "", [&reloader] { reloader.sighup(); });
    if (!signals) {
        log::err("{}", signals.error().to_string());
        return 1;
    }
    notify::status("dumping links, addresses and routes");
    notify::enable_watchdog(event);
    return daemon::run(event);
}

} // namespace

int main(int argc, char **argv)
{
    if (auto done = daemon::parse_args(argc, argv, "alopex-linkd", usage))
        return *done;
    log::init("alopex-linkd");

    // linkd.toml: an invalid file stops the start ("file:line:col: what"); a missing one
    // means every default (probing off).
    const auto settings_path = paths::config_dir() / "linkd.toml";
    auto settings = linkd::load_settings(settings_path);
    if (!settings) {
        log::err("{}", settings.error().to_string());
        return 1;
    }

    auto base = daemon::loop_and_bus();
    if (!base) {
        log::err("{}", base.error().to_string());
        return 1;
    }
    sd_event *event = base->event.get();
    sd_bus *bus = base->bus.get();

    auto recorder = ipc::broker1::Recorder::create(bus, event);
    if (!recorder) {
        log::err("cannot start the ledger recorder: {}", recorder.error().to_string());
        return 1;
    }
    return serve(event, bus, **recorder, *settings, settings_path);
}
