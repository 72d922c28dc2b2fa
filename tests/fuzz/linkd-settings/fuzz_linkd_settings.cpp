// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as linkd.toml: any outcome but a crash. A refusal names the file; an
// accepted file holds values inside the documented bounds, and a probe endpoint that
// prints back parses to the same endpoint.
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "settings.hpp"

using namespace alopex::linkd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);
    auto r = parse_settings(text, "linkd.toml");
    if (!r) {
        if (!r.error().message.starts_with("linkd.toml"))
            abort();
        return 0;
    }
    if (r->interval < min_probe_interval || r->interval > max_probe_interval ||
        r->timeout < min_probe_timeout || r->timeout > max_probe_timeout ||
        r->receive_buffer < min_receive_buffer || r->receive_buffer > max_receive_buffer)
        abort();
    if (r->probe) {
        auto again = parse_endpoint(r->probe->to_string());
        if (!again || !(*again == *r->probe))
            abort();
    }
    // The endpoint parser on its own, on the raw bytes.
    if (auto e = parse_endpoint(text)) {
        if (e->port == 0 || (e->address.family() != AF_INET && e->address.family() != AF_INET6))
            abort();
    }
    return 0;
}
