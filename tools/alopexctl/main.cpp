// SPDX-License-Identifier: GPL-2.0-or-later
// alopexctl: inspect the alopex suite. Only wiring here; see cli, status, ledger_cmd.
//
// Exit status: 0 success, 1 the ledger's chain is broken, 2 usage error, 3 any other
// failure (bus unreachable, ledger unreadable).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <exception>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "alopex-config.h"
#include "alopex/paths.hpp"
#include "cli.hpp"
#include "fw_cmd.hpp"
#include "ledger_cmd.hpp"
#include "link_cmd.hpp"
#include "status.hpp"

namespace {

constexpr int exit_ok = 0, exit_broken = 1, exit_usage = 2, exit_failure = 3;

int fail(const std::string &message)
{
    fmt::print(stderr, "alopexctl: {}\n", message);
    return exit_failure;
}

int run_status(const alopexctl::Options &o)
{
    auto bus = alopex::paths::open_system_bus();
    if (!bus)
        return fail(bus.error().to_string());
    // Let polkit ask the user when a later command calls a mutating method.
    sd_bus_set_allow_interactive_authorization(bus->get(), 1);
    // A hung daemon must not hang the listing.
    sd_bus_set_method_call_timeout(bus->get(), 5 * 1000 * 1000);
    auto all = alopexctl::query_status(bus->get());
    fmt::print("{}", o.json ? alopexctl::format_status_json(all)
                            : alopexctl::format_status_table(all));
    return exit_ok;
}

alopex::Result<std::filesystem::path> ledger_path(const alopexctl::Options &o)
{
    return alopexctl::resolve_ledger_path(o.file, getenv("ALOPEX_LEDGER"),
                                          alopex::paths::config_dir());
}

int run_ledger_verify(const alopexctl::Options &o)
{
    auto path = ledger_path(o);
    if (!path)
        return fail(path.error().to_string());
    auto verdict = alopex::ledger::verify_file(*path);
    if (!verdict)
        return fail(fmt::format("{}: {}", path->string(), verdict.error().to_string()));
    if (o.json)
        fmt::print("{}", alopexctl::format_verdict_json(*verdict, *path));
    else
        fmt::print("{}\n", alopexctl::format_verdict(*verdict));
    return verdict->ok ? exit_ok : exit_broken;
}

int run_ledger_show(const alopexctl::Options &o)
{
    auto path = ledger_path(o);
    if (!path)
        return fail(path.error().to_string());
    auto records = alopex::ledger::read_file(*path);
    if (!records)
        return fail(fmt::format("{}: {}", path->string(), records.error().to_string()));
    auto shown = alopexctl::tail_of(std::move(*records), o.tail);
    fmt::print("{}", o.json ? alopexctl::format_records_json(shown)
                            : alopexctl::format_records_table(shown));
    return exit_ok;
}

alopex::Result<alopex::BusPtr> open_bus()
{
    auto bus = alopex::paths::open_system_bus();
    if (!bus)
        return bus;
    // Let polkit ask the user on this terminal when a command calls a mutating method.
    sd_bus_set_allow_interactive_authorization(bus->get(), 1);
    // A hung daemon must not hang the command (polkit may wait for a password).
    sd_bus_set_method_call_timeout(bus->get(), 120 * 1000 * 1000);
    return bus;
}

int run_link(const alopexctl::Options &o)
{
    std::vector<std::string_view> words(o.words.begin(), o.words.end());
    auto req = alopexctl::parse_link_args(words);
    if (!req) {
        fmt::print(stderr, "alopexctl: {}\nTry 'alopexctl --help'.\n", req.error().to_string());
        return exit_usage;
    }
    auto bus = open_bus();
    if (!bus)
        return fail(bus.error().to_string());
    return alopexctl::run_link(bus->get(), *req, o.json);
}

int run_fw(const alopexctl::Options &o)
{
    std::vector<std::string_view> words(o.words.begin(), o.words.end());
    auto req = alopexctl::parse_fw_args(words);
    if (!req) {
        fmt::print(stderr, "alopexctl: {}\nTry 'alopexctl --help'.\n", req.error().to_string());
        return exit_usage;
    }
    auto bus = open_bus();
    if (!bus)
        return fail(bus.error().to_string());
    return alopexctl::run_fw(bus->get(), *req, o.json);
}

// alopex-wait-online lives beside alopexctl (both in bindir).
int run_wait_online(const alopexctl::Options &o, const char *argv0)
{
    std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string dir = self.substr(0, self.rfind('/') + 1);
    std::vector<std::string> args{"alopex-wait-online"};
    args.insert(args.end(), o.words.begin(), o.words.end());
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string candidate : {dir + "alopex-wait-online", dir + "../wait-online/alopex-wait-online"})
        if (access(candidate.c_str(), X_OK) == 0)
            execv(candidate.c_str(), argv.data());
    execvp("alopex-wait-online", argv.data());
    return fail(fmt::format("{}: cannot run alopex-wait-online: {}", argv0, strerror(errno)));
}

int run(int argc, char **argv)
{
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto opts = alopexctl::parse_args(args);
    if (!opts) {
        fmt::print(stderr, "alopexctl: {}\nTry 'alopexctl --help'.\n", opts.error().to_string());
        return exit_usage;
    }
    switch (opts->command) {
    case alopexctl::Command::help:
        fmt::print("{}", alopexctl::usage("alopexctl"));
        return exit_ok;
    case alopexctl::Command::version:
        fmt::print("alopexctl {}\n", ALOPEX_VERSION);
        return exit_ok;
    case alopexctl::Command::status:
        return run_status(*opts);
    case alopexctl::Command::ledger_verify:
        return run_ledger_verify(*opts);
    case alopexctl::Command::ledger_show:
        return run_ledger_show(*opts);
    case alopexctl::Command::link:
        return run_link(*opts);
    case alopexctl::Command::checkpoint: {
        auto bus = open_bus();
        if (!bus)
            return fail(bus.error().to_string());
        return alopexctl::run_checkpoint(bus->get(), opts->words);
    }
    case alopexctl::Command::fw:
        return run_fw(*opts);
    case alopexctl::Command::wait_online:
        return run_wait_online(*opts, argv[0]);
    }
    return exit_usage;
}

} // namespace

int main(int argc, char **argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception &e) {
        return fail(e.what());
    }
}
