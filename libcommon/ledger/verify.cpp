// SPDX-License-Identifier: GPL-2.0-or-later
// Chain verification and whole-file reading.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "alopex/file.hpp"
#include "alopex/ledger.hpp"

namespace alopex::ledger {

namespace {

// Calls f(line, line_number) for each '\n'-terminated line, and for a final line without
// newline if non-empty. Stops when f returns false.
template <typename F> void for_each_line(std::string_view contents, F &&f)
{
    uint64_t no = 0;
    size_t start = 0;
    while (start < contents.size()) {
        size_t nl = contents.find('\n', start);
        size_t end = nl == std::string_view::npos ? contents.size() : nl;
        if (!f(contents.substr(start, end - start), ++no))
            return;
        if (nl == std::string_view::npos)
            break;
        start = nl + 1;
    }
}

} // namespace

Verdict verify(std::string_view contents)
{
    Verdict v;
    uint64_t expect_seq = 1;
    std::string expect_prev(zero_hash);
    for_each_line(contents, [&](std::string_view line, uint64_t no) {
        auto bad = [&](uint64_t seq, std::string reason) {
            v.ok = false;
            v.bad_line = no;
            v.bad_seq = seq;
            v.reason = std::move(reason);
            return false;
        };
        auto r = parse_line(line);
        if (!r)
            return bad(0, "parse error: " + r.error().message);
        if (r->seq != expect_seq)
            return bad(r->seq, fmt::format("seq gap: expected {}, found {}", expect_seq, r->seq));
        if (r->prev != expect_prev)
            return bad(r->seq, fmt::format("prev mismatch: expected {}, found {}", expect_prev,
                                           r->prev));
        std::string h = compute_hash(*r);
        if (h != r->hash)
            return bad(r->seq, fmt::format("hash mismatch: computed {}, recorded {}", h, r->hash));
        ++v.records;
        ++expect_seq;
        expect_prev = std::move(h);
        return true;
    });
    return v;
}

Result<Verdict> verify_file(const std::filesystem::path &p)
{
    auto text = read_regular_file(p);
    if (!text)
        return std::unexpected<Error>(std::move(text.error()));
    return verify(*text);
}

Result<std::vector<Record>> read_file(const std::filesystem::path &p)
{
    auto text = read_regular_file(p);
    if (!text)
        return std::unexpected<Error>(std::move(text.error()));
    std::vector<Record> out;
    std::optional<Error> err;
    for_each_line(*text, [&](std::string_view line, uint64_t no) {
        auto r = parse_line(line);
        if (!r) {
            err = Error{EINVAL, fmt::format("{}:{}: {}", p.string(), no, r.error().message), {}};
            return false;
        }
        out.push_back(std::move(*r));
        return true;
    });
    if (err)
        return std::unexpected<Error>(std::move(*err));
    return out;
}

} // namespace alopex::ledger
