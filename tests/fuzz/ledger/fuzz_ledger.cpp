// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes through verify() and parse_line(): any verdict but a crash; a verdict
// is self-consistent, and a line that parses survives to_line/parse_line unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "alopex/ledger.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace alopex::ledger;
    std::string_view text(reinterpret_cast<const char *>(data), size);
    Verdict v = verify(text);
    if (v.ok != (v.bad_line == 0) || (!v.ok && v.reason.empty()))
        abort();
    if (!v.ok && v.bad_line != v.records + 1)
        abort();
    size_t nl = text.find('\n');
    auto r = parse_line(text.substr(0, nl));
    if (r) {
        auto again = parse_line(to_line(*r));
        if (!again || again->seq != r->seq || again->details != r->details ||
            canonical(*again) != canonical(*r))
            abort();
    }
    return 0;
}
