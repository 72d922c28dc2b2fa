// SPDX-License-Identifier: GPL-2.0-or-later
#include "port_ops.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>

#include <nlohmann/json.hpp>

namespace alopex::ovs {

using json = nlohmann::json;
using ovsdb::Atom;
using ovsdb::Datum;

namespace {

json uuid_ref(const ovsdb::Uuid &u)
{
    return json::array({"uuid", u.to_string()});
}

json where_uuid(const ovsdb::Uuid &u)
{
    return json::array({json::array({"_uuid", "==", uuid_ref(u)})});
}

// The set of UUIDs a column holds, in the set form (valid for any set column).
json uuid_set(const Datum &d)
{
    json list = json::array();
    for (const Atom &a : d.keys())
        if (const auto *u = std::get_if<ovsdb::Uuid>(&a))
            list.push_back(uuid_ref(*u));
    return json::array({"set", std::move(list)});
}

// The guard: the bridge's ports are what the copy says.
json wait_ports(const BridgeRef &b)
{
    return {{"op", "wait"}, {"table", "Bridge"}, {"timeout", 0}, {"where", where_uuid(b.uuid)},
            {"columns", {"ports"}}, {"until", "=="}, {"rows", json::array({{{"ports", uuid_set(b.row->get("ports"))}}})}};
}

// The end of every transaction: next_cfg bumped and read back, and a comment that
// ovsdb-server keeps in its log with the transaction (as ovs-vsctl's command line).
void finish(json &ops, const std::string &comment)
{
    ops.push_back({{"op", "mutate"}, {"table", "Open_vSwitch"}, {"where", json::array()},
                   {"mutations", json::array({json::array({"next_cfg", "+=", 1})})}});
    ops.push_back({{"op", "select"}, {"table", "Open_vSwitch"}, {"where", json::array()}, {"columns", {"next_cfg"}}});
    ops.push_back({{"op", "comment"}, {"comment", "alopex-ovs-agentd: " + comment}});
}


// A port's tag and trunks, each set in full (empty: none).
json vlan_columns(const PortSpec &p)
{
    json tag = json::array({"set", json::array()}), trunks = json::array({"set", json::array()});
    if (p.tag)
        tag[1].push_back(*p.tag);
    for (uint16_t v : p.trunks)
        trunks[1].push_back(v);
    return {{"tag", std::move(tag)}, {"trunks", std::move(trunks)}};
}

json port_row(const PortSpec &p, const std::string &iface)
{
    json ids = json::array({json::array({owner_key, owner_value})});
    if (!p.container.empty())
        ids.push_back(json::array({container_key, p.container}));
    if (p.vmid)
        ids.push_back(json::array({vmid_key, std::to_string(*p.vmid)}));
    json row = {{"name", p.name}, {"interfaces", json::array({"named-uuid", iface})},
                {"external_ids", json::array({"map", std::move(ids)})}};
    if (p.tag)
        row["tag"] = *p.tag;
    if (!p.trunks.empty()) {
        json t = json::array();
        for (uint16_t v : p.trunks)
            t.push_back(v);
        row["trunks"] = json::array({"set", std::move(t)});
    }
    return row;
}

} // namespace

std::optional<uint32_t> vmid_of(std::string_view ifname)
{
    std::string_view digits;
    if (ifname.starts_with("veth") || ifname.starts_with("tap")) {
        auto rest = ifname.substr(ifname[0] == 'v' ? 4 : 3);
        auto i = rest.find('i');
        if (i == std::string_view::npos || i + 1 >= rest.size() ||
            rest.substr(i + 1).find_first_not_of("0123456789") != std::string_view::npos)
            return std::nullopt;
        digits = rest.substr(0, i);
    } else if (ifname.starts_with("vi")) {
        digits = ifname.substr(2);
    } else {
        return std::nullopt;
    }
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || digits[0] == '0' ||
        v < 100 || v > 999'999'999)
        return std::nullopt;
    return v;
}

std::string name_of(const ovsdb::Row &row)
{
    const Atom *a = row.get("name").single();
    return a && std::holds_alternative<std::string>(*a) ? std::get<std::string>(*a) : std::string();
}

BridgeRef find_bridge(const ovsdb::Replica &r, std::string_view name)
{
    for (const auto &[uuid, row] : r.rows("Bridge"))
        if (name_of(row) == name)
            return {uuid, &row};
    return {};
}

