// SPDX-License-Identifier: GPL-2.0-or-later
#include "json_fields.hpp"

#include <sys/socket.h>

#include <fmt/format.h>

#include "syntax.hpp"

namespace alopex::linkd {

std::unexpected<Error> json_bad(std::string_view where, std::string_view what)
{
    return failf(EINVAL, "{}: {}", where, what);
}

Result<nlohmann::json> json_parse_object(std::string_view text, size_t max_size)
{
    if (text.size() > max_size)
        return failf(EINVAL, "over {} bytes", max_size);
    auto top = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (top.is_discarded())
        return fail(EINVAL, "not JSON");
    if (!top.is_object())
        return fail(EINVAL, "not a JSON object");
    return top;
}

const nlohmann::json *json_array(const nlohmann::json &top, const char *key)
{
    auto it = top.find(key);
    return it != top.end() && it->is_array() ? &*it : nullptr;
}

Result<uint8_t> json_family(const nlohmann::json &j, std::string_view where)
{
    auto f = json_integer(j, 0, 255);
    if (!f || (*f != AF_INET && *f != AF_INET6))
        return json_bad(where, "family is not AF_INET or AF_INET6");
    return static_cast<uint8_t>(*f);
}

Result<net::Address> json_address(const nlohmann::json &j, uint8_t family, std::string_view where,
                                  bool allow_empty)
{
    if (!j.is_string())
        return json_bad(where, "address is not a string");
    const auto &text = j.get_ref<const std::string &>();
    if (text.empty() && allow_empty)
        return net::Address();
    auto ip = net::Address::parse(text, family, "address");
    if (!ip)
        return json_bad(where, "address is not an address of its family");
    return *ip;
}

Result<uint8_t> json_prefixlen(const nlohmann::json &j, uint8_t family, std::string_view where)
{
    int64_t max = family == AF_INET ? 32 : 128;
    auto n = json_integer(j, 0, max);
    if (!n)
        return json_bad(where, fmt::format("prefix length is not 0..{}", max));
    return static_cast<uint8_t>(*n);
}

Result<std::string> json_ifname(const nlohmann::json &j, std::string_view where)
{
    if (!j.is_string() || !profile::valid_ifname(j.get_ref<const std::string &>()))
        return json_bad(where, "not an interface name");
    return j.get<std::string>();
}

} // namespace alopex::linkd
