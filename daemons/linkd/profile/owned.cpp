// SPDX-License-Identifier: GPL-2.0-or-later
#include "owned.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "json_fields.hpp"

namespace alopex::linkd::profile {
namespace {

using nlohmann::json;

Result<netlink::AddressKey> address_entry(const json &a, std::string_view where)
{
    if (!a.is_array() || a.size() != 4)
        return json_bad(where, "not [ifindex, family, address, prefixlen]");
    netlink::AddressKey k;
    auto index = json_integer(a[0], 1, std::numeric_limits<int32_t>::max());
    if (!index)
        return json_bad(where, "ifindex is not 1..2^31-1");
    k.ifindex = static_cast<int>(*index);
    ALOPEX_TRY(family, json_family(a[1], where));
    ALOPEX_TRY(address, json_address(a[2], family, where));
    ALOPEX_TRY(prefixlen, json_prefixlen(a[3], family, where));
    k.family = family;
    k.address = std::move(address);
    k.prefixlen = prefixlen;
    return k;
}

Result<netlink::RouteKey> route_entry(const json &r, std::string_view where)
{
    if (!r.is_array() || r.size() != 8)
        return json_bad(where, "not [family, table, dst, dst_len, tos, priority, oif, type]");
    netlink::RouteKey k;
    ALOPEX_TRY(family, json_family(r[0], where));
    auto table = json_integer(r[1], 0, std::numeric_limits<uint32_t>::max());
    auto tos = json_integer(r[4], 0, 255);
    auto priority = json_integer(r[5], 0, std::numeric_limits<uint32_t>::max());
    auto oif = json_integer(r[6], 0, std::numeric_limits<int32_t>::max());
    auto type = json_integer(r[7], 0, 255);
    if (!table || !tos || !priority || !oif || !type)
        return json_bad(where, "table, tos, priority, oif or type out of range");
    ALOPEX_TRY(dst, json_address(r[2], family, where));
    ALOPEX_TRY(dst_len, json_prefixlen(r[3], family, where));
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

} // namespace

std::string format_owned(const Owned &o)
{
    json addrs = json::array(), routes = json::array();
    for (const auto &a : o.addresses)
        addrs.push_back({a.ifindex, a.family, a.address.to_string(), a.prefixlen});
    for (const auto &r : o.routes)
        routes.push_back({r.family, r.table, r.dst.to_string(), r.dst_len, r.tos, r.priority, r.oif, r.type});
    json top = {{"netdevs", o.netdevs}, {"addresses", addrs}, {"routes", routes}};
    return top.dump() + '\n';
}

Result<Owned> parse_owned(std::string_view text)
{
    ALOPEX_TRY(top, json_parse_object(text, max_owned_file));
    const json *netdevs = json_array(top, "netdevs");
    const json *addresses = json_array(top, "addresses");
    const json *routes = json_array(top, "routes");
    if (!netdevs || !addresses || !routes)
        return fail(EINVAL, "netdevs, addresses and routes must be arrays");
    Owned o;
    for (size_t i = 0; i < netdevs->size(); ++i) {
        ALOPEX_TRY(name, json_ifname((*netdevs)[i], fmt::format("netdevs[{}]", i)));
        o.netdevs.insert(std::move(name));
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