std::vector<std::pair<ovsdb::Uuid, const ovsdb::Row *>> bridge_ports(const ovsdb::Replica &r, const BridgeRef &bridge)
{
    std::vector<std::pair<ovsdb::Uuid, const ovsdb::Row *>> out;
    if (!bridge.row)
        return out;
    for (const Atom &a : bridge.row->get("ports").keys())
        if (const auto *u = std::get_if<ovsdb::Uuid>(&a))
            if (const ovsdb::Row *p = r.row("Port", *u))
                out.emplace_back(*u, p);
    return out;
}

bool owned(const ovsdb::Row &port)
{
    const Atom *v = port.get("external_ids").find(Atom{std::string(owner_key)});
    return v && *v == Atom{std::string(owner_value)};
}

Result<json> change_ops(const ovsdb::Replica &r, std::string_view bridge, const std::vector<PortSpec> &attach,
                        const std::vector<std::string> &detach, const std::vector<PortSpec> &retag)
{
    BridgeRef b = find_bridge(r, bridge);
    if (!b.row)
        return failf(ENOENT, "no bridge {}", bridge);
    auto existing = bridge_ports(r, b);
    auto port_named = [&](std::string_view n) {
        return std::find_if(existing.begin(), existing.end(), [&](const auto &e) { return name_of(*e.second) == n; });
    };
    json ops = json::array({wait_ports(b)});
    json added = json::array(), gone = json::array();
    std::string what;
    for (size_t i = 0; i < attach.size(); ++i) {
        const PortSpec &p = attach[i];
        if (port_named(p.name) != existing.end())
            return failf(EEXIST, "{} is a port of {} already", p.name, bridge);
        std::string iface = fmt::format("iface{}", i), port = fmt::format("port{}", i);
        ops.push_back({{"op", "insert"}, {"table", "Interface"}, {"row", {{"name", p.name}}}, {"uuid-name", iface}});
        ops.push_back({{"op", "insert"}, {"table", "Port"}, {"row", port_row(p, iface)}, {"uuid-name", port}});
        added.push_back(json::array({"named-uuid", port}));
        what += (what.empty() ? "attach " : " ") + p.name;
    }
    for (size_t i = 0; i < detach.size(); ++i) {
        auto it = port_named(detach[i]);
        if (it == existing.end())
            return failf(ENOENT, "{} is not a port of {}", detach[i], bridge);
        if (!owned(*it->second))
            return failf(EPERM, "{} is not ovs-agentd's port (no {}={}): left alone", detach[i], owner_key,
                         owner_value);
        gone.push_back(uuid_ref(it->first));
        what += (i == 0 ? (what.empty() ? "detach " : "; detach ") : " ") + detach[i];
    }
    for (size_t i = 0; i < retag.size(); ++i) {
        auto it = port_named(retag[i].name);
        if (it == existing.end())
            return failf(ENOENT, "{} is not a port of {}", retag[i].name, bridge);
        if (!owned(*it->second))
            return failf(EPERM, "{} is not ovs-agentd's port (no {}={}): left alone", retag[i].name, owner_key,
                         owner_value);
        ops.push_back({{"op", "update"}, {"table", "Port"}, {"where", where_uuid(it->first)},
                       {"row", vlan_columns(retag[i])}});
        what += (i == 0 ? (what.empty() ? "retag " : "; retag ") : " ") + retag[i].name;
    }
    json mutations = json::array();
    if (!added.empty())
        mutations.push_back(json::array({"ports", "insert", json::array({"set", std::move(added)})}));
    if (!gone.empty())
        mutations.push_back(json::array({"ports", "delete", json::array({"set", std::move(gone)})}));
    if (!mutations.empty())
        ops.push_back({{"op", "mutate"}, {"table", "Bridge"}, {"where", where_uuid(b.uuid)}, {"mutations", mutations}});
    finish(ops, fmt::format("{}: {}", bridge, what.empty() ? std::string("nothing") : what));
    return ops;
}

