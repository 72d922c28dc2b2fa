// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "fw_cmd.hpp"
#include "ledger_cmd.hpp"
#include "link_cmd.hpp"
#include "ovs_cmd.hpp"
#include "slirp_cmd.hpp"
#include "status.hpp"

namespace alopexctl {
namespace cli = alopex::cli;

namespace {

constexpr std::string_view json_opt = "--json", terse_opt = "--terse", fields_opt = "--fields", mode_opt = "--mode",
                           help_opt = "--help", version_opt = "--version";

const cli::OptionSpec global_options[] = {
    {json_opt, 0, {}, "machine-readable output (JSON)"},
    {terse_opt, 't', {}, "terse output for scripts: no header, fields separated\nby ':', ':' and '\\' escaped with '\\'"},
    {fields_opt, 'f', "FIELD,...", "only these fields (columns), in this order; 'all':\nevery field"},
    {mode_opt, 'm', "tabular|multiline", "every section as a table, or every row as\n'field value' lines"},
    {help_opt, 'h', {}, "this text"},
    {version_opt, 0, {}, "print the version"},
};

// The global options and every command's own: all may appear anywhere on the line.
// One list for the whole run: the parsed Args point into it, and the Invocation that
// carries them outlives parse_command_line().
const std::vector<cli::OptionSpec> &every_option()
{
    static const std::vector<cli::OptionSpec> all = [] {
        std::vector<cli::OptionSpec> v(std::begin(global_options), std::end(global_options));
        for (auto specs : {ledger_options(), fw_options(), slirp_options()})
            v.insert(v.end(), specs.begin(), specs.end());
        return v;
    }();
    return all;
}

// alopex-wait-online lives beside alopexctl (both in bindir); its options go to it as given.
int exec_wait_online(const cli::Args &a)
{
    std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string dir = self.substr(0, self.rfind('/') + 1);
    std::vector<std::string> args{"alopex-wait-online"};
    args.insert(args.end(), a.raw.begin(), a.raw.end());
    std::vector<char *> argv;
    for (auto &s : args)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    for (std::string candidate : {dir + "alopex-wait-online", dir + "../wait-online/alopex-wait-online"})
        if (access(candidate.c_str(), X_OK) == 0)
            execv(candidate.c_str(), argv.data());
    execvp("alopex-wait-online", argv.data());
    return Context::fail({errno, fmt::format("cannot run alopex-wait-online: {}", strerror(errno)), {}});
}

} // namespace

std::vector<cli::Command> all_commands(Context &ctx)
{
    std::vector<cli::Command> all;
    for (auto &&group : {status_commands(ctx), ledger_commands(ctx), link_commands(ctx), checkpoint_commands(ctx),
                         fw_commands(ctx), slirp_commands(ctx), ovs_commands(ctx)})
        all.insert(all.end(), group.begin(), group.end());
    all.push_back({{"wait-online"},
                   "[--interface NAME]... [--any] [--timeout S]",
                   "wait until the managed links are routable\n(alopex-wait-online(8))",
                   {},
                   exec_wait_online,
                   true});
    return all;
}

alopex::Result<Invocation> parse_command_line(std::span<const std::string_view> argv,
                                              std::span<const cli::Command> commands)
{
    const auto &options = every_option();
    const std::string_view raw[] = {"wait-online"};
    ALOPEX_TRY(args, cli::parse_args(argv, options, {}, raw));
    Invocation inv;
    if (args.has(help_opt) || (!args.words.empty() && args.words[0] == "help")) {
        inv.what = Invocation::What::help;
        return inv;
    }
    if (args.has(version_opt)) {
        inv.what = Invocation::What::version;
        return inv;
    }
    auto &f = inv.format;
    if (args.has(json_opt)) {
        if (args.has(terse_opt) || args.has(fields_opt) || args.has(mode_opt))
            return alopex::failf(EINVAL, "--json cannot be combined with --terse, --fields or --mode");
        f.mode = cli::Format::Mode::json;
    } else if (args.has(terse_opt)) {
        f.mode = cli::Format::Mode::terse;
    }
    if (auto v = args.value(fields_opt))
        ALOPEX_TRY_VOID(cli::parse_fields(*v, f));
    if (auto v = args.value(mode_opt))
        ALOPEX_TRY_VOID(cli::parse_layout(*v, f));
    // What every command takes is not the command's to refuse.
    std::erase_if(args.options, [](const auto &o) {
        for (const auto &g : global_options)
            if (o.first->name == g.name)
                return true;
        return false;
    });
    ALOPEX_TRY(found, cli::find_command(commands, args));
    inv.what = Invocation::What::command;
    inv.found = std::move(found);
    return inv;
}

std::string usage(std::span<const cli::Command> commands)
{
    return fmt::format("Usage: alopexctl [OPTIONS] COMMAND\n"
                       "\n"
                       "Inspect and change the alopex network suite.\n"
                       "\n"
                       "Commands:\n"
                       "{}\n"
                       "Options:\n"
                       "{}{}\n"
                       "See alopexctl(1) and alopex(7).\n",
                       cli::commands_help(commands), cli::options_help(global_options),
                       cli::options_help(ledger_options()));
}

} // namespace alopexctl
