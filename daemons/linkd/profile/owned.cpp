// SPDX-License-Identifier: GPL-2.0-or-later
#include "owned.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "syntax.hpp"

namespace alopex::linkd::profile {
namespace {

using nlohmann::json;

// An integer of the JSON text within lo..hi, or nullopt (a float, a string, out of range).
std::optional<int64_t> integer(const json &j, int64_t lo, int64_t hi)
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
    return v;
}

std::unexpected<Error> bad(std::string_view where, std::string_view what)
{
    return failf(EINVAL, "{}: {}", where, what);
}

Result<uint8_t> family_of(const json &j, std::string_view where)
{
    auto f = integer(j, 0, 255);
    if (!f || (*f != AF_INET && *f != AF_INET6))
        return bad(where, "family is not AF_INET or AF_INET6");
    return static_cast<uint8_t>(*f);
}

// The address as the netlink parser writes it (inet_ntop), so it compares with kernel state.
Result<std::string> address_of(const json &j, uint8_t family, std::string_view where)
{
    if (!j.is_string())
        return bad(where, "address is not a string");
    auto ip = parse_ip(j.get_ref<const std::string &>(), family);
    if (!ip)
        return bad(where, "address is not an address of its family");
    return ip->address;
}

Result<uint8_t> prefixlen_of(const json &j, uint8_t family, std::string_view where)
{
    int64_t max = family == AF_INET ? 32 : 128;
    auto n = integer(j, 0, max);
    if (!n)
        return bad(where, fmt::format("prefix length is not 0..{}", max));
    return static_cast<uint8_t>(*n);
}

Result<netlink::AddressKey> address_entry(const json &a, std::string_view where)
{
    if (!a.is_array() || a.size() != 4)
        return bad(where, "not [ifindex, family, address, prefixlen]");
    netlink::AddressKey k;
    auto index = integer(a[0], 1, std::numeric_limits<int32_t>::max());
    if (!index)
        return bad(where, "ifindex is not 1..2^31-1");
    k.ifindex = static_cast<int>(*index);
    ALOPEX_TRY(family, family_of(a[1], where));
    ALOPEX_TRY(address, address_of(a[2], family, where));
    ALOPEX_TRY(prefixlen, prefixlen_of(a[3], family, where));
    k.family = family;
    k.address = std::move(address);
    k.prefixlen = prefixlen;
    return k;
}

Result<netlink::RouteKey> route_entry(const json &r, std::string_view where)
{
    if (!r.is_array() || r.size() != 8)
        return bad(where, "not [family, table, dst, dst_len, tos, priority, oif, type]");
    netlink::RouteKey k;
    ALOPEX_TRY(family, family_of(r[0], where));
    auto table = integer(r[1], 0, std::numeric_limits<uint32_t>::max());
    auto tos = integer(r[4], 0, 255);
    auto priority = integer(r[5], 0, std::numeric_limits<uint32_t>::max());
    auto oif = integer(r[6], 0, std::numeric_limits<int32_t>::max());
    auto type = integer(r[7], 0, 255);
    if (!table || !tos || !priority || !oif || !type)
        return bad(where, "table, tos, priority, oif or type out of range");
    ALOPEX_TRY(dst, address_of(r[2], family, where));
    ALOPEX_TRY(dst_len, prefixlen_of(r[3], family, where));
    k.family = family;
    k.table = static_cast<uint32_t>(*table);
    k.dst = std::move(dst);
    k.dst_len = dst_len;
    k.tos = static_cast<uint8_t>(*tos);
    k.priority = static_cast<uint32_t>(*priority);
    k.oif = static_cast<int>(*oif);
    k.type = static_cast<uint8_t>(*type);
    return k;
}

const json *array_member(const json &top, const char *key)
{
    auto it = top.find(key);
    return it != top.end() && it->is_array() ? &*it : nullptr;
}

} // namespace

std::string format_owned(const Owned &o)
{
    json addrs = json::array(), routes = json::array();
    for (const auto &a : o.addresses)
        addrs.push_back({a.ifindex, a.family, a.address, a.prefixlen});
    for (const auto &r : o.routes)
        routes.push_back({r.family, r.table, r.dst, r.dst_len, r.tos, r.priority, r.oif, r.type});
    json top = {{"netdevs", o.netdevs}, {"addresses", addrs}, {"routes", routes}};
    return top.dump() + '\n';
}

Result<Owned> parse_owned(std::string_view text)
{
    if (text.size() > max_owned_file)
        return failf(EINVAL, "over {} bytes", max_owned_file);
    json top = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (top.is_discarded())
        return fail(EINVAL, "not JSON");
    if (!top.is_object())
        return fail(EINVAL, "not a JSON object");
    const json *netdevs = array_member(top, "netdevs");
    const json *addresses = array_member(top, "addresses");
    const json *routes = array_member(top, "routes");
    if (!netdevs || !addresses || !routes)
        return fail(EINVAL, "netdevs, addresses and routes must be arrays");
    Owned o;
    for (size_t i = 0; i < netdevs->size(); ++i) {
        const json &n = (*netdevs)[i];
        if (!n.is_string() || !valid_ifname(n.get_ref<const std::string &>()))
            return bad(fmt::format("netdevs[{}]", i), "not an interface name");
        o.netdevs.insert(n.get<std::string>());
    }
    for (size_t i = 0; i < addresses->size(); ++i) {
        ALOPEX_TRY(k, address_entry((*addresses)[i], fmt::format("addresses[{}]", i)));
        o.addresses.insert(std::move(k));
    }
    for (size_t i = 0; i < routes->size(); ++i) {
        ALOPEX_TRY(k, route_entry((*routes)[i], fmt::format("routes[{}]", i)));
        o.routes.insert(std::move(k));
    }
    return o;
}

} // namespace alopex::linkd::profile
