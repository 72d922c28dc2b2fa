// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-slirp.toml(5): one PPP instance's settings. Every refusal is
// "file:line:col: message"; nothing here opens anything (load_settings() reads the file).
//
//   [addresses]
//   local = "10.0.0.1"        # slirpd's own, virtual
//   peer = "10.0.0.2"         # what the peer is given
//   dns = ["10.0.0.1"]        # what the peer is offered as DNS (at most 2; [] offers none)
//   [ppp]
//   mru = 1500                # 128..1500
//   echo_interval = 30        # seconds, 0: no keepalive
//   echo_failures = 4         # 1..100
//
// The line, port maps and limits come with the steps that use them (issue 11).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "alopex/error.hpp"
#include "link.hpp"

namespace alopex::slirp {

struct Settings {
    std::string source;        // the file, "" for defaults
    ppp::LinkConfig link;      // addresses, DNS, MRU, echo keepalive
};

// The defaults: 10.0.0.1 and 10.0.0.2, DNS 10.0.0.1, MRU 1500, echoes every 30 s, 4 missed.
Settings default_settings();

Result<Settings> parse_settings(std::string_view text, std::string file);
// A missing file means every default.
Result<Settings> load_settings(const std::filesystem::path &p);

} // namespace alopex::slirp
