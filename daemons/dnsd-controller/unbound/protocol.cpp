// SPDX-License-Identifier: GPL-2.0-or-later
#include "unbound/protocol.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "alopex/net.hpp"

namespace alopex::dns::unbound {

namespace {

constexpr size_t max_stats = 1'000'000;

Result<> check_text(std::string_view text, size_t max, std::string_view what)
{
    if (text.empty())
        return failf(EINVAL, "{}: empty", what);
    if (text.size() > max)
        return failf(EINVAL, "{}: {} bytes, unbound takes at most {}", what, text.size(), max);
    if (text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        return failf(EINVAL, "{}: holds a line break or a NUL byte: {}", what, net::quoted(text));
    return {};
}

bool starts_with_word(std::string_view line, std::string_view word)
{
    return line.starts_with(word) && (line.size() == word.size() || line[word.size()] == ' ' ||
                                      line[word.size()] == ':' || line[word.size()] == '\t');
}

Result<int64_t> integer(std::string_view text)
{
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size())
        return failf(EINVAL, "not a number: {}", net::quoted(text));
    return v;
}

bool stats_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

// "000000.524288" -> 0.524288 (unbound's histogram bounds: 6 digits . 6 digits).
bool parse_bound(std::string_view text, double &out)
{
    size_t dot = text.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size())
        return false;
    int64_t s = 0, us = 0;
    auto a = std::from_chars(text.data(), text.data() + dot, s);
    auto b = std::from_chars(text.data() + dot + 1, text.data() + text.size(), us);
    if (a.ec != std::errc() || a.ptr != text.data() + dot || b.ec != std::errc() ||
        b.ptr != text.data() + text.size() || s < 0 || us < 0 || us >= 1'000'000)
        return false;
    out = double(s) + double(us) / 1e6;
    return true;
}

} // namespace

Result<std::string> request(std::string_view command)
{
    ALOPEX_TRY_VOID(check_text(command, max_command, "unbound command"));
    return "UBCT1 " + std::string(command) + "\n";
}

Result<std::string> data_line(std::string_view line)
{
    ALOPEX_TRY_VOID(check_text(line, max_data_line, "unbound data line"));
    if (line == "\x04")
        return failf(EINVAL, "unbound data line: the end marker itself");
    return std::string(line) + "\n";
}

std::vector<std::string> Reply::errors() const
{
    std::vector<std::string> out;
    for (const auto &l : lines)
        if (l.starts_with("error"))
            out.push_back(l);
    return out;
}

Result<Reply> parse_reply(std::string_view bytes)
{
    if (bytes.empty())
        return failf(EPROTO, "unbound closed the connection without a reply (it refused the command)");
    if (bytes.find('\0') != std::string_view::npos)
        return failf(EPROTO, "unbound's reply holds a NUL byte: not unbound's text");
    Reply r;
    size_t start = 0;
    while (start < bytes.size()) {
        size_t end = bytes.find('\n', start);
        std::string_view line = bytes.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        r.lines.emplace_back(line);
        if (end == std::string_view::npos)
            break;
        start = end + 1;
    }
    return r;
}

Result<> expect_ok(const Reply &r, std::string_view command)
{
    if (!r.lines.empty() && starts_with_word(r.lines.front(), "ok"))
        return {};
    std::string first = r.lines.empty() ? std::string() : r.lines.front();
    return failf(EIO, "unbound refused '{}': {}", command.substr(0, 80), net::quoted(first.substr(0, 300)));
}

std::string Version::to_string() const { return fmt::format("{}.{}.{}", major, minor, patch); }

Result<Version> parse_version(std::string_view text)
{
    Version v;
    int *parts[3] = {&v.major, &v.minor, &v.patch};
    const char *p = text.data(), *end = text.data() + text.size();
    for (int i = 0; i < 3; ++i) {
        auto [next, ec] = std::from_chars(p, end, *parts[i]);
        if (ec != std::errc() || *parts[i] < 0 || *parts[i] > 1000)
            return failf(EPROTO, "not an unbound version: {}", net::quoted(text));
        p = next;
        if (i < 2) {
            if (p == end || *p != '.')
                return failf(EPROTO, "not an unbound version: {}", net::quoted(text));
            ++p;
        }
    }
    return v;
}

