// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-wait-online: waits until linkd's links are routable, like
// systemd-networkd-wait-online. Event-driven: every signal linkd sends (and its name
// appearing) triggers one re-read of its objects; no polling.
//
// Exit status: 0 online, 1 timed out, 2 usage error, 3 the bus failed.
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus/blocking.hpp"
#include "alopex/ipc/link1.hpp"
#include "alopex/paths.hpp"
#include "alopex/sd.hpp"
#include "args.hpp"
#include "online.hpp"
#include "output.hpp"
#include "link1_client.hpp"

namespace {

constexpr int exit_online = 0, exit_timeout = 1, exit_usage = 2, exit_failure = 3;

constexpr std::string_view interface_opt = "--interface", any_opt = "--any", timeout_opt = "--timeout",
                           quiet_opt = "--quiet", help_opt = "--help";

const alopex::cli::OptionSpec options[] = {
    {interface_opt, 'i', "NAME", "wait for this link (repeatable) instead of the managed ones", true},
    {any_opt, 0, {}, "one routable link is enough"},
    {timeout_opt, 0, "SECONDS", "give up after this long (default 120; 0 waits forever)"},
    {quiet_opt, 'q', {}, "say nothing while waiting"},
    {help_opt, 'h', {}, "this text"},
};

std::string usage()
{
    return "Usage: alopex-wait-online [OPTIONS]\n\n"
           "Wait until the links alopex-linkd manages are routable (carrier, administratively up,\n"
           "a global address).\n\n" +
           alopex::cli::options_help(options);
}

struct Waiter {
    alopex::online::Options options;
    bool quiet = false;
    int result = exit_timeout;
    sd_event *event = nullptr;
    sd_bus *bus = nullptr;
    alopex::EventSourcePtr defer;
    std::string last_status;

    void evaluate()
    {
        auto objects = alopex::bus::blocking::managed_objects(bus, alopex::ipc::link1::service,
                                                              alopex::ipc::link1::path,
                                                              alopex::ipc::link1::link_reader());
        auto links = objects ? alopex::Result<std::vector<alopex::ipc::link1::LinkInfo>>(
                                   alopex::ipc::link1::by_ifindex(std::move(*objects)))
                             : std::unexpected(objects.error());
        std::string status;
        if (!links) {
            status = fmt::format("waiting for alopex-linkd ({})", links.error().message);
        } else {
            std::vector<alopex::online::LinkView> views;
            for (const auto &l : *links)
                views.push_back(alopex::online::view_of(l));
            auto v = alopex::online::evaluate(views, options);
            if (v.online) {
                result = exit_online;
                sd_event_exit(event, 0);
                return;
            }
            status = fmt::format("waiting for {}", v.waiting_for);
        }
        // Link names come from linkd (and --interface): escaped, one status per line.
        if (!quiet && status != last_status)
            fmt::print(stderr, "alopex-wait-online: {}\n", alopex::cli::printable(status));
        last_status = std::move(status);
    }

    void schedule() { sd_event_source_set_enabled(defer.get(), SD_EVENT_ONESHOT); }
};

int on_signal(sd_bus_message *, void *userdata, sd_bus_error *) noexcept
{
    static_cast<Waiter *>(userdata)->schedule();
    return 0;
}

int on_defer(sd_event_source *, void *userdata) noexcept
{
    try {
        static_cast<Waiter *>(userdata)->evaluate();
    } catch (...) {
        sd_event_exit(static_cast<Waiter *>(userdata)->event, 0);
    }
    return 0;
}

int on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto w = static_cast<Waiter *>(userdata);
    if (!w->quiet)
        fmt::print(stderr, "alopex-wait-online: timed out {}\n", alopex::cli::printable(w->last_status));
    w->result = exit_timeout;
    sd_event_exit(w->event, 0);
    return 0;
}

bool parse_seconds(std::string_view s, uint64_t &out)
{
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && out <= 365ULL * 24 * 3600;
}

int run(int argc, char **argv)
{
    Waiter w;
    uint64_t timeout = 120;
    std::vector<std::string_view> argv_words(argv + 1, argv + argc);
    auto args = alopex::cli::parse_args(argv_words, options);
    auto bad = [](const std::string &what) {
        fmt::print(stderr, "alopex-wait-online: {}\n{}", alopex::cli::printable(what), usage());
        return exit_usage;
    };
    if (!args)
        return bad(args.error().message);
    if (!args->unknown.empty())
        return bad(fmt::format("unknown option '{}'", args->unknown.front()));
    if (!args->words.empty())
        return bad(fmt::format("unexpected argument '{}'", args->words.front()));
    if (args->has(help_opt)) {
        fmt::print("{}", usage());
        return exit_online;
    }
    for (auto name : args->values(interface_opt)) {
        if (name.empty() || name.size() > 15)
            return bad(fmt::format("--interface: not a link name: '{}'", name));
        w.options.interfaces.emplace_back(name);
    }
    w.options.any = args->has(any_opt);
    w.quiet = args->has(quiet_opt);
    if (auto t = args->value(timeout_opt); t && !parse_seconds(*t, timeout))
        return bad("--timeout: not a number of seconds");

    auto bus = alopex::paths::open_system_bus();
    if (!bus) {
        fmt::print(stderr, "alopex-wait-online: {}\n", bus.error().to_string());
        return exit_failure;
    }
    w.bus = bus->get();
    sd_event *e = nullptr;
    if (sd_event_default(&e) < 0)
        return exit_failure;
    alopex::EventPtr event(e);
    w.event = e;
    if (sd_bus_attach_event(w.bus, e, 0) < 0)
        return exit_failure;
    sd_bus_set_method_call_timeout(w.bus, 5 * 1000 * 1000);

    sd_event_source *s = nullptr;
    if (sd_event_add_defer(e, &s, on_defer, &w) < 0)
        return exit_failure;
    w.defer.reset(s);
    std::string owner = fmt::format("type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',"
                                    "arg0='{}'",
                                    alopex::ipc::link1::service);
    std::string from = fmt::format("type='signal',sender='{}'", alopex::ipc::link1::service);
    if (sd_bus_add_match(w.bus, nullptr, owner.c_str(), on_signal, &w) < 0 ||
        sd_bus_add_match(w.bus, nullptr, from.c_str(), on_signal, &w) < 0) {
        fmt::print(stderr, "alopex-wait-online: cannot subscribe to linkd's signals\n");
        return exit_failure;
    }
    if (timeout > 0) {
        uint64_t now = 0;
        sd_event_now(e, CLOCK_MONOTONIC, &now);
        if (sd_event_add_time(e, nullptr, CLOCK_MONOTONIC, now + timeout * 1000000, 0, on_timeout, &w) < 0)
            return exit_failure;
    }
    if (int r = sd_event_loop(e); r < 0) {
        fmt::print(stderr, "alopex-wait-online: {}\n", strerror(-r));
        return exit_failure;
    }
    return w.result;
}

} // namespace

int main(int argc, char **argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception &ex) {
        fmt::print(stderr, "alopex-wait-online: {}\n", ex.what());
        return exit_failure;
    }
}
