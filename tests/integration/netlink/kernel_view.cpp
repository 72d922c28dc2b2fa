// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernel_view.hpp"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace alopex::netlink::itest {

using nlohmann::json;

namespace {

std::string link_line(int ifindex, const std::string &name, const std::string &kind, unsigned mtu,
                      const std::string &mac, bool up, int master)
{
    return fmt::format("{} {} kind={} mtu={} mac={} up={} master={}", ifindex, name, kind, mtu, mac, up, master);
}

std::string addr_line(int ifindex, int family, const std::string &a, unsigned len, const std::string &label)
{
    return fmt::format("{} {} {}/{} label={}", ifindex, family == AF_INET ? "inet" : "inet6", a, len, label);
}

std::string route_line(int family, uint32_t table, const std::string &dst, unsigned len, const std::string &type,
                       int oif, uint32_t metric, const std::string &gw)
{
    return fmt::format("{} table={} {}/{} type={} oif={} metric={} gw={}", family == AF_INET ? "inet" : "inet6",
                       table, dst, len, type, oif, metric, gw);
}

constexpr const char *type_names[] = {"none",      "unicast",     "local",    "broadcast",
                                      "anycast",   "multicast",   "blackhole", "unreachable",
                                      "prohibit",  "throw",       "nat",       "xresolve"};

std::string type_name(unsigned t) { return t < std::size(type_names) ? type_names[t] : std::to_string(t); }

uint32_t table_number(const json &r)
{
    if (!r.contains("table"))
        return RT_TABLE_MAIN;
    auto t = r["table"].get<std::string>();
    if (t == "main")
        return RT_TABLE_MAIN;
    if (t == "local")
        return RT_TABLE_LOCAL;
    if (t == "default")
        return RT_TABLE_DEFAULT;
    return static_cast<uint32_t>(std::stoul(t));
}

void routes_from_ip(int family, const std::map<std::string, int> &ifindex, std::set<std::string> &out)
{
    auto j = json::parse(capture(fmt::format("ip -j -{} route show table all", family == AF_INET ? 4 : 6)));
    for (const auto &r : j) {
        std::string dst = r.value("dst", "default");
        unsigned host = family == AF_INET ? 32 : 128;
        std::string addr;
        unsigned len;
        if (dst == "default") {
            addr = family == AF_INET ? "0.0.0.0" : "::";
            len = 0;
        } else if (auto slash = dst.find('/'); slash != std::string::npos) {
            addr = dst.substr(0, slash);
            len = static_cast<unsigned>(std::stoul(dst.substr(slash + 1)));
        } else {
            addr = dst;
            len = host;
        }
        int oif = 0;
        if (r.contains("dev"))
            oif = ifindex.at(r["dev"].get<std::string>());
        out.insert(route_line(family, table_number(r), addr, len, r.value("type", "unicast"), oif,
                              r.value("metric", 0u), r.value("gateway", "")));
    }
}

} // namespace

View from_ip()
{
    View v;
    std::map<std::string, int> ifindex;
    auto links = json::parse(capture("ip -j -d link show"));
    for (const auto &l : links)
        ifindex[l["ifname"].get<std::string>()] = l["ifindex"].get<int>();
    for (const auto &l : links) {
        bool up = false;
        for (const auto &f : l["flags"])
            up |= f.get<std::string>() == "UP";
        std::string kind;
        if (l.contains("linkinfo") && l["linkinfo"].contains("info_kind"))
            kind = l["linkinfo"]["info_kind"].get<std::string>();
        int master = l.contains("master") ? ifindex.at(l["master"].get<std::string>()) : 0;
        v.links.insert(link_line(l["ifindex"].get<int>(), l["ifname"].get<std::string>(), kind,
                                 l["mtu"].get<unsigned>(), l.value("address", ""), up, master));
    }
    for (const auto &l : json::parse(capture("ip -j addr show"))) {
        int idx = l["ifindex"].get<int>();
        for (const auto &a : l["addr_info"]) {
            int family = a["family"].get<std::string>() == "inet" ? AF_INET : AF_INET6;
            v.addresses.insert(addr_line(idx, family, a["local"].get<std::string>(), a["prefixlen"].get<unsigned>(),
                                         family == AF_INET ? a.value("label", "") : ""));
        }
    }
    routes_from_ip(AF_INET, ifindex, v.routes);
    routes_from_ip(AF_INET6, ifindex, v.routes);
    return v;
}

View from_snapshot(const Snapshot &s)
{
    View v;
    for (const auto &[k, l] : s.links)
        v.links.insert(
            link_line(l.ifindex, l.name, l.kind, l.mtu, l.mac.to_string(), (l.flags & IFF_UP) != 0, l.master));
    for (const auto &[k, a] : s.addresses)
        v.addresses.insert(addr_line(a.ifindex, a.family, a.address.to_string(), a.prefixlen, a.label));
    for (const auto &[k, r] : s.routes)
        v.routes.insert(route_line(r.family, r.table, r.dst.to_string(), r.dst_len, type_name(r.type), r.oif,
                                   r.priority, r.gateway.to_string()));
    return v;
}

std::string explain(const View &want, const View &got)
{
    std::string out;
    auto cmp = [&](const char *what, const std::set<std::string> &w, const std::set<std::string> &g) {
        for (const auto &x : w)
            if (!g.contains(x))
                out += fmt::format("  {} missing in monitor: {}\n", what, x);
        for (const auto &x : g)
            if (!w.contains(x))
                out += fmt::format("  {} only in monitor:   {}\n", what, x);
    };
    cmp("link", want.links, got.links);
    cmp("addr", want.addresses, got.addresses);
    cmp("route", want.routes, got.routes);
    return out;
}

} // namespace alopex::netlink::itest
