// SPDX-License-Identifier: GPL-2.0-or-later
// Shared by build.cpp and validate.cpp: parsed addresses and field checks. Not installed.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "rtnl.hpp"

namespace alopex::linkd::rtnl::detail {

struct Ip {
    uint8_t family = 0;
    std::array<uint8_t, 16> bytes{};
    size_t len() const { return family == AF_INET ? 4 : 16; }
};

// EINVAL "<field>: <problem>".
template <typename... A>
std::unexpected<Error> field_fail(std::string_view field, fmt::format_string<A...> f, A &&...args)
{
    return failf(EINVAL, "{}: {}", field, fmt::format(f, std::forward<A>(args)...));
}

Result<> check_family(uint8_t family, std::string_view field = "family");
// inet_pton for `family`; the error names `field` and quotes the (sanitized) text.
Result<Ip> parse_ip(uint8_t family, std::string_view text, std::string_view field);
Result<> check_prefix(uint8_t family, unsigned len, std::string_view field);
Result<> check_ifindex(int ifindex, std::string_view field);
Result<> check_mac(const Mac &mac, std::string_view field);
// The IPv4 broadcast address of addr/prefixlen.
Ip broadcast_of(const Ip &addr, unsigned prefixlen);
// True if any bit beyond the first `prefixlen` is set.
bool host_bits_set(const Ip &addr, unsigned prefixlen);

} // namespace alopex::linkd::rtnl::detail
