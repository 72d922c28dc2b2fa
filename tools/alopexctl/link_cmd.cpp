// SPDX-License-Identifier: GPL-2.0-or-later
#include "link_cmd.hpp"

#include <sys/socket.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/bus/blocking.hpp"
#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "alopex/sd.hpp"
#include "table.hpp"

namespace alopexctl {
namespace l1 = alopex::ipc::link1;
namespace mm = alopex::ipc::link1::manager::method;
using alopex::failf;
using Op = LinkRequest::Op;

namespace {

alopex::Result<uint32_t> parse_u32(std::string_view what, std::string_view s)
{
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        return failf(EINVAL, "{}: not a non-negative integer: '{}'", what, s);
    return v;
}

alopex::Result<> need(std::span<const std::string_view> w, size_t n, std::string_view usage)
{
    if (w.size() < n)
        return failf(EINVAL, "link {}: missing argument", usage);
    if (w.size() > n)
        return failf(EINVAL, "link {}: unexpected argument '{}'", usage, w[n]);
    return {};
}

// TO [via GW] [dev LINK] [metric N] [table N]
alopex::Result<> parse_route(std::span<const std::string_view> w, LinkRequest &r)
{
    if (w.empty())
        return failf(EINVAL, "link route: missing destination");
    r.to = std::string(w[0]);
    for (size_t i = 1; i < w.size(); i += 2) {
        if (i + 1 >= w.size())
            return failf(EINVAL, "link route: '{}' needs a value", w[i]);
        std::string_view k = w[i], v = w[i + 1];
        if (k == "via" || k == "gateway") {
            r.via = std::string(v);
        } else if (k == "dev") {
            r.link = std::string(v);
        } else if (k == "metric") {
            auto n = parse_u32("metric", v);
            if (!n)
                return std::unexpected(n.error());
            r.metric = *n;
        } else if (k == "table") {
            auto n = parse_u32("table", v);
            if (!n)
                return std::unexpected(n.error());
            r.table = *n;
        } else {
            return failf(EINVAL, "link route: unknown keyword '{}'", k);
        }
    }
    return {};
}

std::string lifetime(uint32_t s) { return s == 0xffffffff ? "forever" : fmt::format("{}s", s); }

} // namespace

alopex::Result<LinkRequest> parse_link_args(std::span<const std::string_view> w)
{
    LinkRequest r;
    if (w.empty() || w[0] == "list") {
        if (w.size() > 1)
            return failf(EINVAL, "link list: unexpected argument '{}'", w[1]);
        return r;
    }
    std::string_view sub = w[0];
    auto rest = w.subspan(1);
    auto one_link = [&](Op op) -> alopex::Result<LinkRequest> {
        if (auto c = need(rest, 1, std::string(sub) + " LINK"); !c)
            return std::unexpected(c.error());
        r.op = op;
        r.link = std::string(rest[0]);
        return r;
    };
    if (sub == "show")
        return one_link(Op::show);
    if (sub == "up")
        return one_link(Op::up);
    if (sub == "down")
        return one_link(Op::down);
    if (sub == "renew")
        return one_link(Op::renew);
    if (sub == "release")
        return one_link(Op::release);
    if (sub == "reload") {
        if (auto c = need(rest, 0, "reload"); !c)
            return std::unexpected(c.error());
        r.op = Op::reload;
        return r;
    }
    if (sub == "set") {
        if (auto c = need(rest, 3, "set LINK mtu|zone|name VALUE"); !c)
            return std::unexpected(c.error());
        r.link = std::string(rest[0]);
        if (rest[1] == "mtu") {
            auto n = parse_u32("mtu", rest[2]);
            if (!n)
                return std::unexpected(n.error());
            r.op = Op::set_mtu;
            r.mtu = *n;
        } else if (rest[1] == "zone") {
            r.op = Op::set_zone;
            r.value = std::string(rest[2]);
        } else if (rest[1] == "name") {
            r.op = Op::rename;
            r.value = std::string(rest[2]);
        } else {
            return failf(EINVAL, "link set: unknown property '{}' (mtu, zone or name)", rest[1]);
        }
        return r;
    }
    if (sub == "addr" || sub == "address") {
        if (rest.empty() || (rest[0] != "add" && rest[0] != "del"))
            return failf(EINVAL, "link addr: expected 'add' or 'del'");
        if (auto c = need(rest.subspan(1), 2, fmt::format("addr {} LINK ADDRESS/PREFIX", rest[0])); !c)
            return std::unexpected(c.error());
        r.op = rest[0] == "add" ? Op::addr_add : Op::addr_del;
        r.link = std::string(rest[1]);
        r.value = std::string(rest[2]);
        return r;
    }
    if (sub == "route") {
        if (rest.empty() || (rest[0] != "add" && rest[0] != "del"))
            return failf(EINVAL, "link route: expected 'add' or 'del'");
        r.op = rest[0] == "add" ? Op::route_add : Op::route_del;
        if (auto c = parse_route(rest.subspan(1), r); !c)
            return std::unexpected(c.error());
        if (r.via.empty() && r.link.empty())
            return failf(EINVAL, "link route: needs 'via GATEWAY' or 'dev LINK'");
        return r;
    }
    return failf(EINVAL, "link: unknown subcommand '{}'", sub);
}

alopex::Result<l1::LinkInfo> find_link(const std::vector<l1::LinkInfo> &links, std::string_view ref)
{
    int index = 0;
    auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), index);
    bool numeric = !ref.empty() && ec == std::errc() && end == ref.data() + ref.size();
    for (const auto &l : links)
        if (l.name == ref || (numeric && l.ifindex == index))
            return l;
    alopex::Error e{ENODEV, fmt::format("no such link: '{}'", printable(ref)), alopex::bus_error::NoSuchLink};
    return std::unexpected(e);
}

