// SPDX-License-Identifier: GPL-2.0-or-later
#include "blocklist/parse.hpp"

#include <algorithm>
#include <array>
#include <cerrno>

#include <fmt/format.h>

#include "alopex/net.hpp"

namespace alopex::dns {

namespace {

// What hosts files say about the machine itself, never blocked.
constexpr std::array<std::string_view, 12> own_names = {
    "localhost",     "localhost.localdomain", "local",          "broadcasthost",  "ip6-localhost", "ip6-loopback",
    "ip6-localnet",  "ip6-mcastprefix",       "ip6-allnodes",   "ip6-allrouters", "ip6-allhosts",  "0.0.0.0"};

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

bool is_address(std::string_view word)
{
    return word.find_first_of(".:") != std::string_view::npos && net::Address::parse(word).has_value();
}

std::vector<std::string_view> words(std::string_view s)
{
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
        size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t')
            ++j;
        if (j > i)
            out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// "||name^" or "@@||name^", with nothing after but "$important".
Result<std::string> adblock_name(std::string_view rule)
{
    rule.remove_prefix(2);
    size_t caret = rule.find('^');
    if (caret == std::string_view::npos)
        return failf(EINVAL, "an adblock rule without '^' is more than a name");
    std::string_view after = rule.substr(caret + 1);
    if (!after.empty() && after != "$important")
        return failf(EINVAL, "adblock options {} are more than a name", net::quoted(after));
    return blocklist_name(rule.substr(0, caret));
}

} // namespace

Result<std::string> blocklist_name(std::string_view name)
{
    if (name.starts_with("*."))
        name.remove_prefix(2);
    if (!net::valid_domain(name))
        return failf(EINVAL, "{} is not a domain name", net::quoted(name));
    if (name.ends_with('.'))
        name.remove_suffix(1);
    std::string out(name);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return out;
}

Result<ParsedList> parse_blocklist(std::string_view text, std::string_view what, BlocklistOptions options)
{
    ParsedList out;
    size_t line_no = 0, start = 0;
    auto at = [&](std::string_view why) {
        return failf(EINVAL, "{}:{}: {}", what, line_no, why);
    };
    while (start < text.size()) {
        ++line_no;
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view raw = text.substr(start, end - start);
        start = end + 1;
        if (raw.size() > options.max_line)
            return at(fmt::format("a line of {} bytes (at most {})", raw.size(), options.max_line));
        if (raw.find('\0') != std::string_view::npos)
            return at("a NUL byte: not a text file");
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == '!' || line.front() == '[')
            continue;
        if (line.starts_with("||") || line.starts_with("@@||")) {
            bool allow = line.starts_with("@@");
            auto name = adblock_name(allow ? line.substr(2) : line);
            if (!name)
                return at(name.error().message);
            (allow ? out.allow : out.block).push_back(std::move(*name));
        } else {
            // A comment after an entry follows a blank ("0.0.0.0 a.example # x"); a '#'
            // inside a word is no comment ("example.com##.banner", element hiding).
            for (size_t hash = line.find('#'); hash != std::string_view::npos; hash = line.find('#', hash + 1))
                if (line[hash - 1] == ' ' || line[hash - 1] == '\t') {
                    line = trim(line.substr(0, hash));
                    break;
                }
            auto w = words(line);
            if (w.empty())
                continue;
            bool hosts = is_address(w.front());
            if (hosts && w.size() == 1)
                return at(fmt::format("{}: an address without names", net::quoted(w.front())));
            if (!hosts && w.size() > 1)
                return at(fmt::format("{} is neither a hosts entry nor one name", net::quoted(line.substr(0, 100))));
            for (size_t i = hosts ? 1 : 0; i < w.size(); ++i) {
                if (hosts && std::find(own_names.begin(), own_names.end(), w[i]) != own_names.end())
                    continue;
                auto name = blocklist_name(w[i]);
                if (!name)
                    return at(name.error().message);
                out.block.push_back(std::move(*name));
            }
        }
        if (out.block.size() + out.allow.size() > options.max_entries)
            return at(fmt::format("more than {} entries", options.max_entries));
    }
    return out;
}

} // namespace alopex::dns
