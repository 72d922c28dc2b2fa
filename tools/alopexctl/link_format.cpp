// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl link list|show` output: documents of linkd's links. Pure.
#include <sys/socket.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "link_cmd.hpp"

namespace alopexctl {
namespace l1 = alopex::ipc::link1;
namespace cli = alopex::cli;
using cli::Cell;

namespace {

std::string lifetime(uint32_t s) { return s == 0xffffffff ? "forever" : fmt::format("{}s", s); }

nlohmann::json link_json(const l1::LinkInfo &l)
{
    auto addrs = nlohmann::json::array();
    for (const auto &a : l.addresses)
        addrs.push_back({{"family", a.family == AF_INET6 ? "inet6" : "inet"},
                         {"address", a.address},
                         {"prefixlen", a.prefixlen},
                         {"scope", a.scope},
                         {"flags", a.flags},
                         {"valid_lft", a.valid_lft},
                         {"preferred_lft", a.preferred_lft},
                         {"origin", a.origin}});
    nlohmann::json j{{"ifindex", l.ifindex},       {"name", l.name},         {"kind", l.kind},
                     {"mac", l.mac},               {"mtu", l.mtu},           {"operstate", l.operstate},
                     {"admin", l.admin},           {"carrier", l.carrier},   {"controller", l.controller},
                     {"zone", l.zone},             {"addresses", addrs},     {"dns_servers", l.dns_servers},
                     {"dns_domains", l.dns_domains}};
    if (l.managed)
        j["managed"] = *l.managed;
    if (!l.dhcp_state.empty())
        j["dhcp"] = {{"state", l.dhcp_state},        {"address", l.dhcp_address}, {"server", l.dhcp_server},
                     {"lease_time", l.dhcp_lease_time}, {"t1", l.dhcp_t1},         {"t2", l.dhcp_t2},
                     {"expiry_usec", l.dhcp_expiry_usec}};
    return j;
}

Cell dhcp_cell(const l1::LinkInfo &l)
{
    if (l.dhcp_state.empty())
        return Cell::none();
    return Cell(fmt::format("{} {} from {} lease {}s t1 {}s t2 {}s", l.dhcp_state, l.dhcp_address, l.dhcp_server,
                            l.dhcp_lease_time, l.dhcp_t1, l.dhcp_t2));
}

Cell managed_cell(const l1::LinkInfo &l) { return l.managed ? Cell::yes_no(*l.managed) : Cell::none(); }

// Several values of one field, as nmcli joins them in a table (" | ").
Cell values_cell(const std::vector<std::string> &v) { return v.empty() ? Cell::none() : Cell::list(v); }

cli::Document links_of(cli::Section s)
{
    s.json_key = "links";
    cli::Document doc;
    doc.sections.push_back(std::move(s));
    return doc;
}

} // namespace

cli::Document links_document(const std::vector<l1::LinkInfo> &links)
{
    cli::Section s({"IDX", "LINK", "KIND", "OPER", "ADMIN", "MTU", "ZONE", "ADDRESSES", {"MAC", false},
                    {"CARRIER", false}, {"CONTROLLER", false}, {"MANAGED", false}, {"DNS", false},
                    {"DOMAINS", false}, {"DHCP", false}});
    for (const auto &l : links) {
        std::vector<std::string> global;
        for (const auto &a : l.addresses)
            if (a.scope != "link" && a.scope != "host")
                global.push_back(fmt::format("{}/{}", a.address, a.prefixlen));
        s.add({l.ifindex, l.name, l.kind, l.operstate, l.admin, l.mtu, l.zone, Cell::list(global), l.mac,
               Cell::yes_no(l.carrier), l.controller, managed_cell(l), values_cell(l.dns_servers),
               values_cell(l.dns_domains), dhcp_cell(l)},
              link_json(l));
    }
    return links_of(std::move(s));
}

cli::Document link_detail_document(const l1::LinkInfo &l)
{
    cli::Section s({{"idx", true, false}, {"link", true, false}, "kind", "mac", "mtu", "state", "controller",
                    "managed", "zone", "inet", "inet6", "dns", "domains", "dhcp"},
                   cli::Section::Layout::record);
    s.title = fmt::format("{}: {}", l.ifindex, l.name);
    s.record_indent = 2;
    s.record_width = 14;
    std::vector<std::string> inet, inet6;
    for (const auto &a : l.addresses)
        (a.family == AF_INET6 ? inet6 : inet)
            .push_back(fmt::format("{}/{} scope {} {} valid {} preferred {}", a.address, a.prefixlen, a.scope,
                                   a.origin, lifetime(a.valid_lft), lifetime(a.preferred_lft)));
    s.add({l.ifindex, l.name, l.kind, l.mac, l.mtu,
           fmt::format("{} (admin {}, carrier {})", l.operstate, l.admin, l.carrier ? "yes" : "no"),
           l.controller ? Cell(l.controller) : Cell::none(), managed_cell(l), l.zone, Cell::lines(inet),
           Cell::lines(inet6), Cell::lines(l.dns_servers), Cell::lines(l.dns_domains), dhcp_cell(l)},
          link_json(l));
    return links_of(std::move(s));
}

} // namespace alopexctl