std::string format_links_table(const std::vector<l1::LinkInfo> &links)
{
    std::vector<Row> rows;
    for (const auto &l : links) {
        std::string addrs;
        for (const auto &a : l.addresses) {
            if (a.scope == "link" || a.scope == "host")
                continue;
            addrs += (addrs.empty() ? "" : " ") + fmt::format("{}/{}", a.address, a.prefixlen);
        }
        rows.push_back({std::to_string(l.ifindex), printable(l.name), l.kind.empty() ? "-" : printable(l.kind),
                        printable(l.operstate), printable(l.admin), std::to_string(l.mtu),
                        l.zone.empty() ? "-" : printable(l.zone), addrs.empty() ? "-" : printable(addrs)});
    }
    return format_table({"IDX", "LINK", "KIND", "OPER", "ADMIN", "MTU", "ZONE", "ADDRESSES"}, rows);
}

std::string format_link_detail(const l1::LinkInfo &l)
{
    std::string out = fmt::format("{}: {}\n", l.ifindex, printable(l.name));
    auto line = [&](std::string_view k, std::string_view v) {
        out += fmt::format("  {:<14}{}\n", k, v.empty() ? "-" : printable(v));
    };
    line("kind", l.kind);
    line("mac", l.mac);
    line("mtu", std::to_string(l.mtu));
    line("state", fmt::format("{} (admin {}, carrier {})", l.operstate, l.admin, l.carrier ? "yes" : "no"));
    if (l.controller)
        line("controller", std::to_string(l.controller));
    if (l.managed)
        line("managed", *l.managed ? "yes" : "no");
    line("zone", l.zone);
    for (const auto &a : l.addresses)
        line(a.family == AF_INET6 ? "inet6" : "inet",
             fmt::format("{}/{} scope {} {} valid {} preferred {}", a.address, a.prefixlen, a.scope, a.origin,
                         lifetime(a.valid_lft), lifetime(a.preferred_lft)));
    if (!l.dns_servers.empty())
        line("dns", fmt::format("{}", fmt::join(l.dns_servers, " ")));
    if (!l.dns_domains.empty())
        line("domains", fmt::format("{}", fmt::join(l.dns_domains, " ")));
    if (!l.dhcp_state.empty())
        line("dhcp", fmt::format("{} {} from {} lease {}s t1 {}s t2 {}s", l.dhcp_state, l.dhcp_address,
                                 l.dhcp_server, l.dhcp_lease_time, l.dhcp_t1, l.dhcp_t2));
    return out;
}

