// SPDX-License-Identifier: GPL-2.0-or-later
#include <vector>

#include "config.hpp"
#include "managed_block.hpp"

namespace alopex::broker {

std::vector<Line> split_lines(std::string_view s)
{
    std::vector<Line> out;
    size_t start = 0;
    while (start < s.size()) {
        size_t nl = s.find('\n', start);
        size_t stop = nl == std::string_view::npos ? s.size() : nl;
        std::string_view text = s.substr(start, stop - start);
        if (!text.empty() && text.back() == '\r')
            text.remove_suffix(1);
        size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
        out.push_back(Line{start, end, text});
        start = end;
    }
    return out;
}

namespace {

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// "#", blanks, then `word` (any case) ending the line or followed by a blank.
bool marker_like(std::string_view text, std::string_view word)
{
    size_t i = 0;
    auto skip_blanks = [&] {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
            ++i;
    };
    skip_blanks();
    if (i >= text.size() || text[i] != '#')
        return false;
    ++i;
    skip_blanks();
    if (text.size() - i < word.size())
        return false;
    for (size_t k = 0; k < word.size(); ++k)
        if (upper(text[i + k]) != word[k])
            return false;
    i += word.size();
    return i == text.size() || text[i] == ' ' || text[i] == '\t';
}

} // namespace

Result<void> check_no_markers(std::string_view contents)
{
    for (const auto &l : split_lines(contents))
        if (marker_like(l.text, "BEGIN") || marker_like(l.text, "END"))
            return bus_fail(bus_error::InvalidArgument,
                            "contents: must not contain a marker line ('# BEGIN ...' or "
                            "'# END ...', of any tag)");
    return {};
}

Result<void> validate_tag(std::string_view tag)
{
    if (!valid_name(tag))
        return bus_fail(bus_error::InvalidArgument,
                        "tag: must be 1..64 characters of [A-Za-z0-9._:@-]");
    return {};
}

Result<std::string> replace_block(std::string_view file, std::string_view tag,
                                  std::string_view contents)
{
    if (auto r = validate_tag(tag); !r)
        return std::unexpected<Error>(std::move(r.error()));
    const std::string begin = "# BEGIN " + std::string(tag);
    const std::string end = "# END " + std::string(tag);

    if (auto r = check_no_markers(contents); !r)
        return std::unexpected<Error>(std::move(r.error()));

    size_t nbegin = 0, nend = 0;
    const Line *b = nullptr, *e = nullptr;
    auto lines = split_lines(file);
    for (const auto &l : lines) {
        if (l.text == begin) {
            ++nbegin;
            b = &l;
        } else if (l.text == end) {
            ++nend;
            e = &l;
        }
    }
    if (nbegin != 1)
        return bus_fail(bus_error::BadMarkers, "the file has {} '{}' lines, needs exactly one",
                        nbegin, begin);
    if (nend != 1)
        return bus_fail(bus_error::BadMarkers, "the file has {} '{}' lines, needs exactly one",
                        nend, end);
    if (e->start < b->end)
        return bus_fail(bus_error::BadMarkers, "'{}' comes before '{}'", end, begin);
    if (b->end == b->start || file[b->end - 1] != '\n')
        return bus_fail(bus_error::BadMarkers, "'{}' is not a complete line", begin);

    std::string out;
    out.reserve(file.size() + contents.size() + 1);
    out.append(file.substr(0, b->end));
    out.append(contents);
    if (!contents.empty() && contents.back() != '\n')
        out.push_back('\n');
    out.append(file.substr(e->start));
    return out;
}

} // namespace alopex::broker
