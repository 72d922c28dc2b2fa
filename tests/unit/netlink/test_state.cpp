// SPDX-License-Identifier: GPL-2.0-or-later
// Snapshot bookkeeping: apply() and diff().
#include <catch2/catch.hpp>

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <random>

#include "alopex/netlink/state.hpp"
#include "net_test.hpp"

using namespace alopex::netlink;
using namespace alopex::test;

namespace {

Link link(int ifindex, std::string name, unsigned flags = IFF_UP)
{
    Link l;
    l.ifindex = ifindex;
    l.name = std::move(name);
    l.flags = flags;
    l.mtu = 1500;
    return l;
}

Address addr(int ifindex, std::string a, uint8_t len, uint8_t family = AF_INET)
{
    Address x;
    x.ifindex = ifindex;
    x.family = family;
    x.address = ip(a);
    x.prefixlen = len;
    return x;
}

Route route(int oif, std::string dst, uint8_t len, uint8_t family = AF_INET, uint32_t table = RT_TABLE_MAIN)
{
    Route r;
    r.family = family;
    r.table = table;
    r.dst = ip(dst);
    r.dst_len = len;
    r.oif = oif;
    r.type = RTN_UNICAST;
    return r;
}

Message msg(Object o, bool removed = false) { return Message{removed, std::move(o)}; }

// A consumer that only knows the events.
void replay(Snapshot &s, const std::vector<Event> &events)
{
    for (const auto &e : events) {
        fold(s, e);
    }
}

} // namespace

TEST_CASE("netlink: apply reports new, changed and nothing for a repeat", "[netlink][state]")
{
    Snapshot s;
    auto ev = apply(s, msg(link(2, "veth0")));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].change == Change::New);
    CHECK(apply(s, msg(link(2, "veth0"))).empty());

    auto renamed = link(2, "wan");
    ev = apply(s, msg(renamed));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].change == Change::Changed);
    CHECK(std::get<Link>(ev[0].object).name == "wan");
    REQUIRE(ev[0].previous);
    CHECK(std::get<Link>(*ev[0].previous).name == "veth0");

    ev = apply(s, msg(addr(2, "192.0.2.1", 24)));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].change == Change::New);
    auto a = addr(2, "192.0.2.1", 24);
    a.valid_lft = 100;
    ev = apply(s, msg(a));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].change == Change::Changed);
    ev = apply(s, msg(addr(2, "192.0.2.1", 24), true));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].change == Change::Removed);
    CHECK(apply(s, msg(addr(2, "192.0.2.1", 24), true)).empty());
}

TEST_CASE("netlink: apply mirrors the kernel's silent removals", "[netlink][state]")
{
    Snapshot s;
    apply(s, msg(link(2, "a")));
    apply(s, msg(link(3, "b")));
    apply(s, msg(addr(2, "192.0.2.1", 24)));
    apply(s, msg(addr(2, "2001:db8::1", 64, AF_INET6)));
    apply(s, msg(addr(3, "198.51.100.1", 24)));
    apply(s, msg(route(2, "192.0.2.0", 24)));
    apply(s, msg(route(2, "2001:db8::", 64, AF_INET6)));
    apply(s, msg(route(3, "198.51.100.0", 24)));

    SECTION("a removed link takes its addresses and routes along")
    {
        auto ev = apply(s, msg(link(2, "a"), true));
        CHECK(ev.size() == 5);
        CHECK(ev.back().change == Change::Removed);
        CHECK(std::holds_alternative<Link>(ev.back().object));
        CHECK(s.links.size() == 1);
        CHECK(s.addresses.size() == 1);
        CHECK(s.routes.size() == 1);
    }
    SECTION("a link going down loses its IPv4 routes only")
    {
        auto ev = apply(s, msg(link(2, "a", 0)));
        REQUIRE(ev.size() == 2);
        CHECK(ev[0].change == Change::Removed);
        CHECK(std::get<Route>(ev[0].object).dst == ip("192.0.2.0"));
        CHECK(ev[1].change == Change::Changed);
        CHECK(s.routes.size() == 2);
        CHECK(s.addresses.size() == 3);
    }
}

TEST_CASE("netlink: IPv4 address removal takes the kernel's silent route flushes along", "[netlink][state]")
{
    Snapshot s;
    apply(s, msg(link(2, "a")));
    apply(s, msg(addr(2, "192.0.2.1", 24)));
    apply(s, msg(addr(2, "192.0.2.9", 24)));
    auto via = route(2, "198.51.100.0", 24);
    via.gateway = ip("192.0.2.254");
    apply(s, msg(via));
    auto pref = route(3, "203.0.113.0", 24);
    pref.prefsrc = ip("192.0.2.1");
    apply(s, msg(pref));
    auto local = route(2, "192.0.2.9", 32, AF_INET, RT_TABLE_LOCAL);
    local.type = RTN_LOCAL;
    apply(s, msg(local));
    apply(s, msg(route(2, "2001:db8::", 64, AF_INET6)));

    SECTION("a link going down keeps its local routes")
    {
        apply(s, msg(link(2, "a", 0)));
        CHECK(s.routes.contains(key_of(local)));
        CHECK_FALSE(s.routes.contains(key_of(via)));
    }
    SECTION("address removals")
    {
        // The preferred source is gone: the route preferring it goes, others stay.
        auto ev = apply(s, msg(addr(2, "192.0.2.1", 24), true));
        REQUIRE(ev.size() == 2);
        CHECK(std::get<Route>(ev[1].object).prefsrc == ip("192.0.2.1"));
        CHECK(s.routes.size() == 3);
        // The link's last IPv4 address is gone: its IPv4 routes go, IPv6 stays.
        ev = apply(s, msg(addr(2, "192.0.2.9", 24), true));
        CHECK(ev.size() == 3);
        REQUIRE(s.routes.size() == 1);
        CHECK(s.routes.begin()->second.family == AF_INET6);
    }
}

