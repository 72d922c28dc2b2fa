// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-slirp.toml(5): one PPP instance's settings. Every refusal is
// "file:line:col: message"; nothing here opens anything (load_settings() reads the file).
//
//   [addresses]
//   local = "10.0.0.1"        # slirpd's own, virtual
//   peer = "10.0.0.2"         # what the peer is given
//   dns = ["10.0.0.1"]        # what the peer is offered as DNS (at most 2; [] offers none)
//   [dns]
//   upstreams = ["192.0.2.53"]  # where the DNS proxy sends the peer's queries (port 53);
//                               # default: the nameservers of /etc/resolv.conf at start
//   [ppp]
//   mru = 1500                # 128..1500
//   echo_interval = 30        # seconds, 0: no keepalive
//   echo_failures = 4         # 1..100
//
// The line, port maps and limits come with the steps that use them (issue 11).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/net.hpp"
#include "link.hpp"

namespace alopex::slirp {

struct Settings {
    std::string source;        // the file, "" for defaults
    ppp::LinkConfig link;      // addresses, DNS, MRU, echo keepalive
    // The DNS proxy's upstreams (port 53); nullopt: /etc/resolv.conf's, read at start.
    std::optional<std::vector<net::Address>> dns_upstreams;
};

// The nameserver lines of a resolv.conf, at most 3 (as the resolver reads them); lines
// it would not take (a bad address, trailing words) are skipped.
std::vector<net::Address> parse_resolv_conf(std::string_view text);

// The defaults: 10.0.0.1 and 10.0.0.2, DNS 10.0.0.1, MRU 1500, echoes every 30 s, 4 missed.
Settings default_settings();

Result<Settings> parse_settings(std::string_view text, std::string file);
// The file must be there (--config names it).
Result<Settings> load_settings(const std::filesystem::path &p);

} // namespace alopex::slirp
