// SPDX-License-Identifier: GPL-2.0-or-later
// The rtnetlink monitor against the real kernel, inside a network namespace of its own
// (meson runs this under `unshare --net`). The monitor's state is compared with `ip -j`,
// and a consumer that only sees the delivered events must end up with the same state.
#include <catch2/catch.hpp>

#include <linux/if.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/netlink/monitor.hpp"
#include "kernel_view.hpp"

using namespace alopex;
using namespace alopex::netlink;
using namespace alopex::netlink::itest;
using namespace std::chrono_literals;

namespace {

// Refuse to run anywhere but in a fresh namespace: never touch the host's interfaces.
void require_private_netns()
{
    auto links = nlohmann::json::parse(capture("ip -j link show"));
    for (const auto &l : links)
        if (l["ifname"].get<std::string>() != "lo" && l["ifname"].get<std::string>().rfind("nlt", 0) != 0)
            FAIL("not in a private network namespace (found " << l["ifname"] << "); run under unshare --net");
    REQUIRE(sh("ip link set lo up"));
    // Leftovers of an earlier test case that failed half-way.
    for (const auto &l : links) {
        auto name = l["ifname"].get<std::string>();
        if (name.rfind("nlt", 0) == 0)
            sh("ip link del " + name + " 2>/dev/null");
    }
    // No link-local addresses or autoconf: keep the kernel's own changes out of the way.
    REQUIRE(sh("sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.all.addr_gen_mode=1 "
               "net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.accept_dad=0"));
}

// A consumer that knows only the events.
struct Consumer {
    Snapshot s;
    size_t events = 0, synced = 0;
    std::vector<Event> log;
    void on(const Event &e)
    {
        ++events;
        log.push_back(e);
        std::visit(
            [&](const auto &v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, Link>) {
                    if (e.change == Change::Removed)
                        s.links.erase(v.ifindex);
                    else
                        s.links[v.ifindex] = v;
                } else if constexpr (std::is_same_v<T, Address>) {
                    if (e.change == Change::Removed)
                        s.addresses.erase(key_of(v));
                    else
                        s.addresses[key_of(v)] = v;
                } else {
                    if (e.change == Change::Removed)
                        s.routes.erase(key_of(v));
                    else
                        s.routes[key_of(v)] = v;
                }
            },
            e.object);
    }
    template <typename T, typename P> bool saw(Change c, P pred) const
    {
        for (const auto &e : log)
            if (e.change == c)
                if (auto v = std::get_if<T>(&e.object); v && pred(*v))
                    return true;
        return false;
    }
};

struct Harness {
    EventPtr ev;
    Consumer consumer;
    std::vector<Error> errors;
    std::unique_ptr<Monitor> mon;

    explicit Harness(MonitorOptions opt = {})
    {
        require_private_netns();
        sd_event *e = nullptr;
        REQUIRE(sd_event_new(&e) >= 0);
        ev.reset(e);
        MonitorCallbacks cb;
        cb.on_event = [this](const Event &x) { consumer.on(x); };
        cb.on_synced = [this](bool) { ++consumer.synced; };
        cb.on_error = [this](const Error &x) { errors.push_back(x); };
        auto m = Monitor::create(ev.get(), std::move(opt), std::move(cb));
        REQUIRE(m.has_value());
        mon = std::move(*m);
        REQUIRE(run_until([&] { return mon->synced(); }, 10s));
        CHECK(consumer.synced == 1);
    }

    // Dispatches until `pred` holds or the deadline passes. No fixed sleeps: the loop
    // wakes on the sockets and timers.
    template <typename P> bool run_until(P pred, std::chrono::seconds timeout)
    {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline)
                return false;
            sd_event_run(ev.get(), 100'000);
        }
        return true;
    }

    // Runs until the monitor is idle and equals `ip -j`; on timeout shows what differs.
    void converge(std::chrono::seconds timeout = 30s)
    {
        std::string why;
        bool ok = run_until(
            [&] {
                while (sd_event_run(ev.get(), 0) > 0) {
                }
                if (mon->resync_pending())
                    return false;
                why = explain(from_ip(), from_snapshot(mon->state()));
                return why.empty();
            },
            timeout);
        INFO(why);
        REQUIRE(ok);
        // Everything the monitor knows reached the consumer through events.
        REQUIRE(consumer.s == mon->state());
        CHECK(errors.empty());
    }
};

bool batch(const std::string &commands)
{
    char path[] = "/tmp/alopex-nl-batch-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return false;
    close(fd);
    std::ofstream(path) << commands;
    bool ok = sh(fmt::format("ip -force -batch {}", path));
    unlink(path);
    return ok;
}

} // namespace

TEST_CASE("netlink-monitor: initial sync equals ip -j", "[netlink][integration]")
{
    Harness h;
    h.converge();
    CHECK(h.mon->state().links.contains(1));
    CHECK(h.mon->resyncs() == 0);
    CHECK(h.consumer.events == h.mon->state().links.size() + h.mon->state().addresses.size() +
                                   h.mon->state().routes.size());

    // A resync with nothing changed delivers nothing but "synced".
    auto events = h.consumer.events;
    h.mon->request_resync();
    REQUIRE(h.run_until([&] { return h.mon->resyncs() == 1 && !h.mon->resync_pending(); }, 10s));
    CHECK(h.consumer.synced == 2);
    CHECK(h.consumer.events == events);
}

