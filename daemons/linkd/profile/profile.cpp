// SPDX-License-Identifier: GPL-2.0-or-later
// The profile schema on top of alopex/config.hpp. Every refusal is "file:line:col: message".
//
// Decisions (documented in alopex.link(5)):
// - Unknown sections and keys are refused, so a typo never silently does nothing.
// - [link] up defaults to true: a profile that matches a link brings it up.
// - Interface addresses may have host bits set; a route's `to` must be a network.
// - MTU 68..65535, and 1280.. when the profile configures IPv6 (addresses, gateway,
//   routes or slaac = true), since the kernel disables IPv6 below 1280.
// - Route tables 1..4294967294 or "main"; 253 (default) and 255 (local) are reserved for
//   the kernel and refused, 0 is "unspecified".
// - A route's scope defaults to "link" without `via` and "global" with it; "link" and
//   "host" with a gateway, and `onlink` without one, are refused (the kernel would).
// - Bounded sizes: 1024 addresses, 1024 routes, 64 DNS servers, 256 domains per file.
#include "profile.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <map>

#include "alopex/config.hpp"

namespace alopex::linkd::profile {

namespace {

using config::Array;
using config::Node;
using config::Table;


constexpr size_t max_addresses = 1024, max_routes = 1024, max_servers = 64, max_domains = 256;

std::unexpected<Error> at(const Node &n, const Error &e)
{
    return std::unexpected<Error>(n.error(fmt::format("'{}' {}", n.name(), e.message)));
}

// An error of alopex/net.hpp, which starts with the key it was given.
std::unexpected<Error> at_net(const Node &n, const Error &e)
{
    return std::unexpected<Error>(n.error(e.message));
}

Result<uint32_t> in_range(const Node &n, int64_t lo, int64_t hi)
{
    ALOPEX_TRY(v, n.as_integer());
    if (v < lo || v > hi)
        return n.failf("'{}' must be between {} and {}", n.name(), lo, hi);
    return static_cast<uint32_t>(v);
}

Result<std::optional<uint32_t>> opt_range(const Table &t, std::string_view key, int64_t lo, int64_t hi)
{
    auto n = t.get(key);
    if (!n)
        return std::optional<uint32_t>();
    ALOPEX_TRY(v, in_range(*n, lo, hi));
    return std::optional<uint32_t>(v);
}

Result<std::optional<net::Mac>> opt_mac(const Table &t, std::string_view key, bool assignable)
{
    auto n = t.get(key);
    if (!n)
        return std::optional<net::Mac>();
    ALOPEX_TRY(s, n->as_string());
    auto m = net::Mac::parse(s, n->name());
    if (!m)
        return at_net(*n, m.error());
    if (assignable && !m->assignable())
        return n->failf("'{}' must be a unicast, non-zero MAC address", n->name());
    return std::optional<net::Mac>(*m);
}

Result<std::string> opt_ifname(const Table &t, std::string_view key)
{
    auto n = t.get(key);
    if (!n)
        return std::string();
    ALOPEX_TRY(s, n->as_string());
    if (!valid_ifname(s))
        return n->failf("'{}' is not a valid interface name (1..15 printable bytes, no "
                        "spaces, '/' or ':', not '.' or '..')", n->name());
    return s;
}

// Each element of an optional array of strings, with its node for positioned errors.
template <typename F>
Result<> each_string(const Table &t, std::string_view key, size_t max, F &&fn)
{
    ALOPEX_TRY(arr, t.optional_array(key));
    if (!arr)
        return {};
    if (arr->size() > max)
        return std::unexpected<Error>(
            arr->error(fmt::format("'{}' has more than {} entries", arr->name(), max)));
    for (size_t i = 0; i < arr->size(); ++i) {
        Node n = arr->at(i);
        ALOPEX_TRY(s, n.as_string());
        ALOPEX_TRY_VOID(fn(n, s));
    }
    return {};
}

struct Ctx {
    std::optional<Node> mtu_node;  // [link] mtu, checked against IPv6 at the end
    std::vector<Node> route_mtus;  // [[route]] mtu of IPv6 routes
    bool ipv6 = false;             // the file configures IPv6
};

Result<> parse_link(const Table &t, Settings &s, Ctx &ctx)
{
    ALOPEX_TRY_VOID(t.require_known_keys({"up", "mtu", "mac", "zone", "controller"}));
    ALOPEX_TRY(up, t.optional_boolean("up"));
    if (up)
        s.up = *up;
    ALOPEX_TRY(mtu, opt_range(t, "mtu", 68, 65535));
    s.mtu = mtu;
    ctx.mtu_node = t.get("mtu");
    ALOPEX_TRY(mac, opt_mac(t, "mac", true));
    s.mac = mac;
    if (auto n = t.get("zone")) {
        ALOPEX_TRY(z, n->as_string());
        if (!valid_zone(z))
            return n->failf("'{}' must be 1..64 bytes of [A-Za-z0-9_.-]", n->name());
        s.zone = z;
    }
    ALOPEX_TRY(ctl, opt_ifname(t, "controller"));
    s.controller = ctl;
    return {};
}

Result<> parse_addresses(const Table &t, uint8_t family, Settings &s)
{
    return each_string(t, "addresses", max_addresses, [&](const Node &n, const std::string &v) -> Result<> {
        auto p = net::Prefix::parse(v, n.name(), {.family = family, .zero_length = false});
        if (!p)
            return at_net(n, p.error());
        const auto &a = p->address();
        // IPv4: multicast, class E and broadcast (224.0.0.0 and up) too.
        if (a.is_unspecified() || a.is_multicast() || (a.is_v4() && a.bytes()[0] >= 224))
            return n.failf("'{}' is not a unicast address", n.name());
        for (const auto &x : s.addresses)
            if (x.address() == a)
                return n.failf("'{}' lists {} twice", n.name(), a);
        s.addresses.push_back(*p);
        return {};
    });
}

Result<net::Address> opt_gateway(const Table &t, uint8_t family)
{
    auto n = t.get("gateway");
    if (!n)
        return net::Address();
    ALOPEX_TRY(s, n->as_string());
    auto ip = net::Address::parse(s, family, n->name());
    if (!ip)
        return at_net(*n, ip.error());
    if (ip->is_unspecified())
        return n->failf("'{}' must not be the unspecified address", n->name());
    return *ip;
}

Result<> parse_ipv4(const Table &t, Settings &s)
{
    ALOPEX_TRY_VOID(t.require_known_keys({"dhcp", "addresses", "gateway"}));
    ALOPEX_TRY(dhcp, t.optional_boolean("dhcp"));
    s.dhcp4 = dhcp.value_or(false);
    ALOPEX_TRY_VOID(parse_addresses(t, AF_INET, s));
    ALOPEX_TRY(gw, opt_gateway(t, AF_INET));
    s.gateway4 = gw;
    return {};
}

Result<> parse_ipv6(const Table &t, Settings &s, Ctx &ctx)
{
    ALOPEX_TRY_VOID(t.require_known_keys({"slaac", "addresses", "gateway"}));
    ALOPEX_TRY(slaac, t.optional_boolean("slaac"));
    s.slaac = slaac;
    size_t before = s.addresses.size();
    ALOPEX_TRY_VOID(parse_addresses(t, AF_INET6, s));
    ALOPEX_TRY(gw, opt_gateway(t, AF_INET6));
    s.gateway6 = gw;
    if (s.addresses.size() > before || !gw.empty() || slaac.value_or(false))
        ctx.ipv6 = true;
    return {};
}

Result<> parse_dns(const Table &t, Settings &s)
{
    ALOPEX_TRY_VOID(t.require_known_keys({"servers", "domains"}));
    ALOPEX_TRY_VOID(each_string(t, "servers", max_servers, [&](const Node &n, const std::string &v) -> Result<> {
        auto ip = net::Address::parse(v, n.name());
        if (!ip)
            return at_net(n, ip.error());
        if (std::find(s.dns_servers.begin(), s.dns_servers.end(), *ip) == s.dns_servers.end())
            s.dns_servers.push_back(*ip);
        return {};
    }));
    return each_string(t, "domains", max_domains, [&](const Node &n, const std::string &v) -> Result<> {
        if (!net::valid_domain(v))
            return n.failf("'{}' is not a valid domain name", n.name());
        std::string d = v.ends_with('.') ? v.substr(0, v.size() - 1) : v;
        if (std::find(s.dns_domains.begin(), s.dns_domains.end(), d) == s.dns_domains.end())
            s.dns_domains.push_back(std::move(d));
        return {};
    });
}

Result<uint32_t> parse_table(const Node &n)
{
    if (n.kind() == config::Kind::string) {
        ALOPEX_TRY(s, n.as_string());
        if (s == "main")
            return 254u;
        return n.failf("'{}' must be a number or \"main\"", n.name());
    }
    ALOPEX_TRY(v, in_range(n, 1, 4294967294LL));
    if (v == 253 || v == 255)
        return n.failf("'{}' {} is reserved for the kernel (253 default, 255 local)", n.name(), v);
    return v;
}

Result<RouteConfig> parse_route(const Table &t, Ctx &ctx)
{
    ALOPEX_TRY_VOID(t.require_known_keys({"to", "via", "metric", "table", "scope", "onlink", "mtu"}));
    RouteConfig r;
    ALOPEX_TRY(to_node, t.require("to"));
    ALOPEX_TRY(to, to_node.as_string());
    auto p = net::Prefix::parse_network(to, to_node.name());
    if (!p)
        return at_net(to_node, p.error());
    r.to = *p;
    if (auto n = t.get("via")) {
        ALOPEX_TRY(s, n->as_string());
        auto ip = net::Address::parse(s, r.to.family(), n->name());
        if (!ip)
            return n->failf("'{}' must be an {} address like 'to'", n->name(),
                            r.to.family() == AF_INET ? "IPv4" : "IPv6");
        r.via = *ip;
    }
    ALOPEX_TRY(metric, opt_range(t, "metric", 0, 4294967295LL));
    r.metric = metric.value_or(0);
    if (auto n = t.get("table")) {
        ALOPEX_TRY(table, parse_table(*n));
        r.table = table;
    }
    r.scope = r.via.empty() ? Scope::Link : Scope::Global;
    if (auto n = t.get("scope")) {
        ALOPEX_TRY(s, n->as_string());
        if (s == "global")
            r.scope = Scope::Global;
        else if (s == "link")
            r.scope = Scope::Link;
        else if (s == "host")
            r.scope = Scope::Host;
        else
            return n->failf("'{}' must be \"global\", \"link\" or \"host\"", n->name());
        if (r.scope != Scope::Global && !r.via.empty())
            return n->failf("'{}' must be \"global\" for a route with a gateway ('via')",
                            n->name());
    }
    ALOPEX_TRY(onlink, t.optional_boolean("onlink"));
    r.onlink = onlink.value_or(false);
    if (r.onlink && r.via.empty())
        return std::unexpected<Error>(
            t.get("onlink")->error(fmt::format("'{}' needs a gateway ('via')", t.get("onlink")->name())));
    ALOPEX_TRY(mtu, opt_range(t, "mtu", 68, 65535));
    r.mtu = mtu;
    if (r.to.family() == AF_INET6) {
        ctx.ipv6 = true;
        if (auto n = t.get("mtu"))
            ctx.route_mtus.push_back(*n);
    }
    return r;
}

Result<> parse_settings(const Table &root, Settings &s)
{
    Ctx ctx;
    ALOPEX_TRY(link, root.optional_table("link"));
    if (link)
        ALOPEX_TRY_VOID(parse_link(*link, s, ctx));
    ALOPEX_TRY(v4, root.optional_table("ipv4"));
    if (v4)
        ALOPEX_TRY_VOID(parse_ipv4(*v4, s));
    ALOPEX_TRY(v6, root.optional_table("ipv6"));
    if (v6)
        ALOPEX_TRY_VOID(parse_ipv6(*v6, s, ctx));
    ALOPEX_TRY(dns, root.optional_table("dns"));
    if (dns)
        ALOPEX_TRY_VOID(parse_dns(*dns, s));
    ALOPEX_TRY(routes, root.optional_array("route"));
    if (routes) {
        if (routes->size() > max_routes)
            return std::unexpected<Error>(
                routes->error(fmt::format("more than {} [[route]] entries", max_routes)));
        for (size_t i = 0; i < routes->size(); ++i) {
            ALOPEX_TRY(t, routes->at(i).as_table());
            ALOPEX_TRY(r, parse_route(t, ctx));
            for (const auto &o : s.routes)
                if (o.to == r.to && o.table == r.table && o.metric == r.metric)
                    return std::unexpected<Error>(t.error(fmt::format(
                        "a route to {} in table {} with metric {} is listed twice",
                        r.to, r.table, r.metric)));
            s.routes.push_back(std::move(r));
        }
    }
    if (ctx.ipv6) {
        if (ctx.mtu_node && s.mtu && *s.mtu < 1280)
            return ctx.mtu_node->failf("'{}' must be at least 1280 when IPv6 is configured",
                                       ctx.mtu_node->name());
        for (const auto &n : ctx.route_mtus) {
            ALOPEX_TRY(v, n.as_integer());
            if (v < 1280)
                return n.failf("'{}' must be at least 1280 for an IPv6 route", n.name());
        }
    }
    return {};
}

Result<Match> parse_match(const Table &t)
{
    ALOPEX_TRY_VOID(t.require_known_keys({"name", "mac"}));
    Match m;
    if (auto n = t.get("name")) {
        ALOPEX_TRY(s, n->as_string());
        if (auto r = check_name_glob(s); !r)
            return at(*n, r.error());
        m.name = s;
    }
    ALOPEX_TRY(mac, opt_mac(t, "mac", false));
    m.mac = mac;
    if (m.name.empty() && !m.mac)
        return std::unexpected<Error>(t.error("[match] needs 'name' or 'mac'"));
    return m;
}

Result<> parse_netdev(const Table &root, const Table &t, NetdevProfile &nd)
{
    ALOPEX_TRY_VOID(t.require_known_keys(
        {"name", "kind", "stp", "vlan_id", "parent", "peer", "mode", "mtu", "mac"}));
    ALOPEX_TRY(name_node, t.require("name"));
    ALOPEX_TRY(name, opt_ifname(t, "name"));
    nd.name = name;
    ALOPEX_TRY(kind_node, t.require("kind"));
    ALOPEX_TRY(kind, kind_node.as_string());
    if (kind == "bridge")
        nd.kind = rtnl::NetdevKind::Bridge;
    else if (kind == "vlan")
        nd.kind = rtnl::NetdevKind::Vlan;
    else if (kind == "veth")
        nd.kind = rtnl::NetdevKind::Veth;
    else if (kind == "bond")
        nd.kind = rtnl::NetdevKind::Bond;
    else
        return kind_node.failf("'{}' must be \"bridge\", \"vlan\", \"veth\" or \"bond\"",
                               kind_node.name());
    auto only_for = [&](std::string_view key, rtnl::NetdevKind k) -> Result<> {
        if (auto n = t.get(key); n && nd.kind != k)
            return n->failf("'{}' applies only to kind \"{}\"", n->name(), to_string(k));
        return {};
    };
    ALOPEX_TRY_VOID(only_for("stp", rtnl::NetdevKind::Bridge));
    ALOPEX_TRY_VOID(only_for("vlan_id", rtnl::NetdevKind::Vlan));
    ALOPEX_TRY_VOID(only_for("parent", rtnl::NetdevKind::Vlan));
    ALOPEX_TRY_VOID(only_for("peer", rtnl::NetdevKind::Veth));
    ALOPEX_TRY_VOID(only_for("mode", rtnl::NetdevKind::Bond));
    ALOPEX_TRY(stp, t.optional_boolean("stp"));
    nd.stp = stp;
    if (nd.kind == rtnl::NetdevKind::Vlan) {
        ALOPEX_TRY(idn, t.require("vlan_id"));
        ALOPEX_TRY(id, in_range(idn, 1, 4094));
        nd.vlan_id = static_cast<uint16_t>(id);
        ALOPEX_TRY(pn, t.require("parent"));
        ALOPEX_TRY(parent, opt_ifname(t, "parent"));
        if (parent == nd.name)
            return pn.failf("'{}' must not be the VLAN itself", pn.name());
        nd.parent = parent;
    }
    if (nd.kind == rtnl::NetdevKind::Veth) {
        ALOPEX_TRY(pn, t.require("peer"));
        ALOPEX_TRY(peer, opt_ifname(t, "peer"));
        if (peer == nd.name)
            return pn.failf("'{}' must differ from 'netdev.name'", pn.name());
        nd.peer = peer;
    }
    if (nd.kind == rtnl::NetdevKind::Bond) {
        nd.mode = "balance-rr";
        if (auto n = t.get("mode")) {
            ALOPEX_TRY(m, n->as_string());
            auto c = canonical_bond_mode(m);
            if (!c)
                return n->failf("'{}' must be one of balance-rr, active-backup, balance-xor, "
                                "broadcast, 802.3ad, balance-tlb, balance-alb (or 0..6)",
                                n->name());
            nd.mode = std::string(*c);
        }
    }
    ALOPEX_TRY(mtu, opt_range(t, "mtu", 68, 65535));
    nd.mtu = mtu;
    ALOPEX_TRY(mac, opt_mac(t, "mac", true));
    nd.mac = mac;
    ALOPEX_TRY_VOID(parse_settings(root, nd.settings));
    // [netdev] mtu/mac are creation parameters; [link] mtu/mac are applied afterwards.
    // Both set and different would fight forever: refuse.
    if (nd.mtu && nd.settings.mtu && *nd.mtu != *nd.settings.mtu)
        return t.get("mtu")->failf("'netdev.mtu' ({}) conflicts with 'link.mtu' ({})", *nd.mtu,
                                   *nd.settings.mtu);
    if (nd.mac && nd.settings.mac && *nd.mac != *nd.settings.mac)
        return t.get("mac")->failf("'netdev.mac' conflicts with 'link.mac'");
    if (nd.settings.controller == nd.name)
        return std::unexpected<Error>(
            root.get("link")->error("'link.controller' must not be the device itself"));
    (void)name_node;
    return {};
}

} // namespace

std::string_view to_string(rtnl::NetdevKind k)
{
    switch (k) {
    case rtnl::NetdevKind::Bridge: return "bridge";
    case rtnl::NetdevKind::Vlan: return "vlan";
    case rtnl::NetdevKind::Veth: return "veth";
    case rtnl::NetdevKind::Bond: return "bond";
    }
    return "?";
}

std::string_view to_string(Scope s)
{
    switch (s) {
    case Scope::Global: return "global";
    case Scope::Link: return "link";
    case Scope::Host: return "host";
    }
    return "?";
}

std::optional<std::string_view> canonical_bond_mode(std::string_view mode)
{
    static constexpr std::string_view names[] = {"balance-rr", "active-backup", "balance-xor",
                                                 "broadcast",  "802.3ad",       "balance-tlb",
                                                 "balance-alb"};
    for (size_t i = 0; i < std::size(names); ++i)
        if (mode == names[i] || (mode.size() == 1 && mode[0] == static_cast<char>('0' + i)))
            return names[i];
    return std::nullopt;
}

namespace {

Result<> parse_document(const config::Document &doc, Profiles &out)
{
    Table root = doc.root();
    ALOPEX_TRY_VOID(root.require_known_keys({"match", "netdev", "link", "ipv4", "ipv6", "dns", "route"}));
    ALOPEX_TRY(match, root.optional_table("match"));
    ALOPEX_TRY(netdev, root.optional_table("netdev"));
    if (match && netdev) {
        // Point at whichever comes second in the file.
        const Table &later =
            std::make_pair(netdev->position().line, netdev->position().column) >
                    std::make_pair(match->position().line, match->position().column)
                ? *netdev
                : *match;
        return std::unexpected<Error>(later.error(
            "a file is either a link profile ([match]) or a netdev profile ([netdev]), not both"));
    }
    if (!match && !netdev)
        return fail(EINVAL, config::format_at(doc.file(), {},
                                              "needs a [match] section (a link profile) or a "
                                              "[netdev] section (a netdev profile)"));
    if (match) {
        LinkProfile lp;
        lp.file = doc.file();
        ALOPEX_TRY(m, parse_match(*match));
        lp.match = std::move(m);
        ALOPEX_TRY_VOID(parse_settings(root, lp.settings));
        out.links.push_back(std::move(lp));
        return {};
    }
    NetdevProfile nd;
    nd.file = doc.file();
    ALOPEX_TRY_VOID(parse_netdev(root, *netdev, nd));
    out.netdevs.push_back(std::move(nd));
    return {};
}

} // namespace

Result<> parse_file(std::string_view text, std::string file, Profiles &out)
{
    auto doc = config::Document::parse(text, std::move(file));
    if (!doc)
        return std::unexpected<Error>(std::move(doc.error()));
    return parse_document(*doc, out);
}

Result<> validate(const Profiles &p)
{
    std::map<std::string, const NetdevProfile *> names;
    auto claim = [&](const std::string &name, const NetdevProfile &nd) -> Result<> {
        auto [it, fresh] = names.emplace(name, &nd);
        if (!fresh)
            return failf(EEXIST, "{}: netdev '{}' is already defined in {}", nd.file, name,
                         it->second->file);
        return {};
    };
    for (const auto &nd : p.netdevs) {
        ALOPEX_TRY_VOID(claim(nd.name, nd));
        if (!nd.peer.empty())
            ALOPEX_TRY_VOID(claim(nd.peer, nd));
    }
    auto check_controller = [&](const std::string &file, const std::string &ctl) -> Result<> {
        auto it = names.find(ctl);
        if (ctl.empty() || it == names.end())
            return {}; // a controller linkd does not create may exist anyway
        const NetdevProfile &c = *it->second;
        if (c.kind != rtnl::NetdevKind::Bridge && c.kind != rtnl::NetdevKind::Bond)
            return failf(EINVAL, "{}: controller '{}' is a {} (defined in {}), not a bridge or bond",
                         file, ctl, to_string(c.kind), c.file);
        return {};
    };
    for (const auto &lp : p.links)
        ALOPEX_TRY_VOID(check_controller(lp.file, lp.settings.controller));
    for (const auto &nd : p.netdevs)
        ALOPEX_TRY_VOID(check_controller(nd.file, nd.settings.controller));
    return {};
}

Result<Profiles> parse_files(const std::vector<std::pair<std::string, std::string>> &files)
{
    Profiles p;
    for (const auto &[name, text] : files)
        ALOPEX_TRY_VOID(parse_file(text, name, p));
    ALOPEX_TRY_VOID(validate(p));
    return p;
}

Result<Profiles> load_file(const std::filesystem::path &path)
{
    auto doc = config::Document::load(path); // capped read; syntax errors are positioned
    if (!doc)
        return std::unexpected<Error>(std::move(doc.error()));
    Profiles p;
    ALOPEX_TRY_VOID(parse_document(*doc, p));
    ALOPEX_TRY_VOID(validate(p));
    return p;
}

Result<Profiles> load_directory(const std::filesystem::path &dir)
{
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec))
        return Profiles{};
    std::vector<std::string> names;
    std::filesystem::directory_iterator it(dir, ec), end;
    if (ec)
        return io_fail(ec.value(), dir.string());
    for (; it != end; it.increment(ec)) {
        if (ec)
            return io_fail(ec.value(), dir.string());
        std::string name = it->path().filename().string();
        if (name.starts_with('.') || !name.ends_with(".toml") || name.size() <= 5)
            continue;
        if (!it->is_regular_file(ec)) // follows symlinks
            continue;
        names.push_back(std::move(name));
        if (names.size() > 4096)
            return failf(E2BIG, "{}: more than 4096 profile files", dir.string());
    }
    std::sort(names.begin(), names.end());
    Profiles p;
    for (const auto &name : names) {
        auto one = load_file(dir / name);
        if (!one)
            return std::unexpected<Error>(std::move(one.error()));
        for (auto &l : one->links)
            p.links.push_back(std::move(l));
        for (auto &n : one->netdevs)
            p.netdevs.push_back(std::move(n));
    }
    ALOPEX_TRY_VOID(validate(p));
    return p;
}

} // namespace alopex::linkd::profile
