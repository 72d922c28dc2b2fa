// SPDX-License-Identifier: GPL-2.0-or-later
// Snapshot bookkeeping: apply one message, diff two snapshots. Pure; no I/O.
#include "alopex/netlink/state.hpp"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>

namespace alopex::netlink {

AddressKey key_of(const Address &a) { return {a.ifindex, a.family, a.address, a.prefixlen}; }

RouteKey key_of(const Route &r)
{
    return {r.family, r.table, r.dst, r.dst_len, r.tos, r.priority, r.oif, r.type};
}

std::string_view to_string(Change c)
{
    static constexpr std::array<std::string_view, 3> names = {"new", "changed", "removed"};
    static_assert(names.size() == static_cast<size_t>(Change::Removed) + 1);
    return names[static_cast<size_t>(c)];
}

namespace {

// Inserts or replaces; returns the event, if any.
template <typename Map, typename K, typename V>
void upsert(Map &map, const K &key, const V &value, std::vector<Event> &out)
{
    auto it = map.find(key);
    if (it == map.end()) {
        map.emplace(key, value);
        out.push_back({Change::New, value, std::nullopt});
    } else if (!(it->second == value)) {
        Object prev = it->second;
        it->second = value;
        out.push_back({Change::Changed, value, std::move(prev)});
    }
}

template <typename Map, typename K> void erase(Map &map, const K &key, std::vector<Event> &out)
{
    auto it = map.find(key);
    if (it == map.end())
        return;
    out.push_back({Change::Removed, it->second, std::nullopt});
    map.erase(it);
}

template <typename Map, typename Pred> void erase_if(Map &map, Pred pred, std::vector<Event> &out)
{
    for (auto it = map.begin(); it != map.end();) {
        if (pred(it->second)) {
            out.push_back({Change::Removed, it->second, std::nullopt});
            it = map.erase(it);
        } else {
            ++it;
        }
    }
}

void apply_link(Snapshot &s, const Link &l, bool removed, std::vector<Event> &out)
{
    auto it = s.links.find(l.ifindex);
    if (removed) {
        // The kernel drops the link's addresses and routes without always saying so.
        erase_if(s.routes, [&](const Route &r) { return r.oif == l.ifindex; }, out);
        erase_if(s.addresses, [&](const Address &a) { return a.ifindex == l.ifindex; }, out);
        erase(s.links, l.ifindex, out);
        return;
    }
    bool was_up = it != s.links.end() && (it->second.flags & IFF_UP);
    if (was_up && !(l.flags & IFF_UP)) {
        // IPv4 flushes the routes through a link that goes down, silently; the local
        // routes of its addresses stay.
        erase_if(s.routes,
                 [&](const Route &r) { return r.family == AF_INET && r.oif == l.ifindex && r.type != RTN_LOCAL; },
                 out);
    }
    upsert(s.links, l.ifindex, l, out);
}

void remove_address(Snapshot &s, const Address &a, std::vector<Event> &out)
{
    erase(s.addresses, key_of(a), out);
    if (a.family != AF_INET)
        return;
    bool same_elsewhere = false, any_on_link = false;
    for (const auto &[k, x] : s.addresses) {
        if (x.family != AF_INET)
            continue;
        same_elsewhere |= x.address == a.address;
        any_on_link |= x.ifindex == a.ifindex;
    }
    // IPv4 flushes, silently, the routes preferring a source address that is gone
    // (fib_sync_down_addr) and every route through a link whose last IPv4 address went
    // (fib_disable_ip).
    if (!same_elsewhere)
        erase_if(s.routes, [&](const Route &r) { return r.family == AF_INET && r.prefsrc == a.address; }, out);
    if (!any_on_link)
        erase_if(s.routes, [&](const Route &r) { return r.family == AF_INET && r.oif == a.ifindex; }, out);
}

} // namespace

std::vector<Event> apply(Snapshot &s, const Message &m, const RouteFilter &filter)
{
    std::vector<Event> out;
    if (auto l = std::get_if<Link>(&m.object)) {
        apply_link(s, *l, m.removed, out);
    } else if (auto a = std::get_if<Address>(&m.object)) {
        if (m.removed)
            remove_address(s, *a, out);
        else
            upsert(s.addresses, key_of(*a), *a, out);
    } else if (auto r = std::get_if<Route>(&m.object)) {
        if (m.removed)
            erase(s.routes, key_of(*r), out);
        else if (!filter || filter(header_of(*r)))
            upsert(s.routes, key_of(*r), *r, out);
        else
            erase(s.routes, key_of(*r), out);  // replaced by one we do not keep
    }
    return out;
}

namespace {

template <typename Map> void removed(const Map &from, const Map &to, std::vector<Event> &out)
{
    for (const auto &[k, v] : from)
        if (!to.contains(k))
            out.push_back({Change::Removed, v, std::nullopt});
}

template <typename Map> void added_or_changed(const Map &from, const Map &to, std::vector<Event> &out)
{
    for (const auto &[k, v] : to) {
        auto it = from.find(k);
        if (it == from.end())
            out.push_back({Change::New, v, std::nullopt});
        else if (!(it->second == v))
            out.push_back({Change::Changed, v, Object(it->second)});
    }
}

} // namespace

std::vector<Event> diff(const Snapshot &from, const Snapshot &to)
{
    std::vector<Event> out;
    removed(from.routes, to.routes, out);
    removed(from.addresses, to.addresses, out);
    removed(from.links, to.links, out);
    added_or_changed(from.links, to.links, out);
    added_or_changed(from.addresses, to.addresses, out);
    added_or_changed(from.routes, to.routes, out);
    return out;
}

void fold(Snapshot &s, const Event &e)
{
    std::visit(
        [&](const auto &v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, Link>) {
                if (e.change == Change::Removed)
                    s.links.erase(v.ifindex);
                else
                    s.links[v.ifindex] = v;
            } else if constexpr (std::is_same_v<T, Address>) {
                if (e.change == Change::Removed)
                    s.addresses.erase(key_of(v));
                else
                    s.addresses[key_of(v)] = v;
            } else {
                if (e.change == Change::Removed)
                    s.routes.erase(key_of(v));
                else
                    s.routes[key_of(v)] = v;
            }
        },
        e.object);
}

} // namespace alopex::netlink
