// SPDX-License-Identifier: GPL-2.0-or-later
// Per-link DNS as forward zones (daemons/dnsd-controller/link_zones.hpp) and the control
// commands that bring unbound from one set to the next.
#include <catch2/catch.hpp>

#include "link_zones.hpp"

using namespace alopex::dns;
using V = std::vector<std::string>;

TEST_CASE("links' domains become forward zones to their servers; a link without domains routes '.' only "
          "without upstreams", "[dns]")
{
    std::vector<LinkDns> links{
        {5, {"192.0.2.53", "2001:db8::53"}, {"Corp.Example.", "lab.example"}},
        {3, {"198.51.100.1"}, {"corp.example"}},
        {7, {"203.0.113.9"}, {}},           // DHCP without a domain
        {8, {}, {"nothing.example"}},       // a domain without servers
        {9, {"not an address"}, {"x.example"}},
        {10, {"192.0.2.99"}, {"bad..domain"}},
    };
    auto z = link_forward_zones(links, true);
    CHECK(z == ForwardZones{{"corp.example", V{"198.51.100.1", "192.0.2.53", "2001:db8::53"}},
                            {"lab.example", V{"192.0.2.53", "2001:db8::53"}}});
    auto no_upstreams = link_forward_zones(links, false);
    CHECK(no_upstreams.at(".") == V{"203.0.113.9", "192.0.2.99"});
    CHECK(link_forward_zones({}, false).empty());
}

TEST_CASE("forward commands: removals, additions, changed zones replaced, unchanged left", "[dns]")
{
    ForwardZones applied{{"gone.example", {"192.0.2.1"}}, {"same.example", {"192.0.2.2"}},
                         {"moved.example", {"192.0.2.3"}}};
    ForwardZones desired{{"same.example", {"192.0.2.2"}}, {"moved.example", {"192.0.2.4", "192.0.2.3"}},
                         {".", {"203.0.113.9"}}};
    CHECK(forward_commands(applied, desired) ==
          V{"forward_remove gone.example", "forward_add . 203.0.113.9",
            "forward_add moved.example 192.0.2.4 192.0.2.3"});
    CHECK(forward_commands(desired, desired).empty());
}
