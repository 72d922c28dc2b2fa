// SPDX-License-Identifier: GPL-2.0-or-later
// Decisions, beyond those in plan.hpp:
// - Netdevs: an owned netdev whose profile is gone is deleted; one whose kind no longer
//   matches its profile is deleted and created again in the same batch. Other creation
//   parameters (vlan_id, parent, peer, bond mode) are not visible in the snapshot, so
//   changing them takes effect when the device is deleted by hand or recreated. A device
//   with a profile's name and the same kind is adopted (Plan::present); with another
//   kind it is foreign and neither created, deleted nor configured.
// - A vlan whose parent does not exist yet, a link whose controller does not exist yet,
//   a veth whose peer name is taken: skipped with a note, tried again at the next plan.
// - Controller: set when the profile names one; released only when the link's current
//   controller is a netdev linkd owns (another manager's enslavement is left alone).
//   Bonds refuse ports that are up, so an up link joining a bond goes down first.
// - MAC changes: most drivers refuse them while up, so an up link goes down first.
// - Routes: [ipv4]/[ipv6] gateway is a default route (main table, metric 0 / 1024) via
//   the gateway on the link. IPv6 metric 0 becomes 1024, as the kernel stores it, so
//   planning again finds the route. Routes are planned only for links that are (or are
//   being set) up; the kernel refuses routes through down links. Protocol RTPROT_STATIC.
// - A route whose kernel key (IPv4: table, dst, tos, metric; we add the output link) is
//   held by a foreign route is left alone. An owned route whose gateway or scope
//   changed is replaced. Route MTU/onlink are not in the snapshot, so a change of only
//   those applies when the route is next recreated.
// - Address removals come before additions: removing an IPv4 primary also removes its
//   secondaries, so a new address in the same subnet must be added after.
#include "plan.hpp"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <map>

#include "match.hpp"

