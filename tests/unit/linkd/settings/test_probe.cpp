// SPDX-License-Identifier: GPL-2.0-or-later
// The probe context (pure) and the Prober over a real sd-event loop: state fed to the
// Manager by hand, the TCP connects go to a listener on 127.0.0.1 (an endpoint the
// parser refuses, built here directly), so no privileges and no namespaces are needed.
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>

#include <catch2/catch.hpp>

#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "connectivity.hpp"
#include "manager.hpp"
#include "net_test.hpp"
#include "probe.hpp"
#include "settings.hpp"

using namespace alopex;
using namespace alopex::linkd;
using namespace std::chrono_literals;
using netlink::Change;

namespace {

netlink::Link mklink(int ifindex, bool up = true)
{
    netlink::Link l;
    l.ifindex = ifindex;
    l.name = "veth" + std::to_string(ifindex);
    l.kind = "veth";
    l.type = ARPHRD_ETHER;
    l.mtu = 1500;
    l.flags = up ? IFF_UP | IFF_LOWER_UP | IFF_RUNNING : 0;
    l.carrier = up;
    return l;
}

netlink::Address mkaddr(int ifindex, std::string a, uint8_t scope = RT_SCOPE_UNIVERSE)
{
    netlink::Address x;
    x.ifindex = ifindex;
    x.family = AF_INET;
    x.address = alopex::test::ip(a);
    x.prefixlen = 24;
    x.scope = scope;
    x.flags = IFA_F_PERMANENT;
    return x;
}

netlink::Route mkdefault(int oif, std::string gw, uint32_t metric = 0)
{
    netlink::Route r;
    r.family = AF_INET;
    r.table = RT_TABLE_MAIN;
    r.type = RTN_UNICAST;
    r.dst = alopex::test::ip("0.0.0.0");
    r.gateway = alopex::test::ip(gw);
    r.oif = oif;
    r.priority = metric;
    return r;
}

netlink::Event ev(Change c, netlink::Object o) { return netlink::Event{c, std::move(o), {}}; }

std::unique_ptr<Manager> make()
{
    ManagerOptions o;
    o.start_monitor = false;
    auto m = Manager::create(nullptr, nullptr, o, [](const rtnl::Request &, ExecDone done) { done({}); });
    REQUIRE(m);
    (*m)->handle_synced(true);   // connectivity follows the events fed by hand from here on
    return std::move(*m);
}

EventPtr new_event()
{
    sd_event *raw = nullptr;
    REQUIRE(sd_event_new(&raw) >= 0);
    return EventPtr(raw);
}

// An event loop, a Manager fed by hand, and a Prober following its state.
struct Rig {
    EventPtr event = new_event();
    std::unique_ptr<Manager> m = make();
    Prober prober{event.get(), *m};
    Rig() { m->hooks.state_changed.add([this] { prober.state_changed(); }); }
};

// A TCP listener on 127.0.0.1 with an ephemeral port; accepted connections are left in
// the backlog (the probe only needs the handshake).
struct Listener {
    Fd fd;
    uint16_t port = 0;
    Listener()
    {
        fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(fd);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr *>(&sin), sizeof sin) == 0);
        REQUIRE(::listen(fd.get(), 64) == 0);
        socklen_t len = sizeof sin;
        REQUIRE(getsockname(fd.get(), reinterpret_cast<sockaddr *>(&sin), &len) == 0);
        port = ntohs(sin.sin_port);
    }
};

Endpoint loopback(uint16_t port)
{
    Endpoint e;
    e.address = alopex::test::ip("127.0.0.1");
    e.port = port;
    return e;
}

// Runs the loop until pred() holds or 10 s pass.
bool run_until(sd_event *e, const std::function<bool()> &pred)
{
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        REQUIRE(sd_event_run(e, 50000) >= 0);
    }
    return true;
}

} // namespace

