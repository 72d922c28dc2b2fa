// SPDX-License-Identifier: GPL-2.0-or-later
#include "args.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "output.hpp"

namespace alopex::cli {

// ---- Args -------------------------------------------------------------------------------

bool Args::has(std::string_view name) const { return value(name).has_value(); }

std::optional<std::string_view> Args::value(std::string_view name) const
{
    std::optional<std::string_view> v;
    for (const auto &[spec, val] : options)
        if (spec->name == name)
            v = val;
    return v;
}

std::vector<std::string_view> Args::values(std::string_view name) const
{
    std::vector<std::string_view> out;
    for (const auto &[spec, val] : options)
        if (spec->name == name)
            out.push_back(val);
    return out;
}

std::optional<std::string_view> Args::other_than(std::span<const std::string_view> allowed) const
{
    for (const auto &[spec, _] : options)
        if (std::find(allowed.begin(), allowed.end(), spec->name) == allowed.end())
            return spec->name;
    return std::nullopt;
}

namespace {

std::string prefix(std::string_view context) { return context.empty() ? std::string() : std::string(context) + ": "; }

// "-5" and "-" are words (a negative number is a value the command refuses itself).
bool is_option(std::string_view a)
{
    return a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9');
}

} // namespace

Result<Args> parse_args(std::span<const std::string_view> argv, std::span<const OptionSpec> specs,
                        std::string_view context, std::span<const std::string_view> raw_words)
{
    Args out;
    bool only_words = false;
    for (size_t i = 0; i < argv.size(); ++i) {
        std::string_view a = argv[i];
        if (only_words || !is_option(a)) {
            out.words.push_back(a);
            if (out.words.size() == 1 && std::find(raw_words.begin(), raw_words.end(), a) != raw_words.end()) {
                out.raw.assign(argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, argv.end());
                break;
            }
            continue;
        }
        if (a == "--") {
            only_words = true;
            continue;
        }
        std::string_view name = a;
        std::optional<std::string_view> inline_value;
        if (a.starts_with("--")) {
            if (auto eq = a.find('='); eq != std::string_view::npos) {
                name = a.substr(0, eq);
                inline_value = a.substr(eq + 1);
            }
        }
        const OptionSpec *spec = nullptr;
        for (const auto &s : specs)
            if (s.name == name || (a.size() == 2 && s.short_name && a[1] == s.short_name))
                spec = &s;
        if (!spec) {
            out.unknown.push_back(a);
            continue;
        }
        std::string_view v;
        if (spec->takes_value()) {
            if (inline_value)
                v = *inline_value;
            else if (i + 1 < argv.size())
                v = argv[++i];
            else
                return failf(EINVAL, "{}{}: missing value", prefix(context), spec->name);
            if (!spec->repeatable && out.has(spec->name))
                return failf(EINVAL, "{}{} given twice", prefix(context), spec->name);
        } else if (inline_value) {
            return failf(EINVAL, "{}{} takes no value", prefix(context), spec->name);
        }
        out.options.emplace_back(spec, v);
    }
    return out;
}

namespace {

// "  WHAT" padded to `col`, then the help lines (on the next line when WHAT is too long).
std::string help_line(const std::string &what, std::string_view help, size_t col = 27)
{
    std::string out = "  " + what;
    std::string pad(col, ' ');
    if (help.empty())
        return out + "\n";
    if (out.size() + 1 > col)
        out += "\n" + pad;
    else
        out += std::string(col - out.size(), ' ');
    for (;;) {
        auto nl = help.find('\n');
        out += std::string(help.substr(0, nl)) + "\n";
        if (nl == std::string_view::npos)
            return out;
        help.remove_prefix(nl + 1);
        out += pad;
    }
}

bool word_matches(std::string_view spec, std::string_view word)
{
    for (;;) {
        auto bar = spec.find('|');
        if (spec.substr(0, bar) == word)
            return true;
        if (bar == std::string_view::npos)
            return false;
        spec.remove_prefix(bar + 1);
    }
}

std::string first_alias(std::string_view w) { return std::string(w.substr(0, w.find('|'))); }

// Leading words of `words` that `c` matches.
size_t matched(const Command &c, std::span<const std::string_view> words)
{
    size_t k = 0;
    while (k < c.words.size() && k < words.size() && word_matches(c.words[k], words[k]))
        ++k;
    return k;
}

std::string either(const std::vector<std::string> &v)
{
    std::string out;
    for (size_t i = 0; i < v.size(); ++i)
        out += (i == 0 ? "" : i + 1 == v.size() ? " or " : ", ") + v[i];
    return out;
}

} // namespace

std::string command_name(const Command &c)
{
    std::string out;
    for (auto w : c.words)
        out += (out.empty() ? "" : " ") + first_alias(w);
    return out;
}

Result<Found> find_command(std::span<const Command> commands, const Args &args)
{
    const auto &words = args.words;
    if (words.empty())
        return failf(EINVAL, "missing command");
    const Command *best = nullptr;
    size_t best_len = 0, deepest = 0;
    bool best_full = false;
    for (const auto &c : commands) {
        size_t k = matched(c, words);
        deepest = std::max(deepest, k);
        bool full = k == c.words.size();
        bool implied = c.implied && k + 1 == c.words.size() && words.size() == k;   // "link" alone
        if (!full && !implied)
            continue;
        if (!best || k > best_len || (k == best_len && full && !best_full)) {
            best = &c;
            best_len = k;
            best_full = full;
        }
    }
    if (!best) {
        if (deepest == 0)
            return failf(EINVAL, "unknown command '{}'", printable(words[0]));
        std::string at;
        for (size_t i = 0; i < deepest; ++i)
            at += (i ? " " : "") + std::string(words[i]);
        std::vector<std::string> next;
        for (const auto &c : commands)
            if (matched(c, words) == deepest && c.words.size() > deepest) {
                auto w = first_alias(c.words[deepest]);
                if (std::find(next.begin(), next.end(), w) == next.end())
                    next.push_back(w);
            }
        if (words.size() == deepest)
            return failf(EINVAL, "{}: missing subcommand ({})", at, either(next));
        return failf(EINVAL, "{}: unknown subcommand '{}' ({})", at, printable(words[deepest]), either(next));
    }
    std::string name = command_name(*best);
    if (!args.unknown.empty())
        return failf(EINVAL, "{}: unknown option '{}'", name, printable(args.unknown.front()));
    if (auto other = args.other_than(best->options)) {
        std::vector<std::string> takers;
        for (const auto &c : commands)
            if (std::find(c.options.begin(), c.options.end(), *other) != c.options.end())
                takers.push_back("'" + command_name(c) + "'");
        if (takers.empty())
            return failf(EINVAL, "{}: unknown option '{}'", name, *other);
        return failf(EINVAL, "{}: {} applies to {} only", name, *other, either(takers));
    }
    Found f{best, args};
    f.args.words.assign(words.begin() + static_cast<std::ptrdiff_t>(std::min(best_len, words.size())), words.end());
    return f;
}

std::string commands_help(std::span<const Command> commands)
{
    std::string out;
    for (const auto &c : commands) {
        if (c.help.empty())
            continue;
        std::string what = command_name(c);
        if (c.implied)
            what = what.substr(0, what.rfind(' ')) + " [" + first_alias(c.words.back()) + "]";
        if (!c.args.empty())
            what += " " + std::string(c.args);
        out += help_line(what, c.help);
    }
    return out;
}

std::string options_help(std::span<const OptionSpec> specs)
{
    std::string out;
    for (const auto &s : specs) {
        if (s.help.empty())
            continue;
        std::string what = s.short_name ? fmt::format("-{}, {}", s.short_name, s.name) : "    " + std::string(s.name);
        if (s.takes_value())
            what += " " + std::string(s.value);
        out += help_line(what, s.help);
    }
    return out;
}

Result<> count_words(std::span<const std::string_view> words, size_t min, size_t max, std::string_view group,
                     std::string_view usage)
{
    if (words.size() < min)
        return failf(EINVAL, "{} {}: missing argument", group, usage);
    if (words.size() > max)
        return failf(EINVAL, "{} {}: unexpected argument '{}'", group, usage, printable(words[max]));
    return {};
}

} // namespace alopex::cli
