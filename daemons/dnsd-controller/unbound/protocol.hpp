// SPDX-License-Identifier: GPL-2.0-or-later
// unbound's remote-control protocol on its unix control socket (control-interface: /path,
// no TLS), the pure part: what is sent and what the replies mean. One command per
// connection: "UBCT1 <command>\n" in one write (unbound reads the 6-byte magic with one
// recv and closes without a word when it gets less); bulk commands (local_zones,
// local_zones_remove, local_datas, local_datas_remove) then take one item per line and
// end with the line "\x04\n" — the only end marker unbound 1.17.1 knows (an EOF or a
// half-close makes it spin). The reply is text lines until unbound closes; "ok" for
// simple commands, "error ..." lines for failures (for bulk commands among per-line
// errors, before a summary "added N zones"). Limits from unbound: a command of at most
// 1023 bytes after the magic, a data line of at most 2047.
//
// Every parser here takes bytes from the socket as untrusted: a reply that is empty,
// too long, holds NUL bytes or is not what the command answers is an error naming what
// was wrong, never a crash (tests/fuzz/dns).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::dns::unbound {

inline constexpr size_t max_command = 1023;     // bytes after "UBCT1 "
inline constexpr size_t max_data_line = 2047;   // bytes of one bulk line, without '\n'
inline constexpr std::string_view end_of_data = "\x04\n";

// "UBCT1 <command>\n"; the command must be 1..max_command bytes without CR, LF or NUL.
Result<std::string> request(std::string_view command);
// "<line>\n"; 1..max_data_line bytes without CR, LF or NUL.
Result<std::string> data_line(std::string_view line);

// A reply as lines (a last line without '\n' counts; CR before LF dropped).
struct Reply {
    std::vector<std::string> lines;
    // The lines that report an error ("error..."), in order.
    std::vector<std::string> errors() const;
};
// The bytes unbound sent before it closed. Empty: unbound refused the command without a
// word (bad framing, a line too long); a NUL byte: not unbound's text.
Result<Reply> parse_reply(std::string_view bytes);
// A simple command's reply: its first line is "ok" (or "ok ..."), else the error.
Result<> expect_ok(const Reply &r, std::string_view command);

struct Version {
    int major = 0, minor = 0, patch = 0;
    auto operator<=>(const Version &) const = default;
    std::string to_string() const;
};
// "1.17.1", "1.19.0rc1" (what follows the numbers is ignored).
Result<Version> parse_version(std::string_view text);

// The reply to `status`: "version: X" and "unbound (pid N) is running...".
struct Status {
    Version version;
    std::string version_text;
    int64_t pid = 0;
    uint64_t uptime_s = 0;
    unsigned threads = 0;
};
Result<Status> parse_status(const Reply &r);

// What this unbound can do, from its version.
struct Features {
    bool reload_keep_cache = false;   // 1.17.1
    bool forward_tls_flag = false;    // forward_add +t: 1.20.0
    bool bulk_empty_line_ends = false;   // 1.19.0; before, only "\x04\n" ends bulk data
};
Features features_of(const Version &v);

// The reply to `stats_noreset` / `stats`: key=value lines, values as numbers (counts,
// and seconds as S.uuuuuu or %g). Keys of [A-Za-z0-9._-]; at most 1,000,000 of them.
using Stats = std::map<std::string, double, std::less<>>;
Result<Stats> parse_stats(const Reply &r);

// unbound's answer-time histogram (extended-statistics): 40 buckets of cache-miss
// answers, from.to in seconds, in order. Keys that do not parse are left out; buckets
// that overlap make it empty (not unbound's).
struct Bucket {
    double from = 0, to = 0;
    double count = 0;
};
std::vector<Bucket> histogram(const Stats &s);
// The time (s) below which fraction q (0..1) of the answers in `h` fall: linear inside
// the bucket it lands in; 0 without answers.
double quantile(const std::vector<Bucket> &h, double q);

// A bulk command's summary: "added N zones" / "removed N datas" -> N; the per-line errors
// are Reply::errors().
Result<uint64_t> bulk_count(const Reply &r, std::string_view command);

} // namespace alopex::dns::unbound
