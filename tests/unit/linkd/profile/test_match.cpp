// SPDX-License-Identifier: GPL-2.0-or-later
// Which profile applies to a link: file-name order, globs, MACs, netdev files first.
#include <catch2/catch.hpp>

#include "match.hpp"

using namespace alopex::linkd::profile;
using alopex::netlink::Link;

namespace {

Profiles load(std::vector<std::pair<std::string, std::string>> files)
{
    auto p = parse_files(files);
    if (!p)
        FAIL(p.error().message);
    return *p;
}

Link mk_link(std::string name, std::string mac, std::string kind = "")
{
    Link l;
    l.ifindex = 7;
    l.name = std::move(name);
    l.mac = mac.empty() ? alopex::net::Mac() : alopex::net::Mac::parse(mac).value();
    l.kind = std::move(kind);
    return l;
}

} // namespace

TEST_CASE("the first matching profile in file-name order wins", "[linkd][profile]")
{
    auto p = load({{"10-eth0.toml", "[match]\nname = \"eth0\"\n[link]\nzone = \"a\"\n"},
                   {"20-eth.toml", "[match]\nname = \"eth*\"\n[link]\nzone = \"b\"\n"},
                   {"30-mac.toml", "[match]\nmac = \"02:00:00:00:00:09\"\n[link]\nzone = \"c\"\n"},
                   {"40-both.toml", "[match]\nname = \"en[0-9]\"\nmac = \"02:00:00:00:00:0A\"\n"
                                    "[link]\nzone = \"d\"\n"},
                   {"50-any.toml", "[match]\nname = \"*\"\n[link]\nzone = \"e\"\n"}});
    auto zone = [&](const Link &l) {
        auto *lp = match(p, l);
        return lp ? lp->settings.zone : std::string("-");
    };
    CHECK(zone(mk_link("eth0", "02:00:00:00:00:09")) == "a");
    CHECK(zone(mk_link("eth1", "02:00:00:00:00:09")) == "b");
    CHECK(zone(mk_link("wlan0", "02:00:00:00:00:09")) == "c");
    CHECK(zone(mk_link("en1", "02:00:00:00:00:0a")) == "d");  // both name and mac
    CHECK(zone(mk_link("en1", "02:00:00:00:00:0b")) == "e");  // mac differs: not 40
    CHECK(zone(mk_link("en10", "02:00:00:00:00:0a")) == "e"); // glob [0-9] is one char
    CHECK(zone(mk_link("lo", "")) == "e");
    // Devices that inherit a MAC never match by MAC.
    CHECK(zone(mk_link("vl", "02:00:00:00:00:09", "vlan")) == "e");
    CHECK(zone(mk_link("br9", "02:00:00:00:00:09", "bridge")) == "e");
    CHECK(zone(mk_link("vth", "02:00:00:00:00:09", "veth")) == "c");
}

TEST_CASE("no profile, no match", "[linkd][profile]")
{
    auto p = load({{"10.toml", "[match]\nname = \"eth?\"\n"}});
    CHECK(match(p, mk_link("eth10", "")) == nullptr);
    CHECK_FALSE(settings_for(p, mk_link("wlan0", "")));
    CHECK(match(p, mk_link("eth1", "")) == &p.links[0]);
}

TEST_CASE("a netdev file configures its own device; [match] profiles do not", "[linkd][profile]")
{
    auto p = load({{"10-any.toml", "[match]\nname = \"*\"\n[link]\nzone = \"any\"\n"},
                   {"20-br.toml", "[netdev]\nname = \"br0\"\nkind = \"bridge\"\n[link]\nzone = \"lan\"\n"},
                   {"30-ve.toml", "[netdev]\nname = \"ve0\"\nkind = \"veth\"\npeer = \"ve1\"\n"}});
    auto br = settings_for(p, mk_link("br0", "", "bridge"));
    REQUIRE(br);
    CHECK(br->settings->zone == "lan");
    CHECK(*br->file == "20-br.toml");
    CHECK(br->netdev == &p.netdevs[0]);
    auto ve0 = settings_for(p, mk_link("ve0", "", "veth"));
    REQUIRE(ve0);
    CHECK(ve0->settings->zone.empty()); // its own file, with default settings
    auto ve1 = settings_for(p, mk_link("ve1", "", "veth"));
    REQUIRE(ve1);
    CHECK(ve1->settings->zone == "any"); // the peer is an ordinary link
    CHECK(ve1->netdev == nullptr);
}
