// SPDX-License-Identifier: GPL-2.0-or-later
// The text of a pending checkpoint: one JSON object,
//   {"version": 1, "id": N, "boot_id": "<32 hex>", "deadline_boottime_usec": N,
//    "links": [[ifindex, name, up, mtu, master, kind, link, link_netns, vlan_id, stp,
//               bond_mode]...],
//    "addresses": [[ifindex, family, address, peer, prefixlen, scope, flags, valid_lft,
//                   preferred_lft, label, broadcast]...],   (broadcast: "" none; a file
//                   of an older linkd, without it: the prefix's, as linkd sets it)
//    "routes": [[family, table, protocol, scope, type, tos, dst, dst_len, gateway, oif,
//                priority, prefsrc]...],
//    "netdevs_created": [name...], "netdevs_deleted": [ifindex...]}
#include "checkpoint_file.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "profile/json_fields.hpp"

namespace alopex::linkd {
namespace {

using nlohmann::json;
constexpr int format_version = 1;
constexpr int64_t u32 = std::numeric_limits<uint32_t>::max();
constexpr int64_t i32 = std::numeric_limits<int32_t>::max();

// A link kind as the kernel names it (IFLA_INFO_KIND): "", "bridge", "ip6gre", ...
bool valid_kind(std::string_view k)
{
    return k.size() <= 32 && std::all_of(k.begin(), k.end(), [](unsigned char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '-' || c == '.';
           });
}

// IFA_LABEL: "" or an interface name with an optional ":alias" (IFNAMSIZ bound).
bool valid_label(std::string_view l)
{
    return l.size() <= 15 && std::all_of(l.begin(), l.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

template <typename T> Result<T> number(const json &j, int64_t lo, int64_t hi, std::string_view where,
                                       std::string_view field)
{
    auto v = json_integer<T>(j, lo, hi);
    if (!v)
        return json_bad(where, fmt::format("{} is not {}..{}", field, lo, hi));
    return *v;
}

Result<bool> boolean(const json &j, std::string_view where, std::string_view field)
{
    if (!j.is_boolean())
        return json_bad(where, fmt::format("{} is not a boolean", field));
    return j.get<bool>();
}

Result<std::pair<int, CheckpointState::LinkSnap>> link_entry(const json &e, std::string_view where)
{
    if (!e.is_array() || e.size() != 11)
        return json_bad(where, "not [ifindex, name, up, mtu, master, kind, link, link_netns, vlan_id, stp, bond_mode]");
    CheckpointState::LinkSnap l;
    ALOPEX_TRY(index, number<int>(e[0], 1, i32, where, "ifindex"));
    ALOPEX_TRY(name, json_ifname(e[1], where));
    ALOPEX_TRY(up, boolean(e[2], where, "up"));
    ALOPEX_TRY(mtu, number<uint32_t>(e[3], 0, u32, where, "mtu"));
    ALOPEX_TRY(master, number<int>(e[4], 0, i32, where, "master"));
    if (!e[5].is_string() || !valid_kind(e[5].get_ref<const std::string &>()))
        return json_bad(where, "kind is not a link kind");
    ALOPEX_TRY(link, number<int>(e[6], 0, i32, where, "link"));
    ALOPEX_TRY(netns, boolean(e[7], where, "link_netns"));
    ALOPEX_TRY(vlan, number<uint16_t>(e[8], 0, 4095, where, "vlan_id"));
    ALOPEX_TRY(stp, boolean(e[9], where, "stp"));
    ALOPEX_TRY(mode, number<uint8_t>(e[10], 0, 6, where, "bond_mode"));
    l.name = std::move(name);
    l.up = up;
    l.mtu = mtu;
    l.master = master;
    l.kind = e[5].get<std::string>();
    l.link = link;
    l.link_netns = netns;
    l.vlan_id = vlan;
    l.stp = stp;
    l.bond_mode = mode;
    return std::pair{index, std::move(l)};
}

Result<netlink::Address> address_entry(const json &e, std::string_view where)
{
    if (!e.is_array() || (e.size() != 10 && e.size() != 11))
        return json_bad(where, "not [ifindex, family, address, peer, prefixlen, scope, flags, valid_lft, "
                               "preferred_lft, label, broadcast]");
    netlink::Address a;
    ALOPEX_TRY(index, number<int>(e[0], 1, i32, where, "ifindex"));
    ALOPEX_TRY(family, json_family(e[1], where));
    ALOPEX_TRY(address, json_address(e[2], family, where));
    ALOPEX_TRY(peer, json_address(e[3], family, where, true));
    ALOPEX_TRY(prefixlen, json_prefixlen(e[4], family, where));
    ALOPEX_TRY(scope, number<uint8_t>(e[5], 0, 255, where, "scope"));
    ALOPEX_TRY(flags, number<uint32_t>(e[6], 0, u32, where, "flags"));
    ALOPEX_TRY(valid, number<uint32_t>(e[7], 0, u32, where, "valid_lft"));
    ALOPEX_TRY(preferred, number<uint32_t>(e[8], 0, u32, where, "preferred_lft"));
    if (!e[9].is_string() || !valid_label(e[9].get_ref<const std::string &>()))
        return json_bad(where, "label is not an address label");
    a.ifindex = index;
    a.family = family;
    a.address = std::move(address);
    a.peer = std::move(peer);
    a.prefixlen = prefixlen;
    a.scope = scope;
    a.flags = flags;
    a.valid_lft = valid;
    a.preferred_lft = preferred;
    a.label = e[9].get<std::string>();
    if (e.size() == 11) {
        ALOPEX_TRY(broadcast, json_address(e[10], family, where, true));
        a.broadcast = std::move(broadcast);
    } else if (family == AF_INET && prefixlen < 31) {
        a.broadcast = net::Prefix(a.address, prefixlen).last();
    }
    return a;
}

Result<netlink::Route> route_entry(const json &e, std::string_view where)
{
    if (!e.is_array() || e.size() != 12)
        return json_bad(where, "not [family, table, protocol, scope, type, tos, dst, dst_len, gateway, oif, "
                               "priority, prefsrc]");
    netlink::Route r;
    ALOPEX_TRY(family, json_family(e[0], where));
    ALOPEX_TRY(table, number<uint32_t>(e[1], 0, u32, where, "table"));
    ALOPEX_TRY(protocol, number<uint8_t>(e[2], 0, 255, where, "protocol"));
    ALOPEX_TRY(scope, number<uint8_t>(e[3], 0, 255, where, "scope"));
    ALOPEX_TRY(type, number<uint8_t>(e[4], 0, 255, where, "type"));
    ALOPEX_TRY(tos, number<uint8_t>(e[5], 0, 255, where, "tos"));
    ALOPEX_TRY(dst, json_address(e[6], family, where));
    ALOPEX_TRY(dst_len, json_prefixlen(e[7], family, where));
    ALOPEX_TRY(gateway, json_address(e[8], family, where, true));
    ALOPEX_TRY(oif, number<int>(e[9], 0, i32, where, "oif"));
    ALOPEX_TRY(priority, number<uint32_t>(e[10], 0, u32, where, "priority"));
    ALOPEX_TRY(prefsrc, json_address(e[11], family, where, true));
    r.family = family;
    r.table = table;
    r.protocol = protocol;
    r.scope = scope;
    r.type = type;
    r.tos = tos;
    r.dst = std::move(dst);
    r.dst_len = dst_len;
    r.gateway = std::move(gateway);
    r.oif = oif;
    r.priority = priority;
    r.prefsrc = std::move(prefsrc);
    return r;
}

bool valid_boot_id(const json &j)
{
    if (!j.is_string())
        return false;
    const auto &s = j.get_ref<const std::string &>();
    return s.size() == 32 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Reads top[key] (an array of at most `max` entries) through `entry`.
template <typename F> Result<void> each(const json &top, const char *key, size_t max, F &&entry)
{
    const json *a = json_array(top, key);
    if (!a)
        return failf(EINVAL, "{} is not an array", key);
    if (a->size() > max)
        return failf(EINVAL, "{}: more than {} entries", key, max);
    for (size_t i = 0; i < a->size(); ++i)
        if (auto r = entry((*a)[i], fmt::format("{}[{}]", key, i)); !r)
            return std::unexpected(r.error());
    return {};
}

} // namespace

std::string format_checkpoint(const CheckpointRecord &r)
{
    json links = json::array(), addresses = json::array(), routes = json::array();
    for (const auto &[index, l] : r.state.links)
        links.push_back({index, l.name, l.up, l.mtu, l.master, l.kind, l.link, l.link_netns, l.vlan_id, l.stp,
                         l.bond_mode});
    for (const auto &[k, a] : r.state.addresses)
        addresses.push_back({a.ifindex, a.family, a.address.to_string(), a.peer.to_string(), a.prefixlen, a.scope, a.flags, a.valid_lft,
                             a.preferred_lft, a.label, a.broadcast.to_string()});
    for (const auto &[k, x] : r.state.routes)
        routes.push_back({x.family, x.table, x.protocol, x.scope, x.type, x.tos, x.dst.to_string(), x.dst_len,
                          x.gateway.to_string(), x.oif, x.priority, x.prefsrc.to_string()});
    json top = {{"version", format_version},
                {"id", r.id},
                {"boot_id", r.boot_id},
                {"deadline_boottime_usec", r.deadline_usec},
                {"links", links},
                {"addresses", addresses},
                {"routes", routes},
                {"netdevs_created", r.netdevs.created},
                {"netdevs_deleted", r.netdevs.deleted}};
    return top.dump() + '\n';
}

Result<CheckpointRecord> parse_checkpoint(std::string_view text)
{
    ALOPEX_TRY(top, json_parse_object(text, max_checkpoint_file));
    auto version = top.find("version");
    if (version == top.end() || json_integer(*version, format_version, format_version) != format_version)
        return fail(EINVAL, "version: not 1");
    CheckpointRecord rec;
    auto field = [&](const char *key) -> const json & {
        static const json null;
        auto it = top.find(key);
        return it == top.end() ? null : *it;
    };
    auto id = json_integer<uint64_t>(field("id"), 1, max_checkpoint_number);
    if (!id)
        return failf(EINVAL, "id: not 1..{}", max_checkpoint_number);
    rec.id = *id;
    if (!valid_boot_id(field("boot_id")))
        return fail(EINVAL, "boot_id: not 32 hex digits");
    rec.boot_id = field("boot_id").get<std::string>();
    auto deadline = json_integer<uint64_t>(field("deadline_boottime_usec"), 0, max_checkpoint_number);
    if (!deadline)
        return failf(EINVAL, "deadline_boottime_usec: not 0..{}", max_checkpoint_number);
    rec.deadline_usec = *deadline;

    auto &s = rec.state;
    ALOPEX_TRY_VOID(each(top, "links", max_checkpoint_links, [&](const json &e, const std::string &w) -> Result<void> {
        ALOPEX_TRY(l, link_entry(e, w));
        if (!s.links.emplace(l.first, std::move(l.second)).second)
            return json_bad(w, "ifindex given twice");
        return {};
    }));
    ALOPEX_TRY_VOID(each(top, "addresses", max_checkpoint_addresses,
                         [&](const json &e, const std::string &w) -> Result<void> {
                             ALOPEX_TRY(a, address_entry(e, w));
                             if (!s.addresses.emplace(netlink::key_of(a), std::move(a)).second)
                                 return json_bad(w, "address given twice");
                             return {};
                         }));
    ALOPEX_TRY_VOID(each(top, "routes", max_checkpoint_routes, [&](const json &e, const std::string &w) -> Result<void> {
        ALOPEX_TRY(r, route_entry(e, w));
        if (!s.routes.emplace(netlink::key_of(r), std::move(r)).second)
            return json_bad(w, "route given twice");
        return {};
    }));
    ALOPEX_TRY_VOID(each(top, "netdevs_created", max_checkpoint_links,
                         [&](const json &e, const std::string &w) -> Result<void> {
                             ALOPEX_TRY(name, json_ifname(e, w));
                             rec.netdevs.created.insert(std::move(name));
                             return {};
                         }));
    ALOPEX_TRY_VOID(each(top, "netdevs_deleted", max_checkpoint_links,
                         [&](const json &e, const std::string &w) -> Result<void> {
                             ALOPEX_TRY(index, number<int>(e, 1, i32, w, "ifindex"));
                             rec.netdevs.deleted.insert(index);
                             return {};
                         }));
    return rec;
}

std::string checkpoint_file_name(uint64_t id)
{
    return fmt::format("checkpoint-{}.json", id);
}

std::optional<uint64_t> checkpoint_file_id(std::string_view name)
{
    constexpr std::string_view prefix = "checkpoint-", suffix = ".json";
    if (!name.starts_with(prefix) || !name.ends_with(suffix) || name.size() <= prefix.size() + suffix.size())
        return std::nullopt;
    std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.front() == '0')
        return std::nullopt;
    uint64_t id = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc() || p != digits.data() + digits.size() || id > max_checkpoint_number)
        return std::nullopt;
    return id;
}

} // namespace alopex::linkd
