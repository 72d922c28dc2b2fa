// SPDX-License-Identifier: GPL-2.0-or-later
// linkd.toml: the daemon's own settings (not the link profiles). See alopex-linkd.toml(5).
//
//   [connectivity]
//   probe = "192.0.2.1:443"   # "a.b.c.d:port" or "[v6]:port"; absent or "" = no probing
//   interval = 300            # seconds between probes (5..86400)
//   timeout = 5               # seconds for one TCP connect (1..60)
//   [netlink]
//   receive_buffer = 8388608  # bytes for the rtnetlink monitor socket (4096..1 GiB)
//
// The probe endpoint is an IP literal on purpose: a host name would make "full" depend on
// DNS (itself a product of connectivity) and resolving it would block the event loop in
// getaddrinfo(). Pure code: no sockets, only the file read in load_settings().
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "alopex/error.hpp"
#include "alopex/net.hpp"

namespace alopex::linkd {

inline constexpr std::chrono::seconds default_probe_interval{300};
inline constexpr std::chrono::seconds min_probe_interval{5}, max_probe_interval{86400};
inline constexpr std::chrono::seconds default_probe_timeout{5};
inline constexpr std::chrono::seconds min_probe_timeout{1}, max_probe_timeout{60};
inline constexpr int default_receive_buffer = 8 << 20;
inline constexpr int min_receive_buffer = 4096;
inline constexpr int max_receive_buffer = 1 << 30;

// A TCP endpoint given as an IP literal.
using Endpoint = net::Endpoint;

// net::parse_endpoint's "a.b.c.d:port" or "[v6]:port"; also refuses the unspecified,
// loopback, multicast and broadcast addresses (a probe to them says nothing about the
// network). The error names the fault.
Result<Endpoint> parse_endpoint(std::string_view text);

struct Settings {
    std::string source;                      // the file it came from ("" = defaults)
    std::optional<Endpoint> probe;           // nullopt: probing off
    std::chrono::seconds interval = default_probe_interval;
    std::chrono::seconds timeout = default_probe_timeout;
    int receive_buffer = default_receive_buffer;

    bool operator==(const Settings &) const = default;
};

// Parses linkd.toml text; `file` names it in errors ("file:line:col: message"). Unknown
// sections and keys, wrong types and values out of range are refused.
Result<Settings> parse_settings(std::string_view text, std::string file);
// Reads and parses the file; a missing file gives the defaults.
Result<Settings> load_settings(const std::filesystem::path &p);

} // namespace alopex::linkd
