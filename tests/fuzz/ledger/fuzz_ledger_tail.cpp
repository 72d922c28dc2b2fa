// SPDX-License-Identifier: GPL-2.0-or-later
// What Writer::open reads at the end of a ledger (parse_tail) over arbitrary bytes: any
// verdict but a crash, and a verdict that is self-consistent: the torn bytes are exactly
// those after the last '\n', a last record exists exactly when a '\n' does, and it
// carries its own hash and survives to_line/parse_line.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "alopex/ledger.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace alopex::ledger;
    std::string_view tail(reinterpret_cast<const char *>(data), size);
    auto t = parse_tail(tail);
    size_t nl = tail.rfind('\n');
    if (!t) {
        if (nl == std::string_view::npos || t.error().message.empty())
            abort(); // without a complete line there is nothing to refuse
        return 0;
    }
    size_t expect_torn = nl == std::string_view::npos ? size : size - nl - 1;
    if (t->torn != expect_torn || t->last.has_value() != (nl != std::string_view::npos))
        abort();
    if (t->last) {
        if (compute_hash(*t->last) != t->last->hash)
            abort();
        auto again = parse_line(to_line(*t->last));
        if (!again || compute_hash(*again) != t->last->hash)
            abort();
    }
    return 0;
}
