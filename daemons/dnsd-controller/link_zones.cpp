// SPDX-License-Identifier: GPL-2.0-or-later
#include "link_zones.hpp"

#include <algorithm>

#include "alopex/net.hpp"
#include "blocklist/parse.hpp"

namespace alopex::dns {

namespace {

void add_servers(std::vector<std::string> &into, const std::vector<std::string> &servers)
{
    for (const auto &s : servers)
        if (std::find(into.begin(), into.end(), s) == into.end())
            into.push_back(s);
}

} // namespace

ForwardZones link_forward_zones(std::vector<LinkDns> links, bool have_upstreams)
{
    std::sort(links.begin(), links.end(), [](const LinkDns &a, const LinkDns &b) { return a.ifindex < b.ifindex; });
    ForwardZones out;
    for (const auto &l : links) {
        std::vector<std::string> servers;
        for (const auto &s : l.servers)
            if (net::Address::parse(s))   // what linkd publishes is checked; anything else is left out
                servers.push_back(s);
        if (servers.empty())
            continue;
        bool any_domain = false;
        for (const auto &d : l.domains) {
            auto zone = blocklist_name(d);   // checked, lower case, no trailing dot
            if (!zone)
                continue;
            any_domain = true;
            add_servers(out[*zone], servers);
        }
        if (!any_domain && !have_upstreams)
            add_servers(out["."], servers);
    }
    return out;
}

std::vector<std::string> forward_commands(const ForwardZones &applied, const ForwardZones &desired)
{
    std::vector<std::string> out;
    for (const auto &[zone, addrs] : applied)
        if (!desired.contains(zone))
            out.push_back("forward_remove " + zone);
    for (const auto &[zone, addrs] : desired) {
        auto it = applied.find(zone);
        if (it != applied.end() && it->second == addrs)
            continue;
        std::string c = "forward_add " + zone;
        for (const auto &a : addrs)
            c += " " + a;
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace alopex::dns
