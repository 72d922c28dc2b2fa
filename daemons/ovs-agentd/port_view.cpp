// SPDX-License-Identifier: GPL-2.0-or-later
#include "port_view.hpp"

#include <algorithm>
#include <charconv>

#include "port_ops.hpp"

namespace alopex::ovs {

using ovsdb::Atom;

namespace {

std::string text_of(const Atom *a)
{
    return a && std::holds_alternative<std::string>(*a) ? std::get<std::string>(*a) : std::string();
}

std::optional<int64_t> integer_of(const Atom *a)
{
    if (a && std::holds_alternative<int64_t>(*a))
        return std::get<int64_t>(*a);
    return std::nullopt;
}

const ovsdb::Row *interface_of(const ovsdb::Replica &r, const ovsdb::Row &port, const std::string &name)
{
    const ovsdb::Row *first = nullptr;
    for (const auto &a : port.get("interfaces").keys()) {
        if (!std::holds_alternative<ovsdb::Uuid>(a))
            continue;
        const ovsdb::Row *row = r.row("Interface", std::get<ovsdb::Uuid>(a));
        if (row && name_of(*row) == name)
            return row;
        if (row && !first)
            first = row;
    }
    return first;
}

} // namespace

std::vector<PortView> port_views(const ovsdb::Replica &r, std::string_view bridge)
{
    std::vector<PortView> out;
    for (const auto &[uuid, row] : bridge_ports(r, find_bridge(r, bridge))) {
        PortView v;
        v.name = name_of(*row);
        if (v.name == bridge)
            continue;   // the bridge's own internal port, as ovs-vsctl list-ports leaves it out
        v.ours = owned(*row);
        if (auto t = integer_of(row->get("tag").single()); t && *t >= 0 && *t <= 4095)
            v.tag = static_cast<uint16_t>(*t);
        for (const auto &a : row->get("trunks").keys())
            if (auto t = integer_of(&a); t && *t >= 0 && *t <= 4095)
                v.trunks.push_back(static_cast<uint16_t>(*t));
        const auto &ids = row->get("external_ids");
        v.container = text_of(ids.find(Atom{std::string(container_key)}));
        std::string vmid = text_of(ids.find(Atom{std::string(vmid_key)}));
        uint32_t n = 0;
        if (auto [p, ec] = std::from_chars(vmid.data(), vmid.data() + vmid.size(), n);
            ec == std::errc() && p == vmid.data() + vmid.size())
            v.vmid = n;
        if (const ovsdb::Row *iface = interface_of(r, *row, v.name)) {
            v.ofport = integer_of(iface->get("ofport").single());
            v.error = text_of(iface->get("error").single());
        }
        out.push_back(std::move(v));
    }
    std::sort(out.begin(), out.end(), [](const PortView &a, const PortView &b) { return a.name < b.name; });
    return out;
}

} // namespace alopex::ovs
