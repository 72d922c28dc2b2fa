// SPDX-License-Identifier: GPL-2.0-or-later
// The interfaces validator and the marker check over arbitrary contents. Any verdict but
// a crash; a refusal is InvalidArgument naming `contents`; and what passes is checked
// again here, line by line, against what ifupdown must never see from a caller: a hook or
// an include, ovs_extra, a continuation, a control character, an option line that is not
// ovs_*, a value word starting with '-', or a marker line.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "block_validator.hpp"
#include "managed_block.hpp"

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

void check_line(std::string_view line)
{
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    for (char c : line)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
            abort();
    if (!line.empty() && line.back() == '\\')
        abort();
    size_t i = 0;
    while (i < line.size() && is_blank(line[i]))
        ++i;
    if (i == line.size() || line[i] == '#')
        return;
    std::string_view rest = line.substr(i);
    std::string_view first = rest.substr(0, rest.find_first_of(" \t"));
    for (std::string_view bad : {"up", "down", "pre-up", "post-up", "pre-down", "post-down",
                                 "source", "source-directory", "mapping", "ovs_extra"})
        if (first == bad)
            abort();
    if (i > 0 && !first.starts_with("ovs_"))
        abort();
    if (i == 0 && first != "auto" && first != "iface" && !first.starts_with("allow-"))
        abort();
    if (i > 0) {
        for (size_t k = first.size(); k + 1 < rest.size(); ++k)
            if (is_blank(rest[k]) && rest[k + 1] == '-')
                abort(); // an option-like value word
        if (rest.find_first_of("$`;|&<>*?[]'\"\\(){}~!#") != std::string_view::npos)
            abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace alopex;
    std::string_view contents(reinterpret_cast<const char *>(data), size);
    auto v = broker::validate_block(broker::Validator::interfaces, contents);
    auto m = broker::check_no_markers(contents);
    for (const auto *r : {&v, &m})
        if (!*r && (r->error().bus_name != bus_error::InvalidArgument ||
                    !r->error().message.starts_with("contents:")))
            abort();
    if (!v)
        return 0;
    size_t start = 0;
    while (start <= contents.size()) {
        size_t nl = contents.find('\n', start);
        size_t stop = nl == std::string_view::npos ? contents.size() : nl;
        check_line(contents.substr(start, stop - start));
        if (nl == std::string_view::npos)
            break;
        start = nl + 1;
    }
    if (m) {
        // What passes both checks fits between markers and keeps them findable.
        std::string file = "auto lo\n# BEGIN ovs\n# END ovs\n";
        auto edited = broker::replace_block(file, "ovs", contents);
        if (!edited || !broker::replace_block(*edited, "ovs", contents))
            abort();
    }
    return 0;
}
