// SPDX-License-Identifier: GPL-2.0-or-later
// The incremental connectivity: ConnectivityTracker agrees with compute_connectivity (the
// definition) after every step of a long random sequence of link, address and route
// events, recomputing only the links the events touched; the Manager recomputes once per
// loop iteration, and not while the first dump comes in.
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#include <random>

#include <catch2/catch.hpp>

#include "connectivity.hpp"
#include "manager.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::linkd;
using namespace alopex::test;
using netlink::Change;

namespace {

netlink::Link mklink(int ifindex, bool up, bool carrier, bool loopback = false)
{
    netlink::Link l;
    l.ifindex = ifindex;
    l.name = "l" + std::to_string(ifindex);
    l.type = loopback ? ARPHRD_LOOPBACK : ARPHRD_ETHER;
    l.flags = (up ? IFF_UP : 0) | (loopback ? IFF_LOOPBACK : 0);
    l.carrier = carrier;
    return l;
}

netlink::Address mkaddr(int ifindex, int n, uint8_t scope)
{
    netlink::Address a;
    a.ifindex = ifindex;
    a.family = AF_INET;
    a.address = ip(fmt::format("10.{}.{}.1", ifindex % 250, n));
    a.prefixlen = 24;
    a.scope = scope;
    return a;
}

netlink::Route mkdefault(int oif, int metric)
{
    netlink::Route r;
    r.family = AF_INET;
    r.table = RT_TABLE_MAIN;
    r.type = RTN_UNICAST;
    r.dst = ip("0.0.0.0");
    r.oif = oif;
    r.priority = static_cast<uint32_t>(metric);
    return r;
}

// A random event against `s`, folded into it, as the monitor would deliver it.
netlink::Event random_event(std::mt19937 &rng, const netlink::Snapshot &s)
{
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    int ifindex = 1 + pick(8);
    switch (pick(4)) {
    case 0: {   // a link appears, changes or goes
        bool exists = s.links.contains(ifindex);
        if (exists && pick(4) == 0)
            return {Change::Removed, s.links.at(ifindex), {}};
        auto l = mklink(ifindex, pick(3) != 0, pick(3) != 0, ifindex == 1);
        return {exists ? Change::Changed : Change::New, l, {}};
    }
    case 1:
    case 2: {   // an address
        auto a = mkaddr(ifindex, pick(3), pick(2) ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
        bool exists = s.addresses.contains(netlink::key_of(a));
        if (exists && pick(2) == 0)
            return {Change::Removed, s.addresses.at(netlink::key_of(a)), {}};
        return {exists ? Change::Changed : Change::New, a, {}};
    }
    default: {   // a default route through a link, or with no link
        auto r = mkdefault(pick(3) == 0 ? 0 : ifindex, pick(2));
        if (pick(5) == 0)
            r.table = 100;   // not main: never counts
        bool exists = s.routes.contains(netlink::key_of(r));
        if (exists && pick(2) == 0)
            return {Change::Removed, s.routes.at(netlink::key_of(r)), {}};
        return {exists ? Change::Changed : Change::New, r, {}};
    }
    }
}

} // namespace

TEST_CASE("the tracker agrees with compute_connectivity after every event, recomputing only what changed")
{
    std::mt19937 rng(20261207);
    netlink::Snapshot s;
    ConnectivityTracker t;
    size_t touched = 0;
    for (int step = 0; step < 5000; ++step) {
        // Between updates, one to three events (a loop iteration's worth).
        std::set<int> links;
        for (int n = 1 + static_cast<int>(rng() % 3); n > 0; --n) {
            auto e = random_event(rng, s);
            netlink::fold(s, e);
            t.event(e);
            if (const auto *l = std::get_if<netlink::Link>(&e.object))
                links.insert(l->ifindex);
            if (const auto *a = std::get_if<netlink::Address>(&e.object))
                links.insert(a->ifindex);
        }
        size_t before = t.recomputed();
        t.update(s);
        CHECK(t.recomputed() - before == links.size());
        touched += links.size();
        for (bool probe : {false, true})
            REQUIRE(t.value(probe) == compute_connectivity(s, probe));
        CHECK_FALSE(t.pending());
    }
    CHECK(t.recomputed() == touched);
}

TEST_CASE("the Manager recomputes connectivity once per loop iteration, and not during the first dump")
{
    sd_event *raw = nullptr;
    REQUIRE(sd_event_new(&raw) >= 0);
    EventPtr event(raw);
    ManagerOptions o;
    o.start_monitor = false;
    auto made = Manager::create(event.get(), nullptr, o, [](const rtnl::Request &, ExecDone done) { done({}); });
    REQUIRE(made);
    Manager &m = **made;
    constexpr int links = 300;
    for (int i = 2; i < 2 + links; ++i) {
        m.handle({Change::New, mklink(i, true, true), {}});
        m.handle({Change::New, mkaddr(i, 0, RT_SCOPE_UNIVERSE), {}});
    }
    // The first dump: nothing computed per event.
    CHECK(m.connectivity_tracker().recomputed() == 0);
    CHECK(m.connectivity() == Connectivity::None);
    m.handle_synced(true);
    CHECK(m.connectivity_tracker().recomputed() == links);   // once per link, at the end
    CHECK(m.connectivity() == Connectivity::Limited);

    // After it: events of one iteration are folded in once, for the links they touched.
    for (int i = 2; i < 2 + links; ++i)
        m.handle({Change::Changed, mklink(i, false, true), {}});
    CHECK(m.connectivity() == Connectivity::Limited);   // not yet: at the end of the iteration
    REQUIRE(sd_event_run(event.get(), 0) >= 0);
    CHECK(m.connectivity() == Connectivity::None);
    CHECK(m.connectivity_tracker().recomputed() == 2 * links);
    m.handle({Change::Changed, mklink(7, true, true), {}});
    m.handle({Change::New, mkaddr(7, 1, RT_SCOPE_UNIVERSE), {}});
    REQUIRE(sd_event_run(event.get(), 0) >= 0);
    CHECK(m.connectivity() == Connectivity::Limited);
    CHECK(m.connectivity_tracker().recomputed() == 2 * links + 1);
}
