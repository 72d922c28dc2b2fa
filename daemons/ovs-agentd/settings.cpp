// SPDX-License-Identifier: GPL-2.0-or-later
#include "settings.hpp"

#include <algorithm>
#include <cerrno>

#include "alopex/config.hpp"

namespace alopex::ovs {

using config::Node;
using config::Table;

namespace {

// A prefix may be shorter than a name but follows the same rules.
Result<std::vector<std::string>> prefixes(const Table &t)
{
    ALOPEX_TRY(list, t.optional_array("include_prefixes"));
    if (!list)
        return Settings{}.prefixes;
    std::vector<std::string> out;
    for (size_t i = 0; i < list->size(); ++i) {
        ALOPEX_TRY(p, list->at(i).as_string());
        if (!valid_ifname(p))
            return list->at(i).failf("'{}' cannot begin an interface name (1 to 15 bytes, no '/', ':' or spaces)", p);
        out.push_back(p);
    }
    return out;
}

Result<uint16_t> vlan(const Node &n, std::string_view what)
{
    ALOPEX_TRY(v, n.as_integer());
    if (v < 0 || v > 4095)
        return n.failf("'{}' must be a VLAN 0..4095, not {}", what, v);
    return static_cast<uint16_t>(v);
}

Result<void> parse_ports(const Table &root, Settings &s)
{
    ALOPEX_TRY(ports, root.optional_table("ports"));
    if (!ports)
        return {};
    for (const auto &[name, node] : ports->entries()) {
        if (!valid_ifname(name))
            return node.failf("[ports] '{}' is not an interface name (1 to 15 bytes)", name);
        ALOPEX_TRY(t, node.as_table());
        ALOPEX_TRY_VOID(t.require_known_keys({"tag", "trunks"}));
        VlanSettings v;
        if (auto n = t.get("tag")) {
            ALOPEX_TRY(tag, vlan(*n, "tag"));
            v.tag = tag;
        }
        ALOPEX_TRY(trunks, t.optional_array("trunks"));
        for (size_t i = 0; trunks && i < trunks->size(); ++i) {
            ALOPEX_TRY(x, vlan(trunks->at(i), "trunks"));
            v.trunks.push_back(x);
        }
        s.vlans.emplace(name, std::move(v));
    }
    return {};
}

Result<void> parse_bridge(const Table &root, Settings &s)
{
    ALOPEX_TRY(b, root.optional_table("bridge"));
    if (!b)
        return {};
    ALOPEX_TRY_VOID(b->require_known_keys({"create", "datapath_type"}));
    ALOPEX_TRY(create, b->optional_boolean("create"));
    s.create_bridge = create.value_or(false);
    ALOPEX_TRY(dp, b->optional_string("datapath_type"));
    if (dp && *dp != "system" && *dp != "netdev")
        return b->get("datapath_type")->failf("'datapath_type' must be \"system\" or \"netdev\", not '{}'", *dp);
    if (dp)
        s.datapath_type = *dp;
    return {};
}

Result<void> parse_flows(const Table &root, Settings &s)
{
    ALOPEX_TRY(f, root.optional_table("flows"));
    if (!f)
        return {};
    ALOPEX_TRY_VOID(f->require_known_keys({"enable", "local"}));
    ALOPEX_TRY(enable, f->optional_boolean("enable"));
    s.flows = enable.value_or(false);
    ALOPEX_TRY(list, f->optional_array("local"));
    if (!list)
        return {};
    if (list->size() > 256)
        return f->get("local")->failf("'local' holds at most 256 networks, not {}", list->size());
    for (size_t i = 0; i < list->size(); ++i) {
        ALOPEX_TRY(text, list->at(i).as_string());
        auto p = net::Prefix::parse_network(text, "network");
        if (!p)
            return list->at(i).failf("'local': {}", p.error().message);
        if (std::find(s.local.begin(), s.local.end(), *p) != s.local.end())
            return list->at(i).failf("'local': {} is given twice", p->to_string());
        s.local.push_back(*p);
    }
    return {};
}

Result<void> parse_naming(const Table &root, Settings &s)
{
    ALOPEX_TRY(tmpl, root.optional_string("naming_template"));
    if (tmpl) {
        if (tmpl->find("{container}") == std::string::npos && tmpl->find("{index}") == std::string::npos)
            return root.get("naming_template")->failf("'naming_template' needs {{container}} or {{index}}: '{}'", *tmpl);
        s.naming_template = *tmpl;
    }
    ALOPEX_TRY(rename, root.optional_boolean("enable_rename"));
    s.enable_rename = rename.value_or(false);
    if (auto n = root.get("container_name_cmd")) {
        // The seed took a string; a string here is split on spaces (no shell, no quoting).
        if (n->kind() == config::Kind::string) {
            ALOPEX_TRY(text, n->as_string());
            for (size_t i = 0; i < text.size();) {
                size_t j = text.find(' ', i);
                if (j != i)
                    s.container_name_cmd.push_back(text.substr(i, j == std::string::npos ? j : j - i));
                i = j == std::string::npos ? text.size() : j + 1;
            }
        } else {
            ALOPEX_TRY(argv, n->as_array());
            for (size_t i = 0; i < argv.size(); ++i) {
                ALOPEX_TRY(a, argv.at(i).as_string());
                s.container_name_cmd.push_back(a);
            }
        }
        if (s.container_name_cmd.empty() || !s.container_name_cmd[0].starts_with('/'))
            return n->failf("'container_name_cmd' must start with an absolute path (it runs without a shell)");
    }
    return {};
}

} // namespace

namespace {

Result<Settings> from_document(const config::Document &doc)
{
    Table root = doc.root();
    ALOPEX_TRY_VOID(root.require_known_keys({"bridge_name", "interfaces_path", "include_prefixes", "debounce_ms",
                                             "managed_block_tag", "naming_template", "enable_rename",
                                             "container_name_cmd", "ledger_path", "bridge", "ports", "flows"}));
    Settings s;
    ALOPEX_TRY(bridge, root.optional_string("bridge_name"));
    if (bridge && !valid_ifname(*bridge))
        return root.get("bridge_name")->failf("'bridge_name' is not an interface name (1 to 15 bytes): '{}'", *bridge);
    if (bridge)
        s.bridge = *bridge;
    ALOPEX_TRY(p, prefixes(root));
    s.prefixes = std::move(p);
    ALOPEX_TRY(debounce, root.optional_integer("debounce_ms"));
    if (debounce && (*debounce < 0 || *debounce > 10'000))
        return root.get("debounce_ms")->failf("'debounce_ms' must be 0..10000, not {}", *debounce);
    if (debounce)
        s.debounce_usec = static_cast<uint64_t>(*debounce) * 1000;
    ALOPEX_TRY(tag, root.optional_string("managed_block_tag"));
    if (tag && (tag->empty() || tag->size() > 64 ||
                tag->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-") !=
                    std::string::npos))
        return root.get("managed_block_tag")->failf("'managed_block_tag' must be 1 to 64 of [A-Za-z0-9._:@-]");
    if (tag)
        s.block_tag = *tag;
    ALOPEX_TRY_VOID(parse_naming(root, s));
    ALOPEX_TRY_VOID(parse_bridge(root, s));
    ALOPEX_TRY_VOID(parse_ports(root, s));
    ALOPEX_TRY_VOID(parse_flows(root, s));
    if (auto n = root.get("interfaces_path"))
        s.notices.push_back(fmt::format("{}: interfaces_path is the broker's: its [[block]] id \"interfaces\" names "
                                        "the file", n->where()));
    if (auto n = root.get("ledger_path"))
        s.notices.push_back(fmt::format("{}: ledger_path is not used: the ledger is the suite's, kept by "
                                        "alopex-brokerd", n->where()));
    return s;
}

} // namespace

Result<Settings> parse_settings(std::string_view text, std::string file)
{
    return config::parse_with<Settings>(text, std::move(file), from_document);
}

Result<Settings> load_settings(const std::filesystem::path &path)
{
    return config::load_or_defaults<Settings>(path, from_document);
}

} // namespace alopex::ovs