TEST_CASE("netlink: route keys and the route filter", "[netlink][state]")
{
    Snapshot s;
    // Same prefix in two tables, on two devices and with two metrics: four routes.
    apply(s, msg(route(2, "10.0.0.0", 8)));
    apply(s, msg(route(2, "10.0.0.0", 8, AF_INET, 100)));
    apply(s, msg(route(3, "10.0.0.0", 8)));
    auto r = route(2, "10.0.0.0", 8);
    r.priority = 50;
    apply(s, msg(r));
    CHECK(s.routes.size() == 4);
    // A replaced gateway is a change of the same route.
    auto g = route(2, "10.0.0.0", 8);
    g.gateway = ip("192.0.2.254");
    auto ev = apply(s, msg(g));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].change == Change::Changed);

    RouteFilter main_only = [](const Route &x) { return x.table == RT_TABLE_MAIN; };
    Snapshot f;
    CHECK(apply(f, msg(route(2, "10.0.0.0", 8, AF_INET, 100)), main_only).empty());
    CHECK(apply(f, msg(route(2, "10.0.0.0", 8)), main_only).size() == 1);
    CHECK(f.routes.size() == 1);
}

TEST_CASE("netlink: diff gives exactly the differences", "[netlink][state]")
{
    Snapshot a;
    apply(a, msg(link(1, "lo")));
    apply(a, msg(link(2, "old")));
    apply(a, msg(addr(2, "192.0.2.1", 24)));
    apply(a, msg(route(2, "192.0.2.0", 24)));
    apply(a, msg(route(1, "127.0.0.0", 8)));

    Snapshot b;
    apply(b, msg(link(1, "lo", IFF_UP | IFF_RUNNING)));
    apply(b, msg(link(3, "new")));
    apply(b, msg(addr(3, "198.51.100.1", 24)));
    apply(b, msg(route(3, "198.51.100.0", 24)));
    apply(b, msg(route(1, "127.0.0.0", 8)));

    CHECK(diff(a, a).empty());
    auto ev = diff(a, b);
    // removed: route, address, link 2; changed: link 1; new: link 3, address, route
    REQUIRE(ev.size() == 7);
    CHECK(ev[0].change == Change::Removed);
    CHECK(std::holds_alternative<Route>(ev[0].object));
    CHECK(std::holds_alternative<Address>(ev[1].object));
    CHECK(std::holds_alternative<Link>(ev[2].object));
    CHECK(ev[3].change == Change::Changed);
    CHECK(std::get<Link>(ev[3].object).ifindex == 1);
    CHECK(ev[4].change == Change::New);
    CHECK(std::holds_alternative<Link>(ev[4].object));
    CHECK(std::holds_alternative<Address>(ev[5].object));
    CHECK(std::holds_alternative<Route>(ev[6].object));

    Snapshot consumer = a;
    replay(consumer, ev);
    CHECK(consumer == b);
    CHECK(diff(Snapshot{}, b).size() == b.links.size() + b.addresses.size() + b.routes.size());
}

TEST_CASE("netlink: random snapshots converge through diff", "[netlink][state]")
{
    std::mt19937 rng(7);
    auto random_snapshot = [&] {
        Snapshot s;
        for (int i = 1; i <= 8; ++i)
            if (rng() % 2)
                apply(s, msg(link(i, "l" + std::to_string(i), rng() % 2 ? IFF_UP : 0)));
        for (int i = 0; i < 12; ++i)
            apply(s, msg(addr(1 + static_cast<int>(rng() % 8), "10.0.0." + std::to_string(rng() % 6),
                              static_cast<uint8_t>(24 + rng() % 2))));
        for (int i = 0; i < 12; ++i) {
            auto r = route(1 + static_cast<int>(rng() % 8), "10." + std::to_string(rng() % 4) + ".0.0", 16);
            r.priority = rng() % 3;
            r.gateway = rng() % 2 ? ip("10.0.0.1") : alopex::net::Address();
            apply(s, msg(r));
        }
        return s;
    };
    for (int round = 0; round < 200; ++round) {
        auto a = random_snapshot(), b = random_snapshot();
        Snapshot consumer = a;
        replay(consumer, diff(a, b));
        REQUIRE(consumer == b);
        REQUIRE(diff(b, consumer).empty());
    }
}