TEST_CASE("netlink-monitor: veths, addresses, routes appear, change and go", "[netlink][integration]")
{
    Harness h;
    REQUIRE(sh("ip link add nlta type veth peer name nltb && ip link add nltbr type bridge && "
               "ip link set nltb master nltbr && ip link set nlta up && ip link set nltb up && ip link set nltbr up"));
    REQUIRE(sh("ip addr add 10.77.0.1/24 dev nlta && ip addr add 2001:db8:77::1/64 dev nlta nodad"));
    REQUIRE(sh("ip route add 10.78.0.0/16 via 10.77.0.2 metric 50 && "
               "ip route add 2001:db8:78::/48 via 2001:db8:77::2 && ip route add 10.79.0.0/24 dev nlta table 100"));
    h.converge();
    auto &c = h.consumer;
    CHECK(c.saw<Link>(Change::New, [](const Link &l) { return l.name == "nlta" && l.kind == "veth"; }));
    CHECK(c.saw<Link>(Change::New, [](const Link &l) { return l.name == "nltbr" && l.kind == "bridge"; }));
    CHECK(c.saw<Address>(Change::New, [](const Address &a) { return a.address == "10.77.0.1" && a.prefixlen == 24; }));
    CHECK(c.saw<Address>(Change::New, [](const Address &a) { return a.address == "2001:db8:77::1"; }));
    CHECK(c.saw<Route>(Change::New, [](const Route &r) {
        return r.dst == "10.78.0.0" && r.dst_len == 16 && r.gateway == "10.77.0.2" && r.priority == 50;
    }));
    CHECK(c.saw<Route>(Change::New, [](const Route &r) { return r.dst == "2001:db8:78::" && r.gateway == "2001:db8:77::2"; }));
    CHECK(c.saw<Route>(Change::New, [](const Route &r) { return r.dst == "10.79.0.0" && r.table == 100; }));

    REQUIRE(sh("ip link set nlta mtu 1400 && ip addr del 10.77.0.1/24 dev nlta"));
    h.converge();
    CHECK(c.saw<Link>(Change::Changed, [](const Link &l) { return l.name == "nlta" && l.mtu == 1400; }));
    CHECK(c.saw<Address>(Change::Removed, [](const Address &a) { return a.address == "10.77.0.1"; }));
    CHECK(c.saw<Route>(Change::Removed, [](const Route &r) { return r.dst == "10.78.0.0"; }));

    // Down: IPv4 routes through the link vanish without a notification.
    REQUIRE(sh("ip addr add 10.77.1.1/24 dev nlta && ip link set nlta down"));
    h.converge();
    REQUIRE(sh("ip link set nlta up"));
    h.converge();

    REQUIRE(sh("ip link del nlta && ip link del nltbr"));
    h.converge();
    CHECK(c.saw<Link>(Change::Removed, [](const Link &l) { return l.name == "nltb"; }));
    CHECK(h.mon->state().links.size() == 1);
    CHECK(h.mon->resyncs() == 0);
}

TEST_CASE("netlink-monitor: a forced overrun resyncs and converges", "[netlink][integration]")
{
    MonitorOptions tiny;
    tiny.receive_buffer = 4096;
    Harness h(tiny);
    Harness big;  // default 8 MiB buffer, on its own loop, read after the batch as well
    INFO("tiny receive buffer: " << h.mon->receive_buffer() << " bytes");

    constexpr int pairs = 200;
    std::string cmds;
    for (int i = 0; i < pairs; ++i) {
        cmds += fmt::format("link add nlt{}a type veth peer name nlt{}b\n", i, i);
        cmds += fmt::format("link set nlt{}a up\nlink set nlt{}b up\n", i, i);
        cmds += fmt::format("addr add 10.{}.{}.1/24 dev nlt{}a\n", 100 + i / 250, i % 250, i);
        if (i % 4 == 0)
            cmds += fmt::format("addr add 2001:db8:{:x}::1/64 dev nlt{}b nodad\n", 0x100 + i, i);
    }
    // Nothing reads the sockets while the batch runs: the tiny buffer overflows.
    REQUIRE(batch(cmds));
    h.converge(60s);
    CHECK(h.mon->overruns() >= 1);
    CHECK(h.mon->resyncs() >= 1);
    CHECK(h.mon->state().links.size() == 1 + 2 * pairs);
    big.converge(60s);
    CHECK(from_snapshot(big.mon->state()) == from_snapshot(h.mon->state()));

    // Delete half without reading, then the rest: removals converge too.
    std::string del;
    for (int i = 0; i < pairs; i += 2)
        del += fmt::format("link del nlt{}a\n", i);
    REQUIRE(batch(del));
    auto resyncs = h.mon->resyncs();
    h.converge(60s);
    CHECK(h.mon->state().links.size() == 1 + pairs);
    CHECK(h.mon->resyncs() > resyncs);
    for (int i = 0; i < pairs; ++i) {
        bool gone = i % 2 == 0;
        bool found = false;
        for (const auto &[idx, l] : h.mon->state().links)
            found |= l.name == fmt::format("nlt{}a", i);
        CHECK(found == !gone);
    }

    del.clear();
    for (int i = 1; i < pairs; i += 2)
        del += fmt::format("link del nlt{}a\n", i);
    REQUIRE(batch(del));
    h.converge(60s);
    big.converge(60s);
    CHECK(h.mon->state().links.size() == 1);
    CHECK(from_snapshot(big.mon->state()) == from_snapshot(h.mon->state()));
}
