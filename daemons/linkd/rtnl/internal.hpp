// SPDX-License-Identifier: GPL-2.0-or-later
// Shared by build.cpp and validate.cpp: field checks. Not installed.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string_view>

#include "rtnl.hpp"

namespace alopex::linkd::rtnl::detail {

// EINVAL "<field>: <problem>".
template <typename... A>
std::unexpected<Error> field_fail(std::string_view field, fmt::format_string<A...> f, A &&...args)
{
    return failf(EINVAL, "{}: {}", field, fmt::format(f, std::forward<A>(args)...));
}

Result<> check_family(uint8_t family, std::string_view field = "family");
// `address` is present and of `family`; the error names `field`.
Result<> check_address(uint8_t family, const net::Address &address, std::string_view field);
Result<> check_prefix(uint8_t family, unsigned len, std::string_view field);
Result<> check_ifindex(int ifindex, std::string_view field);

} // namespace alopex::linkd::rtnl::detail