Result<Status> parse_status(const Reply &r)
{
    Status s;
    bool have_version = false, running = false;
    for (const auto &line : r.lines) {
        std::string_view l = line;
        if (l.starts_with("version: ")) {
            s.version_text = std::string(l.substr(9));
            ALOPEX_TRY(v, parse_version(s.version_text));
            s.version = v;
            have_version = true;
        } else if (l.starts_with("uptime: ")) {
            auto words = l.substr(8);
            auto n = integer(words.substr(0, words.find(' ')));
            if (n && *n >= 0)
                s.uptime_s = uint64_t(*n);
        } else if (l.starts_with("threads: ")) {
            auto n = integer(l.substr(9));
            if (n && *n > 0 && *n < 100000)
                s.threads = unsigned(*n);
        } else if (l.starts_with("unbound (pid ") && l.ends_with(") is running...")) {
            auto n = integer(l.substr(13, l.size() - 13 - 15));
            if (!n || *n <= 0)
                return failf(EPROTO, "unbound's status: a bad pid line {}", net::quoted(l.substr(0, 100)));
            s.pid = *n;
            running = true;
        }
    }
    if (!have_version || !running) {
        std::string first = r.lines.empty() ? std::string() : r.lines.front();
        return failf(EPROTO, "not unbound's status (no {} line): {}", have_version ? "'is running'" : "version",
                     net::quoted(first.substr(0, 200)));
    }
    return s;
}

Features features_of(const Version &v)
{
    Features f;
    f.reload_keep_cache = v >= Version{1, 17, 1};
    f.forward_tls_flag = v >= Version{1, 20, 0};
    f.bulk_empty_line_ends = v >= Version{1, 19, 0};
    return f;
}

Result<Stats> parse_stats(const Reply &r)
{
    Stats out;
    size_t n = 0;
    for (const auto &line : r.lines) {
        ++n;
        if (line.empty())
            continue;
        size_t eq = line.find('=');
        if (eq == std::string::npos || eq == 0)
            return failf(EPROTO, "unbound's statistics, line {}: not key=value: {}", n,
                         net::quoted(std::string_view(line).substr(0, 200)));
        std::string_view key = std::string_view(line).substr(0, eq), value = std::string_view(line).substr(eq + 1);
        if (key.size() > 200 || !std::all_of(key.begin(), key.end(), stats_key_char))
            return failf(EPROTO, "unbound's statistics, line {}: a bad key {}", n, net::quoted(key.substr(0, 200)));
        double v = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(v) || v < 0)
            return failf(EPROTO, "unbound's statistics, line {}: {} is not a number: {}", n, key,
                         net::quoted(value.substr(0, 100)));
        if (out.size() >= max_stats)
            return failf(EPROTO, "unbound's statistics: more than {} values", max_stats);
        out.insert_or_assign(std::string(key), v);
    }
    if (out.empty())
        return failf(EPROTO, "unbound's statistics: no values");
    return out;
}

std::vector<Bucket> histogram(const Stats &s)
{
    std::vector<Bucket> out;
    constexpr std::string_view prefix = "histogram.";
    for (auto it = s.lower_bound(prefix); it != s.end() && it->first.starts_with(prefix); ++it) {
        std::string_view rest = std::string_view(it->first).substr(prefix.size());
        size_t to = rest.find(".to.");
        Bucket b;
        if (to == std::string_view::npos || !parse_bound(rest.substr(0, to), b.from) ||
            !parse_bound(rest.substr(to + 4), b.to) || b.to <= b.from)
            continue;
        b.count = it->second;
        out.push_back(b);
    }
    std::sort(out.begin(), out.end(), [](const Bucket &a, const Bucket &b) { return a.from < b.from; });
    for (size_t i = 1; i < out.size(); ++i)
        if (out[i].from < out[i - 1].to)
            return {};   // overlapping buckets: not unbound's histogram
    return out;
}

double quantile(const std::vector<Bucket> &h, double q)
{
    double total = 0;
    for (const auto &b : h)
        total += b.count;
    if (total <= 0)
        return 0;
    double want = std::clamp(q, 0.0, 1.0) * total, seen = 0;
    for (const auto &b : h) {
        if (b.count > 0 && seen + b.count >= want)
            return b.from + (b.to - b.from) * ((want - seen) / b.count);
        seen += b.count;
    }
    return h.back().to;
}

Result<uint64_t> bulk_count(const Reply &r, std::string_view command)
{
    for (auto it = r.lines.rbegin(); it != r.lines.rend(); ++it) {
        std::string_view l = *it;
        if (!l.starts_with("added ") && !l.starts_with("removed "))
            continue;
        l.remove_prefix(l.find(' ') + 1);
        auto n = integer(l.substr(0, l.find(' ')));
        if (n && *n >= 0)
            return uint64_t(*n);
    }
    std::string last = r.lines.empty() ? std::string() : r.lines.back();
    return failf(EIO, "unbound's answer to '{}' has no summary: {}", command.substr(0, 80),
                 net::quoted(std::string_view(last).substr(0, 300)));
}

} // namespace alopex::dns::unbound