TEST_CASE("probe context: empty below limited or without a default route; follows routes "
          "and global addresses")
{
    netlink::Snapshot s;
    CHECK(probe_context(s).empty());
    s.links[2] = mklink(2);
    auto a = mkaddr(2, "192.0.2.10");
    s.addresses[netlink::key_of(a)] = a;
    CHECK(probe_context(s).empty());   // limited, but no default route
    auto d = mkdefault(2, "192.0.2.1");
    s.routes[netlink::key_of(d)] = d;
    std::string c1 = probe_context(s);
    CHECK_FALSE(c1.empty());
    CHECK(probe_context(s) == c1);     // deterministic

    // A link-scope address or a second link without carrier changes nothing.
    auto ll = mkaddr(2, "169.254.0.1", RT_SCOPE_LINK);
    s.addresses[netlink::key_of(ll)] = ll;
    s.links[3] = mklink(3, false);
    auto a3 = mkaddr(3, "198.51.100.1");
    s.addresses[netlink::key_of(a3)] = a3;
    CHECK(probe_context(s) == c1);

    // A new global address on the uplink, or another gateway: a different context.
    auto a2 = mkaddr(2, "192.0.2.11");
    s.addresses[netlink::key_of(a2)] = a2;
    std::string c2 = probe_context(s);
    CHECK(c2 != c1);
    s.routes.clear();
    auto d2 = mkdefault(2, "192.0.2.254");
    s.routes[netlink::key_of(d2)] = d2;
    CHECK(probe_context(s) != c2);
    CHECK_FALSE(probe_context(s).empty());

    // A default route in another table, or through a link that is down, does not count.
    s.routes.clear();
    auto other = mkdefault(2, "192.0.2.1");
    other.table = 100;
    s.routes[netlink::key_of(other)] = other;
    auto via3 = mkdefault(3, "198.51.100.254");
    s.routes[netlink::key_of(via3)] = via3;
    CHECK(probe_context(s).empty());
}

TEST_CASE("Prober: success makes full, refusal limited, no default route clears it")
{
    Rig rig;
    auto &event = rig.event;
    auto &m = rig.m;
    auto &prober = rig.prober;

    auto listener = std::make_unique<Listener>();
    uint16_t port = listener->port;
    Settings s;
    s.probe = loopback(port);
    s.interval = 86400s;   // only state changes start probes in this test
    prober.configure(s);
    CHECK_FALSE(prober.running());   // nothing to probe for yet
    CHECK_FALSE(prober.result());

    m->handle(ev(Change::New, mklink(2)));
    m->handle(ev(Change::New, mkaddr(2, "192.0.2.10")));
    REQUIRE(run_until(event.get(), [&] { return m->connectivity() == Connectivity::Limited; }));
    // Limited without a default route: the probe does not run.
    for (int i = 0; i < 5; ++i)
        sd_event_run(event.get(), 50000);
    CHECK_FALSE(prober.result());
    CHECK_FALSE(prober.running());

    m->handle(ev(Change::New, mkdefault(2, "192.0.2.1")));
    REQUIRE(run_until(event.get(), [&] { return m->connectivity() == Connectivity::Full; }));
    CHECK(prober.result() == std::optional<bool>(true));

    // The listener goes: the next probe (started by a change of addresses) is refused.
    listener.reset();
    m->handle(ev(Change::New, mkaddr(2, "192.0.2.11")));
    REQUIRE(run_until(event.get(), [&] { return prober.result() == std::optional<bool>(false); }));
    CHECK(m->connectivity() == Connectivity::Limited);

    // The default route goes: the result is cleared.
    m->handle(ev(Change::Removed, mkdefault(2, "192.0.2.1")));
    REQUIRE(run_until(event.get(), [&] { return !prober.result().has_value(); }));
    CHECK(m->connectivity() == Connectivity::Limited);

    // Probing off: nothing runs, even with a default route.
    Listener again;
    prober.configure(Settings{});
    m->handle(ev(Change::New, mkdefault(2, "192.0.2.1")));
    for (int i = 0; i < 6; ++i)
        sd_event_run(event.get(), 50000);
    CHECK_FALSE(prober.running());
    CHECK_FALSE(prober.result());
    CHECK(m->connectivity() == Connectivity::Limited);

    // Probing on again (a reload): it probes at once, the state allowing it.
    s.probe = loopback(again.port);
    prober.configure(s);
    REQUIRE(run_until(event.get(), [&] { return m->connectivity() == Connectivity::Full; }));
}

TEST_CASE("Prober: the interval re-probes without any state change")
{
    Rig rig;
    auto &event = rig.event;
    auto &m = rig.m;
    auto &prober = rig.prober;
    m->handle(ev(Change::New, mklink(2)));
    m->handle(ev(Change::New, mkaddr(2, "192.0.2.10")));
    m->handle(ev(Change::New, mkdefault(2, "192.0.2.1")));

    auto listener = std::make_unique<Listener>();
    Settings s;
    s.probe = loopback(listener->port);
    s.interval = 1s;
    prober.configure(s);   // the state allows a probe: it starts now
    REQUIRE(run_until(event.get(), [&] { return m->connectivity() == Connectivity::Full; }));
    listener.reset();
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(run_until(event.get(), [&] { return m->connectivity() == Connectivity::Limited; }));
    CHECK(std::chrono::steady_clock::now() - t0 >= 500ms);   // it waited for the interval
}
