// SPDX-License-Identifier: GPL-2.0-or-later
// Fields out of nlohmann::json exactly, for the files linkd writes and reads back
// (owned.json, pending checkpoints): integers only when they are JSON integers within
// range (never truncated or wrapped into another value), address families, addresses of
// their family (normalized as the netlink parser writes them), prefix lengths and
// interface names. Errors (EINVAL) say "<where>: <what>". Include only where
// nlohmann/json is included anyway.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "alopex/error.hpp"
#include "alopex/net.hpp"

namespace alopex::linkd {

template <typename T = int64_t>
std::optional<T> json_integer(const nlohmann::json &j, int64_t lo, int64_t hi)
{
    int64_t v = 0;
    if (j.is_number_unsigned()) {
        uint64_t u = j.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return std::nullopt;
        v = static_cast<int64_t>(u);
    } else if (j.is_number_integer()) {
        v = j.get<int64_t>();
    } else {
        return std::nullopt;
    }
    if (v < lo || v > hi)
        return std::nullopt;
    return static_cast<T>(v);
}

std::unexpected<Error> json_bad(std::string_view where, std::string_view what);
// The text as one JSON object: at most `max_size` bytes (refused before parsing), no
// exception, anything else an error.
Result<nlohmann::json> json_parse_object(std::string_view text, size_t max_size);
// top[key] when it is an array, else null.
const nlohmann::json *json_array(const nlohmann::json &top, const char *key);
// AF_INET or AF_INET6.
Result<uint8_t> json_family(const nlohmann::json &j, std::string_view where);
// An address of `family` (inet_pton's text); "" too when `allow_empty` (the empty
// address).
Result<net::Address> json_address(const nlohmann::json &j, uint8_t family, std::string_view where,
                                  bool allow_empty = false);
// 0..32 / 0..128.
Result<uint8_t> json_prefixlen(const nlohmann::json &j, uint8_t family, std::string_view where);
// An interface name (profile::valid_ifname).
Result<std::string> json_ifname(const nlohmann::json &j, std::string_view where);

} // namespace alopex::linkd
