// SPDX-License-Identifier: GPL-2.0-or-later
// Names of the named counter objects and their inverse. '.' separates the fields: nft's
// parser takes it in an object name (':' would make `nft list ruleset` output that
// `nft -f` refuses), and zone names never contain it.
#include <charconv>

#include <fmt/format.h>

#include "compile/internal.hpp"

namespace alopex::fwd::compile {

std::string counter_name(const CounterId &id)
{
    switch (id.kind) {
    case CounterId::Kind::zone: return fmt::format("z.{}.{}", id.zone, id.hook);
    case CounterId::Kind::zone_drop: return fmt::format("zd.{}.{}", id.zone, id.hook);
    case CounterId::Kind::rule: return fmt::format("r.{}.{}", id.zone, id.index);
    case CounterId::Kind::runtime: return fmt::format("rt.{}", id.index);
    case CounterId::Kind::unzoned: return "unzoned";
    }
    return {};
}

namespace {

std::optional<uint64_t> parse_u64(std::string_view s)
{
    if (s.empty() || (s.size() > 1 && s[0] == '0'))
        return std::nullopt;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

bool valid_hook(std::string_view h) { return h == "input" || h == "forward" || h == "output"; }

} // namespace

std::optional<CounterId> parse_counter_name(std::string_view name)
{
    if (name == "unzoned")
        return CounterId{CounterId::Kind::unzoned, {}, {}, 0};
    const auto colon = name.find('.');
    if (colon == std::string_view::npos)
        return std::nullopt;
    const std::string_view kind = name.substr(0, colon), rest = name.substr(colon + 1);
    if (kind == "rt") {
        auto id = parse_u64(rest);
        if (!id)
            return std::nullopt;
        return CounterId{CounterId::Kind::runtime, {}, {}, *id};
    }
    // Zone names hold no '.', so the last field starts after the next one.
    const auto colon2 = rest.find('.');
    if (colon2 == std::string_view::npos)
        return std::nullopt;
    const std::string_view zone = rest.substr(0, colon2), last = rest.substr(colon2 + 1);
    if (!detail::valid_name(zone))
        return std::nullopt;
    if (kind == "z" || kind == "zd") {
        if (!valid_hook(last))
            return std::nullopt;
        return CounterId{kind == "z" ? CounterId::Kind::zone : CounterId::Kind::zone_drop,
                         std::string(zone), std::string(last), 0};
    }
    if (kind == "r") {
        auto idx = parse_u64(last);
        if (!idx)
            return std::nullopt;
        return CounterId{CounterId::Kind::rule, std::string(zone), {}, *idx};
    }
    return std::nullopt;
}

} // namespace alopex::fwd::compile
