// SPDX-License-Identifier: GPL-2.0-or-later
// Command lines of the tools: declared options (long, optional short form, with or
// without a value) anywhere among the words, "--opt VALUE" / "--opt=VALUE" / "-o VALUE",
// "--" ending the options, and one command registry that finds the command by its words
// and writes the usage text. Pure: no I/O.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::cli {

struct OptionSpec {
    std::string_view name;          // "--tail"
    char short_name = 0;            // 'n' for "-n"
    std::string_view value{};       // the value's name in help ("N"); empty: a flag
    std::string_view help{};
    bool repeatable = false;        // otherwise given twice is an error
    bool takes_value() const noexcept { return !value.empty(); }
};

struct Args {
    std::vector<std::string_view> words;                               // in order
    std::vector<std::pair<const OptionSpec *, std::string_view>> options;   // in order
    std::vector<std::string_view> unknown;    // options nobody declared, as given
    std::vector<std::string_view> raw;        // after a raw command's words, untouched

    bool has(std::string_view name) const;
    std::optional<std::string_view> value(std::string_view name) const;   // the last one
    std::vector<std::string_view> values(std::string_view name) const;
    // The first option given that is not among `allowed` (nullopt: none).
    std::optional<std::string_view> other_than(std::span<const std::string_view> allowed) const;
};

// Splits `argv` into words and declared options. Errors ("CONTEXT: " first when context
// is set): "--opt: missing value", "--opt takes no value", "--opt given twice".
// Options that no spec declares are collected in Args::unknown (their caller knows best
// what to say). When the first word is one of `raw_words`, everything after it is
// Args::raw, unparsed.
Result<Args> parse_args(std::span<const std::string_view> argv, std::span<const OptionSpec> specs,
                        std::string_view context = {}, std::span<const std::string_view> raw_words = {});

// Option lines for a usage text: "  -n, --tail N            help".
std::string options_help(std::span<const OptionSpec> specs);

// ---- the command registry --------------------------------------------------------------

struct Command {
    std::vector<std::string_view> words;    // "link", "addr|address", "add": a word may list aliases
    std::string_view args{};                // what follows the words, for the usage text
    std::string_view help{};                // what it does; more lines with '\n'
    std::vector<std::string_view> options{};  // the declared options it takes
    std::function<int(const Args &)> run{};   // Args::words: those after the command's words
    bool raw = false;                       // everything after its words is Args::raw, unparsed
    bool implied = false;                   // its last word may be left out ("link" = "link list")
};

struct Found {
    const Command *command = nullptr;
    Args args;   // the words after the command's
};

// The command `args.words` names (the longest match). Errors name the word: "missing
// command", "unknown command 'x'", "link: unknown subcommand 'x'", and an option the
// command does not take: "ledger verify: --tail applies to 'ledger show' only".
Result<Found> find_command(std::span<const Command> commands, const Args &args);

// "link addr add" (the first alias of each word).
std::string command_name(const Command &c);

// "  link addr add LINK ADDRESS   help" lines, aligned.
std::string commands_help(std::span<const Command> commands);

} // namespace alopex::cli

namespace alopex::cli {

// A group of subcommands that parse into one request type (link, fw, ledger): each verb's
// words, usage and parser in one table, from which both the registry's commands and the
// pure parser unit tests use are made.
template <typename Req> struct Verb {
    std::vector<std::string_view> words;    // after the group's word; aliases with '|'
    std::string_view args;
    std::string_view help;
    Result<Req> (*parse)(const Args &);     // Args::words: those after the verb's words
    std::vector<std::string_view> options = {};
    bool implied = false;                   // the group's word alone means this verb
};

namespace detail {
template <typename Req> std::vector<Command> verb_commands(std::string_view group, std::span<const Verb<Req>> verbs)
{
    std::vector<Command> out;
    for (const auto &v : verbs) {
        Command c{{group}, v.args, v.help, v.options, nullptr, false, v.implied};
        c.words.insert(c.words.end(), v.words.begin(), v.words.end());
        out.push_back(std::move(c));
    }
    return out;
}
} // namespace detail

// Whether a verb got `min` to `max` words: else "GROUP USAGE: missing argument" or
// "GROUP USAGE: unexpected argument 'WORD'".
Result<> count_words(std::span<const std::string_view> words, size_t min, size_t max, std::string_view group,
                     std::string_view usage);

// The request `args` (whose words follow the group's word) asks for.
template <typename Req> Result<Req> parse_verb(std::string_view group, std::span<const Verb<Req>> verbs, Args args)
{
    auto commands = detail::verb_commands(group, verbs);
    args.words.insert(args.words.begin(), group);
    ALOPEX_TRY(found, find_command(commands, args));
    return verbs[static_cast<size_t>(found.command - commands.data())].parse(found.args);
}

// The verbs as registry commands: each parses its request and hands it to `run`, or
// hands `run` the parse error.
template <typename Req>
std::vector<Command> verb_commands(std::string_view group, std::span<const Verb<Req>> verbs,
                                   std::function<int(Result<Req>)> run)
{
    auto out = detail::verb_commands(group, verbs);
    for (size_t i = 0; i < out.size(); ++i)
        out[i].run = [parse = verbs[i].parse, run](const Args &a) { return run(parse(a)); };
    return out;
}

} // namespace alopex::cli
