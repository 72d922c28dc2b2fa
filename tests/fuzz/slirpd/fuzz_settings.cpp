// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-settings: bytes as alopex-slirp.toml, and as /etc/resolv.conf. What parses
// must be usable: IPv4 local and peer that differ, at most what IPCP can offer, values in
// their ranges, at most 3 upstreams of either kind.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "settings.hpp"

using namespace alopex::slirp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);
    auto servers = parse_resolv_conf(text);
    if (servers.size() > 3)
        std::abort();
    for (const auto &a : servers)
        if (a.empty() || a.is_unspecified())
            std::abort();
    auto s = parse_settings(text, "fuzz.toml");
    if (!s) {
        if (s.error().message.empty())
            std::abort();
        return 0;
    }
    const auto &l = s->link;
    if (!l.ipcp.local.is_v4() || !l.ipcp.peer.is_v4() || l.ipcp.local == l.ipcp.peer)
        std::abort();
    if ((!l.ipcp.dns1.empty() && !l.ipcp.dns1.is_v4()) || (!l.ipcp.dns2.empty() && !l.ipcp.dns2.is_v4()))
        std::abort();
    if (l.lcp.mru < 128 || l.lcp.mru > 1500 || l.echo_failures < 1 || l.echo_failures > 100 ||
        l.echo_interval_usec > 3600'000'000ull)
        std::abort();
    if (s->dns_upstreams && s->dns_upstreams->size() > 3)
        std::abort();
    return 0;
}
