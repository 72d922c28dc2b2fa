// SPDX-License-Identifier: GPL-2.0-or-later
#include "table.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace alopexctl {

size_t display_width(std::string_view s)
{
    // Counts code points: every byte that is not a UTF-8 continuation byte.
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::string format_table(const Row &header, const std::vector<Row> &rows)
{
    std::vector<size_t> width(header.size(), 0);
    auto measure = [&](const Row &r) {
        for (size_t i = 0; i < r.size() && i < width.size(); i++)
            width[i] = std::max(width[i], display_width(r[i]));
    };
    measure(header);
    for (const auto &r : rows)
        measure(r);

    std::string out;
    auto line = [&](const Row &r) {
        std::string l;
        for (size_t i = 0; i < width.size(); i++) {
            std::string_view cell = i < r.size() ? std::string_view(r[i]) : std::string_view();
            if (i > 0)
                l += "  ";
            l += cell;
            if (i + 1 < width.size())
                l.append(width[i] - display_width(cell), ' ');
        }
        while (!l.empty() && l.back() == ' ')
            l.pop_back();
        out += l;
        out += '\n';
    };
    line(header);
    for (const auto &r : rows)
        line(r);
    return out;
}

std::string printable(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\\')
            out += "\\\\";
        else if (u < 0x20 || u == 0x7f)
            out += fmt::format("\\x{:02x}", u);
        else
            out += c;
    }
    return out;
}

std::string ellipsize(std::string_view s, size_t max)
{
    if (display_width(s) <= max)
        return std::string(s);
    if (max == 0)
        return {};
    std::string out;
    size_t points = 0;
    for (char c : s) {
        bool starts = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        if (starts && ++points > max - 1)
            break;
        out += c;
    }
    return out + "…";
}

} // namespace alopexctl

namespace alopexctl {

int report_error(const alopex::Error &e)
{
    const std::string_view name = e.bus_name;
    if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
        name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
        fmt::print(stderr, "alopexctl: not running: {}\n", printable(e.message));
        return exit_not_running;
    }
    if (!name.empty())
        fmt::print(stderr, "alopexctl: {}: {}\n", name, printable(e.message));
    else
        fmt::print(stderr, "alopexctl: {}\n", printable(e.message));
    return exit_failure;
}

} // namespace alopexctl
