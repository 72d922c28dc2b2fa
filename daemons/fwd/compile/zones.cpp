// SPDX-License-Identifier: GPL-2.0-or-later
// Interfaces and addresses of zones: which zone an interface is in, and the element
// operations that move it or change a zone's address sets.
#include <netinet/in.h>
#include <fnmatch.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>

#include <set>

#include <fmt/format.h>

#include "compile/internal.hpp"

namespace alopex::fwd::compile {

namespace detail {

std::vector<const Zone *> ordered_zones(const Model &m)
{
    std::vector<const Zone *> out;
    out.reserve(m.zones.size());
    std::set<std::string_view> seen;
    for (const std::string &name : m.zone_order) {
        auto it = m.zones.find(name);
        if (it != m.zones.end() && seen.insert(it->first).second)
            out.push_back(&it->second);
    }
    for (const auto &[name, z] : m.zones)
        if (seen.insert(name).second)
            out.push_back(&z);
    return out;
}

std::vector<nft::ElementOp> interface_elements(const Zone &z, const std::string &ifname,
                                               bool add)
{
    std::vector<nft::ElementOp> ops;
    const auto kind = add ? nft::ElementOp::Kind::add : nft::ElementOp::Kind::remove;
    const std::string origin = "interface " + ifname;
    auto one = [&](const char *set, std::optional<std::string> chain) {
        nft::ElementOp op;
        op.kind = kind;
        op.set = set;
        op.element.key = ifname_key(ifname);
        if (chain && add)
            op.element.verdict = nft::Verdict{NFT_JUMP, *chain};
        op.element.origin = origin;
        ops.push_back(std::move(op));
    };
    one("input_zones", zone_chain(z.name, Hook::input));
    one("forward_zones", zone_chain(z.name, Hook::forward));
    one("output_zones", zone_chain(z.name, Hook::output));
    one("dnat_zones", dnat_chain(z.name));
    if (z.masquerade)
        one("masq_ifnames", std::nullopt);
    return ops;
}

namespace {
bool is_glob(const std::string &p) { return p.find_first_of("*?[") != std::string::npos; }
} // namespace

} // namespace detail

using namespace detail;

std::string zone_of(const Model &model, const std::map<std::string, std::string> &assigned,
                    const std::string &ifname)
{
    if (auto it = assigned.find(ifname);
        it != assigned.end() && !it->second.empty() && model.zones.count(it->second))
        return it->second;
    const auto zones = ordered_zones(model);
    for (const Zone *z : zones)
        for (const std::string &p : z->interfaces)
            if (!is_glob(p) && p == ifname)
                return z->name;
    for (const Zone *z : zones)
        for (const std::string &p : z->interfaces)
            if (is_glob(p) && fnmatch(p.c_str(), ifname.c_str(), 0) == 0)
                return z->name;
    if (model.zones.count(model.default_zone))
        return model.default_zone;
    return {};
}

std::vector<nft::ElementOp> address_ops(const std::string &zone, const net::Address &host, bool add)
{
    std::vector<nft::ElementOp> ops;
    if (host.empty())
        return ops;
    nft::ElementOp op;
    op.kind = add ? nft::ElementOp::Kind::add : nft::ElementOp::Kind::remove;
    op.set = addr_set(zone, uint8_t(host.family()));
    op.element.key.assign(host.bytes().begin(), host.bytes().end());
    op.element.origin = fmt::format("zone {} address {}", zone, host);
    ops.push_back(std::move(op));
    return ops;
}

std::vector<nft::ElementOp> interface_ops(const Model &model, const std::string &ifname,
                                          const std::string &from_zone, const std::string &to_zone)
{
    std::vector<nft::ElementOp> ops;
    if (from_zone == to_zone)
        return ops;
    if (auto it = model.zones.find(from_zone); !from_zone.empty() && it != model.zones.end())
        ops = interface_elements(it->second, ifname, false);
    if (auto it = model.zones.find(to_zone); !to_zone.empty() && it != model.zones.end()) {
        auto more = interface_elements(it->second, ifname, true);
        ops.insert(ops.end(), std::make_move_iterator(more.begin()),
                   std::make_move_iterator(more.end()));
    }
    return ops;
}

} // namespace alopex::fwd::compile
