// SPDX-License-Identifier: GPL-2.0-or-later
// Value checks shared by the profile schema and linkd's D-Bus boundary: interface names,
// name globs, DNS domains, zone names. Pure; errors carry a message without a position
// (the caller adds file:line:col). Addresses, prefixes and MACs are alopex/net.hpp's.
#pragma once

#include <string>
#include <string_view>

#include "alopex/error.hpp"
#include "alopex/net.hpp"

namespace alopex::linkd::profile {

// Kernel rules (dev_valid_name) plus printable ASCII only: net::valid_ifname.
using net::valid_ifname;

// A [match] name: an interface name or an fnmatch(3) glob of one (*, ?, [set], [!set],
// \x). Same byte rules as valid_ifname but up to 64 bytes; brackets must close and a
// trailing backslash is refused.
Result<> check_name_glob(std::string_view glob);
bool is_glob(std::string_view s);

// Search domains: net::valid_domain (alopex/net.hpp).

// A firewall zone name: 1..64 bytes of [A-Za-z0-9_.-].
bool valid_zone(std::string_view name);

} // namespace alopex::linkd::profile
