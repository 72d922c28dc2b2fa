// SPDX-License-Identifier: GPL-2.0-or-later
#include "block.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "port_view.hpp"

namespace alopex::ovs {

std::string render_block(std::string_view bridge, std::vector<BlockPort> ports)
{
    std::sort(ports.begin(), ports.end(), [](const BlockPort &a, const BlockPort &b) { return a.name < b.name; });
    std::string out = fmt::format("# alopex-ovs-agentd: its ports on {}, rewritten on every change\n", bridge);
    for (const auto &p : ports) {
        out += fmt::format("\nauto {0}\nallow-{1} {0}\niface {0} inet manual\n\tovs_type OVSPort\n\tovs_bridge {1}\n",
                           p.name, bridge);
        std::vector<std::string> options;
        if (p.tag)
            options.push_back(fmt::format("tag={}", *p.tag));
        if (!p.trunks.empty())
            options.push_back(fmt::format("trunks={}", fmt::join(p.trunks, ",")));
        if (!options.empty())
            out += fmt::format("\tovs_options {}\n", fmt::join(options, " "));
    }
    return out;
}

std::vector<BlockPort> block_ports(const ovsdb::Replica &r, std::string_view bridge)
{
    std::vector<BlockPort> out;
    for (auto &p : port_views(r, bridge))
        if (p.ours)
            out.push_back({std::move(p.name), p.tag, std::move(p.trunks)});
    return out;
}

} // namespace alopex::ovs
