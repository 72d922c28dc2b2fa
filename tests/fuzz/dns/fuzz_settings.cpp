// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-dns-settings: arbitrary bytes as dns.toml. Any outcome but a crash; a refusal
// names the file; an accepted file holds values inside the documented bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "alopex/net.hpp"
#include "settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);
    auto r = alopex::dns::parse_settings(text, "dns.toml");
    if (!r) {
        if (!r.error().message.starts_with("dns.toml"))
            abort();
        return 0;
    }
    if (r->cache_max_ttl < r->cache_min_ttl || r->cache_max_ttl < 1 || r->cache_max_ttl > 604800 ||
        r->health_interval_s < 1 || r->health_interval_s > 3600 || r->health_timeout_ms < 100 ||
        r->health_timeout_ms > 30000 || r->health_failures < 1 || r->health_failures > 100 || r->chunk_ms < 5 ||
        r->chunk_ms > 200 || r->upstreams.size() > 16 || !r->control_socket.starts_with('/'))
        abort();
    for (const auto &u : r->upstreams)
        if (u.port == 0 || (!u.tls_name.empty() && !alopex::net::valid_domain(u.tls_name)))
            abort();
    for (const auto &a : r->allow)
        if (!alopex::net::valid_domain(a))
            abort();
    return 0;
}