namespace alopex::linkd::profile {

namespace {

using netlink::AddressKey;
using netlink::RouteKey;

uint8_t scope_value(Scope s)
{
    switch (s) {
    case Scope::Global: return RT_SCOPE_UNIVERSE;
    case Scope::Link: return RT_SCOPE_LINK;
    case Scope::Host: return RT_SCOPE_HOST;
    }
    return RT_SCOPE_UNIVERSE;
}

std::string describe(const rtnl::RouteSpec &r, const std::string &link)
{
    std::string s = r.dst_len == 0 ? std::string("default")
                                   : fmt::format("{}/{}", r.dst, r.dst_len);
    if (!r.gateway.empty())
        s += fmt::format(" via {}", r.gateway);
    return fmt::format("route {} table {} metric {} on {}", s, r.table, r.metric, link);
}

rtnl::RouteSpec route_spec(const RouteConfig &rc, int ifindex)
{
    rtnl::RouteSpec r;
    r.family = static_cast<uint8_t>(rc.to.family());
    r.dst = rc.to.length() == 0 ? net::Address() : rc.to.address();
    r.dst_len = static_cast<uint8_t>(rc.to.length());
    r.gateway = rc.via;
    r.oif = ifindex;
    r.table = rc.table;
    r.metric = (rc.to.family() == AF_INET6 && rc.metric == 0) ? 1024 : rc.metric;
    r.scope = rc.to.family() == AF_INET6 ? uint8_t{RT_SCOPE_UNIVERSE} : scope_value(rc.scope);
    r.protocol = RTPROT_STATIC;
    r.type = RTN_UNICAST;
    r.onlink = rc.onlink;
    r.mtu = rc.mtu;
    return r;
}

std::vector<RouteConfig> routes_of(const Settings &s)
{
    std::vector<RouteConfig> out;
    auto gateway = [&](const net::Address &via) {
        RouteConfig rc;
        rc.to = net::Prefix(net::Address::any(via.family()), 0);
        rc.via = via;
        rc.scope = Scope::Global;
        out.push_back(std::move(rc));
    };
    if (!s.gateway4.empty())
        gateway(s.gateway4);
    if (!s.gateway6.empty())
        gateway(s.gateway6);
    out.insert(out.end(), s.routes.begin(), s.routes.end());
    return out;
}

struct Desired {
    std::map<AddressKey, rtnl::AddressSpec> addresses;
    std::map<RouteKey, rtnl::RouteSpec> routes;
    std::map<int, std::string> names; // ifindex -> name, for messages
};

rtnl::Request request(rtnl::Request::Op op, std::string what)
{
    rtnl::Request r;
    r.op = op;
    r.what = std::move(what);
    return r;
}

// The kernel's own uniqueness key for an IPv4 route ignores the output device.
bool same_kernel_slot(const RouteKey &a, const RouteKey &b)
{
    if (a.family != AF_INET)
        return a == b;
    return a.family == b.family && a.table == b.table && a.dst == b.dst &&
           a.dst_len == b.dst_len && a.tos == b.tos && a.priority == b.priority;
}

rtnl::NetdevSpec netdev_spec(const NetdevProfile &nd, int parent)
{
    rtnl::NetdevSpec s;
    s.name = nd.name;
    s.kind = nd.kind;
    s.stp = nd.stp;
    s.parent = parent;
    s.vlan_id = nd.vlan_id;
    s.peer = nd.peer;
    s.bond_mode = nd.mode;
    s.mtu = nd.mtu;
    s.mac = nd.mac;
    return s;
}

} // namespace

netlink::AddressKey key_of(const rtnl::AddressSpec &a)
{
    return AddressKey{a.ifindex, a.family, a.address, a.prefixlen};
}

netlink::RouteKey key_of(const rtnl::RouteSpec &r)
{
    RouteKey k;
    k.family = r.family;
    k.table = r.table;
    k.dst = r.dst_len == 0 && r.dst.empty() ? net::Address::any(r.family) : r.dst;
    k.dst_len = r.dst_len;
    k.tos = 0;
    k.priority = r.metric;
    k.oif = r.oif;
    k.type = r.type;
    return k;
}

Plan plan(const Profiles &profiles, const netlink::Snapshot &kernel, const Owned &owned)
{
    Plan out;
    using Op = rtnl::Request::Op;
    std::map<std::string, const netlink::Link *> by_name;
    for (const auto &[idx, l] : kernel.links)
        by_name[l.name] = &l;
    auto find = [&](const std::string &name) -> const netlink::Link * {
        auto it = by_name.find(name);
        return it == by_name.end() ? nullptr : it->second;
    };
    std::set<int> deleted;        // links deleted by this plan
    std::set<std::string> foreign; // netdev profile names held by a foreign device

    // 1. Delete owned netdevs without a profile, or whose kind changed.
    for (const auto &name : owned.netdevs) {
        const auto *l = find(name);
        if (!l)
            continue;
        const auto *nd = netdev_named(profiles, name);
        if (nd && l->kind == to_string(nd->kind))
            continue;
        auto r = request(Op::DeleteLink, nd ? fmt::format("netdev {} (kind changed to {})", name,
                                                          to_string(nd->kind))
                                            : fmt::format("netdev {} (no profile)", name));
        r.ifindex = l->ifindex;
        out.requests.push_back(std::move(r));
        deleted.insert(l->ifindex);
    }

    // 2. Create missing netdevs.
    for (const auto &nd : profiles.netdevs) {
        const auto *l = find(nd.name);
        if (l && !deleted.contains(l->ifindex)) {
            if (l->kind != to_string(nd.kind)) {
                foreign.insert(nd.name);
                out.notes.push_back(fmt::format("{}: netdev {}: a foreign {} device has that name; "
                                                "left alone", nd.file, nd.name,
                                                l->kind.empty() ? "non-virtual" : l->kind));
            } else if (!owned.netdevs.contains(nd.name)) {
                out.present.netdevs.insert(nd.name);
            }
            continue;
        }
        int parent = 0;
        if (nd.kind == rtnl::NetdevKind::Vlan) {
            const auto *p = find(nd.parent);
            if (!p || deleted.contains(p->ifindex)) {
                out.notes.push_back(fmt::format("{}: netdev {}: parent {} does not exist yet",
                                                nd.file, nd.name, nd.parent));
                continue;
            }
            parent = p->ifindex;
        }
        if (nd.kind == rtnl::NetdevKind::Veth) {
            const auto *p = find(nd.peer);
            if (p && !deleted.contains(p->ifindex)) {
                out.notes.push_back(fmt::format("{}: netdev {}: peer name {} is taken by "
                                                "another link", nd.file, nd.name, nd.peer));
                continue;
            }
        }
        auto r = request(Op::CreateNetdev, fmt::format("netdev {} ({})", nd.name, to_string(nd.kind)));
        r.netdev = netdev_spec(nd, parent);
        out.requests.push_back(std::move(r));
    }

    // 3. Links: state, and what each wants of addresses and routes.
    Desired want;
    for (const auto &[idx, l] : kernel.links) {
        if (deleted.contains(idx) || foreign.contains(l.name))
            continue;
        auto m = settings_for(profiles, l);
        if (!m)
            continue;
        const Settings &s = *m->settings;
        want.names[idx] = l.name;
        out.links.push_back(LinkIntent{idx, l.name, *m->file, s.up, s.zone, s.dhcp4, s.slaac,
                                       s.dns_servers, s.dns_domains});

        bool is_up = l.flags & IFF_UP;
        rtnl::LinkChange c;
        c.ifindex = idx;
        bool needs_down = false;
        bool joins_bond = false;   // the kernel sets flags before IFLA_MASTER, and a bond
                                   // refuses a port that is up: enslave first, then up
        if (s.mtu && *s.mtu != l.mtu)
            c.mtu = s.mtu;
        if (s.mac) {
            if (l.mac != *s.mac) {
                c.mac = s.mac;
                needs_down |= is_up;
            }
        }
        if (!s.controller.empty()) {
            const auto *ctl = find(s.controller);
            if (!ctl || deleted.contains(ctl->ifindex)) {
                out.notes.push_back(fmt::format("{}: {}: controller {} does not exist yet",
                                                *m->file, l.name, s.controller));
            } else if (l.master != ctl->ifindex) {
                c.controller = ctl->ifindex;
                joins_bond = ctl->kind == "bond";
                needs_down |= is_up && joins_bond;
            }
        } else if (l.master != 0) {
            auto it = kernel.links.find(l.master);
            if (it != kernel.links.end() && owned.netdevs.contains(it->second.name))
                c.controller = 0;
        }
        if (s.up != is_up || needs_down)
            c.up = s.up;
        // A VLAN cannot be up while its parent is down (ENETDOWN): wait for the parent.
        if (c.up == true && l.kind == "vlan") {
            auto parent = kernel.links.find(l.link);
            if (!l.link_netns && parent != kernel.links.end() && !(parent->second.flags & IFF_UP)) {
                out.notes.push_back(fmt::format("{}: {}: stays down until its parent {} is up", *m->file,
                                                l.name, parent->second.name));
                c.up.reset();
            }
        }
        std::optional<bool> up_after;
        if (joins_bond && c.up == true) {
            up_after = true;
            c.up.reset();
        }
        if (needs_down) {
            auto down = request(Op::SetLink, fmt::format("link {}: down before reconfiguring", l.name));
            down.link.ifindex = idx;
            down.link.up = false;
            out.requests.push_back(std::move(down));
        }
        if (c.up || c.mtu || c.mac || c.controller) {
            std::string what = fmt::format("link {}:", l.name);
            if (c.up)
                what += *c.up ? " up" : " down";
            if (c.mtu)
                what += fmt::format(" mtu {}", *c.mtu);
            if (c.mac)
                what += fmt::format(" mac {}", *c.mac);
            if (c.controller)
                what += *c.controller ? " controller " + s.controller : std::string(" nocontroller");
            auto r = request(Op::SetLink, std::move(what));
            r.link = c;
            out.requests.push_back(std::move(r));
        }
        if (up_after) {
            auto r = request(Op::SetLink, fmt::format("link {}: up", l.name));
            r.link.ifindex = idx;
            r.link.up = true;
            out.requests.push_back(std::move(r));
        }

        for (const auto &p : s.addresses) {
            rtnl::AddressSpec a;
            a.ifindex = idx;
            a.family = static_cast<uint8_t>(p.family());
            a.address = p.address();
            a.prefixlen = static_cast<uint8_t>(p.length());
            a.broadcast = p.family() == AF_INET && p.length() < 31;
            want.addresses.emplace(key_of(a), std::move(a));
        }
        if (s.up) {
            for (const auto &rc : routes_of(s)) {
                auto spec = route_spec(rc, idx);
                want.routes.emplace(key_of(spec), std::move(spec)); // first one wins
            }
        }
    }
    auto name_of = [&](int idx) {
        auto it = kernel.links.find(idx);
        return it == kernel.links.end() ? fmt::format("ifindex {}", idx) : it->second.name;
    };

    // 4. Remove owned routes no profile wants (or that moved).
    for (const auto &k : owned.routes) {
        auto it = kernel.routes.find(k);
        if (it == kernel.routes.end() || deleted.contains(k.oif))
            continue;
        auto w = want.routes.find(k);
        if (w != want.routes.end())
            continue; // still wanted (a changed gateway is replaced in step 7)
        const auto &kr = it->second;
        rtnl::RouteSpec spec;
        spec.family = kr.family;
        spec.dst = kr.dst_len == 0 ? net::Address() : kr.dst;
        spec.dst_len = kr.dst_len;
        spec.gateway = kr.gateway;
        spec.oif = kr.oif;
        spec.table = kr.table;
        spec.metric = kr.priority;
        spec.scope = kr.scope;
        spec.protocol = kr.protocol;
        spec.type = kr.type;
        auto r = request(Op::RemoveRoute, describe(spec, name_of(kr.oif)));
        r.route = std::move(spec);
        out.requests.push_back(std::move(r));
    }

    // 5. Remove owned addresses no profile wants.
    for (const auto &k : owned.addresses) {
        if (!kernel.addresses.contains(k) || deleted.contains(k.ifindex) || want.addresses.contains(k))
            continue;
        rtnl::AddressSpec a;
        a.ifindex = k.ifindex;
        a.family = k.family;
        a.address = k.address;
        a.prefixlen = k.prefixlen;
        auto r = request(Op::RemoveAddress, fmt::format("address {}/{} on {}", k.address,
                                                        k.prefixlen, name_of(k.ifindex)));
        r.address = std::move(a);
        out.requests.push_back(std::move(r));
    }

    // 6. Add missing addresses.
    for (const auto &[k, a] : want.addresses) {
        if (kernel.addresses.contains(k)) {
            if (!owned.addresses.contains(k))
                out.present.addresses.insert(k);
            continue;
        }
        auto r = request(Op::AddAddress, fmt::format("address {}/{} on {}", a.address,
                                                     a.prefixlen, want.names[k.ifindex]));
        r.address = a;
        out.requests.push_back(std::move(r));
    }

    // 7. Add missing routes; replace owned ones whose gateway or scope changed.
    for (const auto &[k, spec] : want.routes) {
        const std::string &link = want.names[k.oif];
        auto it = kernel.routes.find(k);
        if (it != kernel.routes.end()) {
            const auto &kr = it->second;
            bool same = kr.gateway == spec.gateway && (k.family != AF_INET || kr.scope == spec.scope);
            if (owned.routes.contains(k)) {
                if (!same) {
                    auto r = request(Op::ReplaceRoute, describe(spec, link));
                    r.route = spec;
                    out.requests.push_back(std::move(r));
                }
            } else if (same && kr.protocol == RTPROT_STATIC) {
                out.present.routes.insert(k);
            } else {
                out.notes.push_back(fmt::format("{}: a foreign route holds its place; left alone",
                                                describe(spec, link)));
            }
            continue;
        }
        bool blocked = false;
        for (const auto &[kk, kr] : kernel.routes) {
            if (same_kernel_slot(kk, k) && !owned.routes.contains(kk)) {
                blocked = true;
                break;
            }
        }
        if (blocked) {
            out.notes.push_back(fmt::format("{}: a foreign route holds its place; left alone",
                                            describe(spec, link)));
            continue;
        }
        auto r = request(Op::AddRoute, describe(spec, link));
        r.route = spec;
        out.requests.push_back(std::move(r));
    }
    return out;
}

void note_success(Owned &owned, const rtnl::Request &r, const netlink::Snapshot &kernel)
{
    using Op = rtnl::Request::Op;
    switch (r.op) {
    case Op::CreateNetdev:
        owned.netdevs.insert(r.netdev.name);
        break;
    case Op::DeleteLink: {
        if (auto it = kernel.links.find(r.ifindex); it != kernel.links.end())
            owned.netdevs.erase(it->second.name);
        std::erase_if(owned.addresses, [&](const AddressKey &k) { return k.ifindex == r.ifindex; });
        std::erase_if(owned.routes, [&](const RouteKey &k) { return k.oif == r.ifindex; });
        break;
    }
    case Op::AddAddress:
        owned.addresses.insert(key_of(r.address));
        break;
    case Op::RemoveAddress:
        owned.addresses.erase(key_of(r.address));
        break;
    case Op::AddRoute:
    case Op::ReplaceRoute:
        owned.routes.insert(key_of(r.route));
        break;
    case Op::RemoveRoute:
        owned.routes.erase(key_of(r.route));
        break;
    case Op::SetLink:
        break;
    }
}

void forget_absent(Owned &owned, const netlink::Snapshot &kernel)
{
    std::erase_if(owned.addresses, [&](const AddressKey &k) { return !kernel.addresses.contains(k); });
    std::erase_if(owned.routes, [&](const RouteKey &k) { return !kernel.routes.contains(k); });
}

} // namespace alopex::linkd::profile
