// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-settings: bytes as alopex-slirp.toml, as /etc/resolv.conf and as [auth]'s
// secrets (pppd's format). What parses must be usable: IPv4 local and peer that differ
// (a client's: any local, no peer), at most what IPCP can offer, values in their ranges,
// at most 3 upstreams of either kind, [listen] ports not 0, secrets with names.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "secrets.hpp"
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
    if (auto secrets = parse_secrets(text, "fuzz.secrets", "alopex-slirpd")) {
        for (const auto &[name, secret] : *secrets)
            if (name.empty() || name.size() > 255 || secret.size() > 255)
                std::abort();
    } else if (secrets.error().message.find("fuzz.secrets:") != 0) {
        std::abort();
    }
    auto s = parse_settings(text, "fuzz.toml");
    if (!s) {
        if (s.error().message.empty())
            std::abort();
        return 0;
    }
    const auto &l = s->link;
    bool client = s->mode == Role::Client;
    if (!l.ipcp.local.is_v4() || (!client && (!l.ipcp.peer.is_v4() || l.ipcp.local == l.ipcp.peer)))
        std::abort();
    if (client != l.ipcp.client || (client && (!s->tcp_ports.empty() || !s->auth.protocols.empty())))
        std::abort();
    for (const auto &x : s->listens)
        if (x.bind.port == 0 || x.port == 0 || s->mode == Role::Host)
            std::abort();
    if (!s->auth.protocols.empty() && s->auth.secrets_file.empty() == s->auth.secrets_credential.empty())
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
