// SPDX-License-Identifier: GPL-2.0-or-later
// The managed-block editor over arbitrary input, split at the first two NUL bytes into
// file / tag / contents. On success every byte outside the block is kept and the edit
// is idempotent; on failure the error is one of the documented names.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "managed_block.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace alopex;
    std::string_view in(reinterpret_cast<const char *>(data), size);
    size_t a = in.find('\0');
    std::string_view file = in.substr(0, a);
    std::string_view rest = a == std::string_view::npos ? std::string_view() : in.substr(a + 1);
    size_t b = rest.find('\0');
    std::string_view tag = rest.substr(0, b);
    std::string_view contents =
        b == std::string_view::npos ? std::string_view("x\n") : rest.substr(b + 1);

    auto r = broker::replace_block(file, tag, contents);
    if (!r) {
        const auto &n = r.error().bus_name;
        if (n != bus_error::InvalidArgument && n != bus_error::BadMarkers)
            abort();
        return 0;
    }
    // The bytes up to and including the BEGIN line (a whole line equal to the marker,
    // CR allowed before LF), and from the END line on, are kept.
    std::string begin = "# BEGIN " + std::string(tag);
    size_t bl_end = std::string::npos;
    for (size_t start = 0; start < r->size();) {
        size_t nl = r->find('\n', start);
        if (nl == std::string::npos)
            break;
        std::string_view line = std::string_view(*r).substr(start, nl - start);
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        if (line == begin) {
            bl_end = nl;
            break;
        }
        start = nl + 1;
    }
    if (bl_end == std::string::npos || file.substr(0, bl_end + 1) != r->substr(0, bl_end + 1))
        abort();
    std::string body(contents);
    if (!body.empty() && body.back() != '\n')
        body.push_back('\n');
    if (r->compare(bl_end + 1, body.size(), body) != 0)
        abort();
    std::string_view tail = std::string_view(*r).substr(bl_end + 1 + body.size());
    if (!file.ends_with(tail))
        abort();
    auto again = broker::replace_block(*r, tag, contents);
    if (!again || *again != *r)
        abort();
    return 0;
}