std::string format_links_json(const std::vector<l1::LinkInfo> &links)
{
    auto arr = nlohmann::json::array();
    for (const auto &l : links) {
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
        arr.push_back(std::move(j));
    }
    return nlohmann::json{{"links", arr}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

int report(const alopex::Error &e) { return report_error(e); }

// Every link object, one GetManagedObjects call.
alopex::Result<std::vector<l1::LinkInfo>> read_links(sd_bus *bus)
{
    ALOPEX_TRY(objects, alopex::bus::blocking::managed_objects(bus, l1::service, l1::path, l1::link_reader()));
    return l1::by_ifindex(std::move(objects));
}

// Calls a Manager method (names and signatures from ipc/org.alopex.Link1.xml).
template <typename... In> int call(sd_bus *bus, const alopex::bus::MethodSpec &m, const In &...in)
{
    auto r = alopex::bus::blocking::call<>(bus, l1::service, l1::path, l1::manager::spec, m, in...);
    return r ? 0 : report(r.error());
}

} // namespace

int run_link(sd_bus *bus, const LinkRequest &r, bool json)
{
    if (r.op == Op::reload)
        return call(bus, mm::Reload);
    auto links = read_links(bus);
    if (!links)
        return report(links.error());
    if (r.op == Op::list) {
        fmt::print("{}", json ? format_links_json(*links) : format_links_table(*links));
        return 0;
    }
    int32_t index = 0;
    if (!r.link.empty()) {
        auto l = find_link(*links, r.link);
        if (!l)
            return report(l.error());
        index = l->ifindex;
        if (r.op == Op::show) {
            fmt::print("{}", json ? format_links_json({*l}) : format_link_detail(*l));
            return 0;
        }
    }
    switch (r.op) {
    case Op::up:
        return call(bus, mm::SetLinkUp, index);
    case Op::down:
        return call(bus, mm::SetLinkDown, index);
    case Op::set_mtu:
        return call(bus, mm::SetMtu, index, r.mtu);
    case Op::set_zone:
        return call(bus, mm::SetZone, index, r.value);
    case Op::rename:
        return call(bus, mm::RenameLink, index, r.value);
    case Op::addr_add:
        return call(bus, mm::AddAddress, index, r.value);
    case Op::addr_del:
        return call(bus, mm::RemoveAddress, index, r.value);
    case Op::route_add:
        return call(bus, mm::AddRoute, r.to, r.via, index, r.metric, r.table);
    case Op::route_del:
        return call(bus, mm::RemoveRoute, r.to, r.via, index, r.metric, r.table);
    case Op::renew:
        return call(bus, mm::Renew, index);
    case Op::release:
        return call(bus, mm::Release, index);
    case Op::list:
    case Op::show:
    case Op::reload:
        break;
    }
    return 0;
}

int run_checkpoint(sd_bus *bus, std::span<const std::string> w)
{
    namespace cp = l1::checkpoints;
    auto usage = [] {
        fmt::print(stderr, "alopexctl: checkpoint: expected 'create SECONDS', 'confirm PATH' or 'rollback PATH'\n");
        return 2;
    };
    if (w.size() != 2)
        return usage();
    if (w[0] == "create") {
        auto n = parse_u32("timeout", w[1]);
        if (!n) {
            fmt::print(stderr, "alopexctl: checkpoint create: {}\n", n.error().message);
            return 2;
        }
        auto path = alopex::bus::blocking::call<alopex::bus::ObjectPath>(bus, l1::service, l1::path, cp::spec,
                                                                          cp::method::CheckpointCreate, *n);
        if (!path)
            return report(path.error());
        fmt::print("{}\n", printable(std::get<0>(*path).value));
        return 0;
    }
    if (w[0] != "confirm" && w[0] != "rollback")
        return usage();
    if (!sd_bus_object_path_is_valid(w[1].c_str())) {
        fmt::print(stderr, "alopexctl: checkpoint {}: not an object path: '{}'\n", w[0], printable(w[1]));
        return 2;
    }
    auto r = alopex::bus::blocking::call<>(bus, l1::service, l1::path, cp::spec,
                                           w[0] == "confirm" ? cp::method::CheckpointConfirm
                                                             : cp::method::CheckpointRollback,
                                           alopex::bus::ObjectPath{w[1]});
    return r ? 0 : report(r.error());
}

} // namespace alopexctl
