// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as broker.toml through the broker's schema: any outcome but a crash,
// and every refusal names the file with a position.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);
    auto users = [](const std::string &name) -> std::optional<uid_t> {
        if (name == "root")
            return 0;
        if (name.starts_with("alopex-"))
            return 900 + static_cast<uid_t>(name.size());
        return std::nullopt;
    };
    auto r = alopex::broker::parse_config(text, "broker.toml", users);
    if (!r && !r.error().message.starts_with("broker.toml:"))
        abort();
    if (r && (r->max_contents == 0 || r->max_contents > alopex::broker::max_max_contents))
        abort();
    if (r && (r->record_rate == 0 || r->record_rate > alopex::broker::max_record_limit ||
              r->record_burst == 0 || r->record_burst > alopex::broker::max_record_limit))
        abort();
    // Every block has a valid tag, and no two share a path and tag.
    for (size_t i = 0; r && i < r->blocks.size(); ++i) {
        if (!alopex::broker::valid_name(r->blocks[i].tag))
            abort();
        for (size_t k = 0; k < i; ++k)
            if (r->blocks[k].path == r->blocks[i].path && r->blocks[k].tag == r->blocks[i].tag)
                abort();
    }
    return 0;
}
