// SPDX-License-Identifier: GPL-2.0-or-later
#include "base_include.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace alopex::dns {

std::string base_include(const Settings &s, const std::string &dnstap_socket)
{
    std::vector<net::Address> listen = s.listen;
    if (listen.empty())
        listen = {*net::Address::parse("127.0.0.1"), *net::Address::parse("::1")};
    bool tls = std::any_of(s.upstreams.begin(), s.upstreams.end(), [](const Upstream &u) { return !u.tls_name.empty(); });
    std::string out = "# Written by alopex-dnsd-controller through alopex-brokerd: changes here are replaced.\n"
                      "server:\n";
    for (const auto &a : listen)
        out += fmt::format("    interface: {}\n", a.to_string());
    for (const auto &a : listen)
        out += fmt::format("    access-control: {}/{} allow\n", a.to_string(), a.family() == AF_INET ? 32 : 128);
    out += fmt::format("    cache-min-ttl: {}\n    cache-max-ttl: {}\n", s.cache_min_ttl, s.cache_max_ttl);
    out += fmt::format("    serve-expired: {}\n", s.serve_expired ? "yes" : "no");
    out += "    extended-statistics: yes\n";
    if (tls)
        out += fmt::format("    tls-upstream: yes\n    tls-cert-bundle: \"{}\"\n", ca_bundle);
    if (!s.upstreams.empty()) {
        out += "forward-zone:\n    name: \".\"\n";
        for (const auto &u : s.upstreams)
            out += fmt::format("    forward-addr: {}\n", u.forward_addr());
        if (tls)
            out += "    forward-tls-upstream: yes\n";
    }
    if (!dnstap_socket.empty())
        out += fmt::format("dnstap:\n    dnstap-enable: yes\n    dnstap-socket-path: \"{}\"\n"
                           "    dnstap-bidirectional: yes\n    dnstap-log-client-query-messages: yes\n"
                           "    dnstap-log-client-response-messages: yes\n",
                           dnstap_socket);
    return out;
}

} // namespace alopex::dns
