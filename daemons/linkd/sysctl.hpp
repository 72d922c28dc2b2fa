// SPDX-License-Identifier: GPL-2.0-or-later
// Per-link IPv6 sysctls for SLAAC (the kernel does the autoconfiguration; linkd only
// switches it): /proc/sys/net/ipv6/conf/<link>/{accept_ra,autoconf}.
#pragma once

#include <filesystem>
#include <string>

#include "alopex/error.hpp"

namespace alopex::linkd {

// slaac on: autoconf=1 and accept_ra=1 (2 when the link forwards, so RAs are still
// taken); off: autoconf=0, accept_ra=0. Writes only values that differ, so applying the
// same profile again writes nothing. `root` is /proc/sys/net/ipv6/conf normally.
// Returns whether anything was written.
Result<bool> set_slaac(const std::string &link, bool on,
                       const std::filesystem::path &root = "/proc/sys/net/ipv6/conf");

} // namespace alopex::linkd
