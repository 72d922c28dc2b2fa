// SPDX-License-Identifier: GPL-2.0-or-later
// Names and small values: enums, ICMP type names, ct states, rates, ports, names, comments.
#include <algorithm>
#include <array>
#include <utility>

#include "config.hpp"
#include "internal.hpp"

namespace alopex::fwd::config {

namespace {

template <typename E, size_t N>
std::optional<E> lookup(const std::array<std::pair<std::string_view, E>, N> &t, std::string_view s)
{
    for (auto &[n, v] : t)
        if (n == s)
            return v;
    return std::nullopt;
}
template <typename E, size_t N>
std::string_view name_of(const std::array<std::pair<std::string_view, E>, N> &t, E e)
{
    for (auto &[n, v] : t)
        if (v == e)
            return n;
    return "?";
}

constexpr std::array<std::pair<std::string_view, Family>, 3> families{
    {{"both", Family::both}, {"ipv4", Family::ipv4}, {"ipv6", Family::ipv6}}};
constexpr std::array<std::pair<std::string_view, Proto>, 5> protos{
    {{"any", Proto::any}, {"tcp", Proto::tcp}, {"udp", Proto::udp}, {"icmp", Proto::icmp},
     {"icmpv6", Proto::icmpv6}}};
constexpr std::array<std::pair<std::string_view, Hook>, 3> hooks{
    {{"input", Hook::input}, {"forward", Hook::forward}, {"output", Hook::output}}};
constexpr std::array<std::pair<std::string_view, Verdict>, 3> verdicts{
    {{"accept", Verdict::accept}, {"drop", Verdict::drop}, {"reject", Verdict::reject}}};
constexpr std::array<std::pair<std::string_view, RejectWith>, 5> rejects{
    {{"port-unreachable", RejectWith::port_unreachable},
     {"admin-prohibited", RejectWith::admin_prohibited},
     {"host-unreachable", RejectWith::host_unreachable},
     {"no-route", RejectWith::no_route},
     {"tcp-reset", RejectWith::tcp_reset}}};

// nft's names first (canonical), then common aliases.
constexpr std::array<std::pair<std::string_view, uint8_t>, 16> icmp4{{
    {"echo-reply", 0}, {"destination-unreachable", 3}, {"source-quench", 4}, {"redirect", 5},
    {"echo-request", 8}, {"router-advertisement", 9}, {"router-solicitation", 10},
    {"time-exceeded", 11}, {"parameter-problem", 12}, {"timestamp-request", 13},
    {"timestamp-reply", 14}, {"info-request", 15}, {"info-reply", 16},
    {"address-mask-request", 17}, {"address-mask-reply", 18}, {"ping", 8}}};
constexpr std::array<std::pair<std::string_view, uint8_t>, 25> icmp6{{
    {"destination-unreachable", 1}, {"packet-too-big", 2}, {"time-exceeded", 3},
    {"parameter-problem", 4}, {"echo-request", 128}, {"echo-reply", 129},
    {"mld-listener-query", 130}, {"mld-listener-report", 131}, {"mld-listener-done", 132},
    {"nd-router-solicit", 133}, {"nd-router-advert", 134}, {"nd-neighbor-solicit", 135},
    {"nd-neighbor-advert", 136}, {"nd-redirect", 137}, {"router-renumbering", 138},
    {"ind-neighbor-solicit", 141}, {"ind-neighbor-advert", 142}, {"mld2-listener-report", 143},
    // aliases
    {"mld-listener-reduction", 132}, {"router-solicitation", 133},
    {"router-advertisement", 134}, {"neighbor-solicitation", 135},
    {"neighbor-advertisement", 136}, {"redirect", 137}, {"ping", 128}}};

constexpr std::array<std::pair<std::string_view, uint32_t>, 5> ct_states{
    {{"new", ct::new_}, {"established", ct::established}, {"related", ct::related},
     {"invalid", ct::invalid}, {"untracked", ct::untracked}}};

constexpr std::array<std::pair<std::string_view, uint64_t>, 4> rate_units{
    {{"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}}};

constexpr int64_t max_rate = 1'000'000'000;

} // namespace

std::string_view to_string(Verdict v) { return name_of(verdicts, v); }
std::string_view to_string(Hook h) { return name_of(hooks, h); }
std::string_view to_string(Proto p) { return name_of(protos, p); }
std::string_view to_string(Family f) { return name_of(families, f); }
std::string_view to_string(RejectWith r) { return name_of(rejects, r); }
bool valid_name(std::string_view name) { return detail::check_name(name).has_value(); }

namespace detail {

std::optional<Family> family_from(std::string_view s) { return lookup(families, s); }
std::optional<Proto> proto_from(std::string_view s) { return lookup(protos, s); }
std::optional<Hook> hook_from(std::string_view s) { return lookup(hooks, s); }
std::optional<Verdict> verdict_from(std::string_view s) { return lookup(verdicts, s); }
std::optional<RejectWith> reject_with_from(std::string_view s) { return lookup(rejects, s); }

std::optional<uint8_t> icmp_type_by_name(Proto p, std::string_view name)
{
    if (p == Proto::icmp)
        return lookup(icmp4, name);
    if (p == Proto::icmpv6)
        return lookup(icmp6, name);
    return std::nullopt;
}

std::optional<std::string_view> icmp_type_name(Proto p, uint8_t type)
{
    auto find = [&](const auto &t) -> std::optional<std::string_view> {
        for (auto &[n, v] : t)
            if (v == type)
                return n;
        return std::nullopt;
    };
    if (p == Proto::icmp)
        return find(icmp4);
    if (p == Proto::icmpv6)
        return find(icmp6);
    return std::nullopt;
}

std::optional<uint32_t> ct_bit_by_name(std::string_view name) { return lookup(ct_states, name); }

std::vector<std::string_view> ct_names(uint32_t bits)
{
    std::vector<std::string_view> out;
    for (auto &[n, b] : ct_states)
        if (bits & b)
            out.push_back(n);
    return out;
}

std::expected<int64_t, std::string> parse_decimal(std::string_view text, int64_t max)
{
    if (text.empty())
        return std::unexpected(std::string("empty number"));
    bool neg = text.front() == '-';
    auto digits = neg ? text.substr(1) : text;
    if (digits.empty() || digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::unexpected(fmt::format("'{}' is not a number", text.substr(0, 40)));
    if (digits.size() > 1 && digits.front() == '0')
        return std::unexpected(fmt::format("'{}' has a leading zero", text.substr(0, 40)));
    int64_t v = 0;
    for (char c : digits)
        v = v * 10 + (c - '0');
    if (neg)
        v = -v;
    if (v > max)
        return std::unexpected(fmt::format("{} is too large (at most {})", v, max));
    return v;
}

std::expected<bool, std::string> parse_bool_text(std::string_view text)
{
    if (text == "yes" || text == "true" || text == "on" || text == "1")
        return true;
    if (text == "no" || text == "false" || text == "off" || text == "0")
        return false;
    return std::unexpected(fmt::format("'{}' is not yes or no", text.substr(0, 40)));
}

std::expected<PortRange, std::string> port_from_int(int64_t v)
{
    if (v < 1 || v > 65535)
        return std::unexpected(fmt::format("{} is not a port (1..65535)", v));
    return PortRange{static_cast<uint16_t>(v), static_cast<uint16_t>(v)};
}

std::expected<PortRange, std::string> parse_port_text(std::string_view text)
{
    auto one = [](std::string_view s) -> std::expected<uint16_t, std::string> {
        // Enough digits to say "70000 is not a port", not enough to overflow.
        auto v = parse_decimal(s, 999'999'999'999'999'999);
        if (!v)
            return std::unexpected(fmt::format("'{}' is not a port (1..65535)", s.substr(0, 40)));
        auto p = port_from_int(*v);
        if (!p)
            return std::unexpected(p.error());
        return p->first;
    };
    auto dash = text.find('-', 1); // a leading '-' is a sign: "-5" is not a port
    if (dash == std::string_view::npos) {
        auto p = one(text);
        if (!p)
            return std::unexpected(p.error());
        return PortRange{*p, *p};
    }
    auto a = one(text.substr(0, dash));
    if (!a)
        return std::unexpected(a.error());
    auto b = one(text.substr(dash + 1));
    if (!b)
        return std::unexpected(b.error());
    if (*a > *b)
        return std::unexpected(fmt::format("'{}' is not a range (first > last)", text));
    return PortRange{*a, *b};
}

std::expected<RateLimit, std::string> parse_rate(std::string_view text)
{
    auto bad = [&] {
        return std::unexpected(fmt::format(
            "'{}' is not a rate like 10/second (units: second, minute, hour, day)", text.substr(0, 40)));
    };
    auto slash = text.find('/');
    if (slash == std::string_view::npos)
        return bad();
    auto unit = lookup(rate_units, text.substr(slash + 1));
    if (!unit)
        return bad();
    auto n = parse_decimal(text.substr(0, slash), max_rate);
    if (!n)
        return std::unexpected(fmt::format("rate: {}", n.error()));
    if (*n < 1)
        return std::unexpected(fmt::format("'{}': the rate must be at least 1", text.substr(0, 40)));
    return RateLimit{static_cast<uint64_t>(*n), *unit, 5};
}

std::string format_rate(const RateLimit &r)
{
    for (auto &[n, u] : rate_units)
        if (u == r.unit_s)
            return fmt::format("{}/{}", r.rate, n);
    return fmt::format("{}/second", r.rate); // unreachable for parsed rates
}

std::expected<void, std::string> check_name(std::string_view name)
{
    if (name.empty() || name.size() > 20 ||
        !std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-';
        }))
        return std::unexpected(std::string("must be 1..20 characters of A-Z a-z 0-9 _ -"));
    return {};
}

std::expected<void, std::string> check_log_prefix(std::string_view text)
{
    if (text.size() > 127)
        return std::unexpected(fmt::format("too long ({} bytes, at most 127)", text.size()));
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; }))
        return std::unexpected(std::string("may only hold printable ASCII"));
    return {};
}

std::expected<void, std::string> check_comment(std::string_view text)
{
    if (text.size() > 127)
        return std::unexpected(fmt::format("too long ({} bytes, at most 127)", text.size()));
    auto b = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    for (size_t i = 0; i < text.size();) {
        unsigned char c = b(i);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return std::unexpected(std::string("must not hold control characters"));
            ++i;
            continue;
        }
        size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || i + n > text.size())
            return std::unexpected(std::string("is not valid UTF-8"));
        uint32_t cp = c & (0x7F >> n);
        for (size_t k = 1; k < n; ++k) {
            if ((b(i + k) & 0xC0) != 0x80)
                return std::unexpected(std::string("is not valid UTF-8"));
            cp = (cp << 6) | (b(i + k) & 0x3F);
        }
        static constexpr uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return std::unexpected(std::string("is not valid UTF-8"));
        if ((cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
            (cp >= 0x2066 && cp <= 0x2069))
            return std::unexpected(std::string("must not hold control characters"));
        i += n;
    }
    return {};
}

} // namespace detail
} // namespace alopex::fwd::config