json create_bridge_ops(std::string_view bridge, std::string_view datapath_type)
{
    std::string name(bridge);
    json ops = json::array();
    // The guard: still no bridge of that name (a wait until no row matches).
    ops.push_back({{"op", "wait"}, {"table", "Bridge"}, {"timeout", 0},
                   {"where", json::array({json::array({"name", "==", name})})}, {"columns", {"name"}},
                   {"until", "=="}, {"rows", json::array()}});
    ops.push_back({{"op", "insert"}, {"table", "Interface"}, {"row", {{"name", name}, {"type", "internal"}}},
                   {"uuid-name", "iface"}});
    ops.push_back({{"op", "insert"}, {"table", "Port"},
                   {"row", {{"name", name}, {"interfaces", json::array({"named-uuid", "iface"})}}}, {"uuid-name", "port"}});
    ops.push_back({{"op", "insert"}, {"table", "Bridge"},
                   {"row", {{"name", name}, {"ports", json::array({"named-uuid", "port"})},
                            {"datapath_type", datapath_type},
                            {"external_ids", json::array({"map", json::array({json::array({owner_key, owner_value})})})}}},
                   {"uuid-name", "bridge"}});
    ops.push_back({{"op", "mutate"}, {"table", "Open_vSwitch"}, {"where", json::array()},
                   {"mutations", json::array({json::array({"bridges", "insert", json::array({"named-uuid", "bridge"})})})}});
    finish(ops, fmt::format("create bridge {} ({})", bridge, datapath_type));
    return ops;
}

Result<json> migration_mark_ops(const ovsdb::Replica &r, std::string_view bridge, std::string_view text)
{
    BridgeRef b = find_bridge(r, bridge);
    if (!b.row)
        return failf(ENOENT, "no bridge {}", bridge);
    json where = json::array({json::array({"_uuid", "==", json::array({"uuid", b.uuid.to_string()})})});
    json ops = json::array();
    ops.push_back({{"op", "mutate"}, {"table", "Bridge"}, {"where", where},
                   {"mutations", json::array({json::array({"external_ids", "delete",
                                                           json::array({"set", json::array({migration_key})})})})}});
    if (!text.empty())
        ops.push_back({{"op", "mutate"}, {"table", "Bridge"}, {"where", where},
                       {"mutations", json::array({json::array({"external_ids", "insert",
                                                               json::array({"map", json::array({json::array(
                                                                                       {migration_key, text})})})})})}});
    finish(ops, fmt::format("{}: {} uplink migration mark", bridge, text.empty() ? "clear" : "set"));
    return ops;
}

Result<json> delete_bridge_ops(const ovsdb::Replica &r, std::string_view bridge)
{
    BridgeRef b = find_bridge(r, bridge);
    if (!b.row)
        return failf(ENOENT, "no bridge {}", bridge);
    if (!owned(*b.row))
        return failf(EPERM, "bridge {} is not the agent's", bridge);
    json ops = json::array();
    ops.push_back({{"op", "mutate"}, {"table", "Open_vSwitch"}, {"where", json::array()},
                   {"mutations", json::array({json::array({"bridges", "delete",
                                                           json::array({"uuid", b.uuid.to_string()})})})}});
    finish(ops, fmt::format("delete bridge {}", bridge));
    return ops;
}

Result<json> attach_ops(const ovsdb::Replica &r, std::string_view bridge, const std::vector<PortSpec> &ports)
{
    return change_ops(r, bridge, ports, {});
}

Result<json> detach_ops(const ovsdb::Replica &r, std::string_view bridge, const std::vector<std::string> &names)
{
    return change_ops(r, bridge, {}, names);
}

std::optional<int64_t> next_cfg_of(const json &results)
{
    if (!results.is_array())
        return std::nullopt;
    for (const json &r : results) {   // the select's result: {"rows": [{"next_cfg": N}]}
        if (!r.is_object() || !r.contains("rows") || !r["rows"].is_array() || r["rows"].size() != 1)
            continue;
        const json &row = r["rows"][0];
        if (row.is_object() && row.contains("next_cfg") && row["next_cfg"].is_number_integer())
            return row["next_cfg"].get<int64_t>();
    }
    return std::nullopt;
}

const ovsdb::MonitorSpec &monitored()
{
    static const ovsdb::MonitorSpec spec = {
        {"Open_vSwitch", {"bridges", "next_cfg", "cur_cfg", "ovs_version"}},
        {"Bridge", {"name", "ports", "datapath_type", "external_ids"}},
        {"Port", {"name", "interfaces", "tag", "trunks", "external_ids"}},
        {"Interface", {"name", "type", "ofport", "error", "external_ids"}},
    };
    return spec;
}

} // namespace alopex::ovs
