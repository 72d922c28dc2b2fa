// SPDX-License-Identifier: GPL-2.0-or-later
// owned.json ($RUNTIME_DIRECTORY/owned.json): what linkd created (netdevs, addresses,
// routes), so a restarted linkd still removes only what it made. Pure: text in, values
// out. The file is linkd's own, but it is read back as untrusted bytes: every field is
// checked (interface names, address families, addresses, prefix lengths, 8- and 32-bit
// numbers in range), the text is bounded, and anything else makes the file invalid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "alopex/error.hpp"
#include "plan.hpp"

namespace alopex::linkd::profile {

inline constexpr size_t max_owned_file = 4 * 1024 * 1024;

// {"netdevs": [name...], "addresses": [[ifindex, family, address, prefixlen]...],
//  "routes": [[family, table, dst, dst_len, tos, priority, oif, type]...]}
std::string format_owned(const Owned &owned);
// The error (EINVAL) says which entry is wrong ("addresses[3]: prefixlen 40 > 32").
Result<Owned> parse_owned(std::string_view text);

} // namespace alopex::linkd::profile
