// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-dns.toml(5), /etc/alopex/dns.toml: what dnsd-controller makes of the local
// unbound. Every refusal is "file:line:col: message"; nothing here opens anything but
// the file. A missing file is the defaults: unbound's own control socket, no upstream
// (unbound resolves from the root itself), no blocklist.
//
//   [unbound]
//   control_socket = "/run/unbound.ctl"   # its control-interface (a unix socket path)
//   listen = ["127.0.0.1", "::1"]        # what the base include makes it answer on (port 53)
//   cache_min_ttl = 0                    # s, 0..86400
//   cache_max_ttl = 86400                # s, 1..604800, >= cache_min_ttl
//   serve_expired = true                 # answer from the cache while upstreams are away
//   [[upstream]]                         # global forwarders, tried in this order
//   address = "9.9.9.9"                  # an IPv4 or IPv6 address
//   tls_name = "dns.quad9.net"           # DNS over TLS, authenticated as this name (else plain)
//   port = 853                           # default 853 with tls_name, 53 without
//   [health]
//   interval_s = 30                      # an upstream probed every interval (1..3600)
//   timeout_ms = 2000                    # a probe's answer within (100..30000)
//   failures = 3                         # probes failed in a row before it is taken out (1..100)
//   [blocklist]
//   files = ["/etc/alopex/dns/ads.txt"]  # hosts files, domain lists, adblock lines (absolute paths)
//   allow = ["good.example"]             # names never blocked (and their subdomains)
//   chunk_ms = 20                        # the longest a chunk of changes holds unbound (5..200)
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/net.hpp"

namespace alopex::dns {

struct Upstream {
    net::Address address;
    uint16_t port = 53;
    std::string tls_name;   // empty: plain DNS
    bool operator==(const Upstream &) const = default;
    // unbound's forward-addr text: "9.9.9.9@853#dns.quad9.net", "2001:db8::53@53".
    std::string forward_addr() const;
};

struct Settings {
    std::string control_socket = "/run/unbound.ctl";
    std::vector<net::Address> listen;   // empty: 127.0.0.1 and ::1
    uint32_t cache_min_ttl = 0, cache_max_ttl = 86400;
    bool serve_expired = true;
    std::vector<Upstream> upstreams;
    uint32_t health_interval_s = 30, health_timeout_ms = 2000, health_failures = 3;
    std::vector<std::filesystem::path> blocklist_files;
    std::vector<std::string> allow;   // blocklist_name()s
    uint32_t chunk_ms = 20;
};

Result<Settings> parse_settings(std::string_view text, std::string file);
// A missing file is the defaults.
Result<Settings> load_settings(const std::filesystem::path &path);

} // namespace alopex::dns
