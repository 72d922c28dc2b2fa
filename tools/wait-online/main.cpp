// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-wait-online: waits until linkd's links are routable, like
// systemd-networkd-wait-online. Only wiring here: the options, the bus and the loop; the
// following of linkd's objects in waiter.cpp, the verdict in online.cpp.
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

#include "alopex/ipc/link1.hpp"
#include "alopex/paths.hpp"
#include "alopex/sd.hpp"
#include "args.hpp"
#include "online.hpp"
#include "output.hpp"
#include "waiter.hpp"

namespace {

using namespace alopex::online;

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

bool parse_seconds(std::string_view s, uint64_t &out)
{
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && out <= 365ULL * 24 * 3600;
}

int run(int argc, char **argv)
{
    Options opts;
    bool quiet = false;
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
        opts.interfaces.emplace_back(name);
    }
    opts.any = args->has(any_opt);
    quiet = args->has(quiet_opt);
    if (auto t = args->value(timeout_opt); t && !parse_seconds(*t, timeout))
        return bad("--timeout: not a number of seconds");

    auto bus = alopex::paths::open_system_bus();
    if (!bus) {
        fmt::print(stderr, "alopex-wait-online: {}\n", bus.error().to_string());
        return exit_failure;
    }
    sd_event *e = nullptr;
    if (sd_event_default(&e) < 0)
        return exit_failure;
    alopex::EventPtr event(e);
    if (sd_bus_attach_event(bus->get(), e, 0) < 0)
        return exit_failure;
    Waiter w(bus->get(), e, std::move(opts), quiet);
    if (auto r = w.start(timeout); !r) {
        fmt::print(stderr, "alopex-wait-online: {}\n", r.error().to_string());
        return exit_failure;
    }
    if (int r = sd_event_loop(e); r < 0) {
        fmt::print(stderr, "alopex-wait-online: {}\n", strerror(-r));
        return exit_failure;
    }
    return w.result();
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
