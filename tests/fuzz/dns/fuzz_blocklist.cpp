// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-dns-blocklist: any bytes as a blocklist file. Whatever comes: no crash; a file
// accepted holds only valid lower-case domain names; a file refused names itself and a
// line.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "alopex/net.hpp"
#include "blocklist/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);
    auto r = alopex::dns::parse_blocklist(text, "f", {.max_line = 512, .max_entries = 1000});
    if (!r) {
        if (!r.error().message.starts_with("f:"))
            abort();
        return 0;
    }
    for (const auto *list : {&r->block, &r->allow})
        for (const auto &n : *list) {
            if (!alopex::net::valid_domain(n) || n.ends_with('.') || n.starts_with("*"))
                abort();
            for (char c : n)
                if (std::isupper(static_cast<unsigned char>(c)))
                    abort();
        }
    return 0;
}
