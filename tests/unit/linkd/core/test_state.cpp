// SPDX-License-Identifier: GPL-2.0-or-later
// The Manager's state following without a kernel or a bus: events fed by hand.
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "connectivity.hpp"
#include "link.hpp"
#include "checkpoint.hpp"
#include "manager.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::linkd;
using namespace alopex::test;
using netlink::Change;

namespace {

netlink::Link mklink(int ifindex, std::string name, bool up = true, bool carrier = true)
{
    netlink::Link l;
    l.ifindex = ifindex;
    l.name = std::move(name);
    l.kind = "veth";
    l.mac = hw("02:00:00:00:00:0" + std::to_string(ifindex));
    l.mtu = 1500;
    l.type = ARPHRD_ETHER;
    l.flags = (up ? IFF_UP : 0) | (carrier ? IFF_LOWER_UP | IFF_RUNNING : 0);
    l.carrier = carrier;
    l.operstate = carrier ? 6 : 2;
    return l;
}

netlink::Address mkaddr(int ifindex, uint8_t family, std::string a, uint8_t len,
                        uint8_t scope = RT_SCOPE_UNIVERSE, uint32_t flags = IFA_F_PERMANENT)
{
    netlink::Address x;
    x.ifindex = ifindex;
    x.family = family;
    x.address = ip(a);
    x.prefixlen = len;
    x.scope = scope;
    x.flags = flags;
    return x;
}

std::vector<std::string> names(const Changed &c)
{
    std::vector<std::string> out;
    for (const auto *p : c)
        out.emplace_back(p->name);
    return out;
}

netlink::Event ev(Change c, netlink::Object o) { return netlink::Event{c, std::move(o), {}}; }

std::unique_ptr<Manager> make(std::vector<rtnl::Request> *log = nullptr)
{
    ManagerOptions o;
    o.start_monitor = false;
    auto m = Manager::create(nullptr, nullptr, o, [log](const rtnl::Request &r, ExecDone done) {
        if (log)
            log->push_back(r);
        done({});
    });
    REQUIRE(m);
    return std::move(*m);
}

Origin origin_of(const Manager &m, int ifindex, const std::string &address)
{
    for (const auto &a : m.link(ifindex)->addresses())
        if (a.address.address == ip(address))
            return a.origin;
    FAIL("no address " << address);
    return Origin::Foreign;
}

} // namespace

TEST_CASE("links appear, change and go; the generation counts every change")
{
    auto m = make();
    std::vector<int> added, removed;
    std::vector<std::string> renamed_from;
    m->hooks.link_added.add([&](const LinkState &l) { added.push_back(l.ifindex()); });
    m->hooks.link_removed.add([&](int i, const std::string &) { removed.push_back(i); });
    m->hooks.link_changed.add([&](const LinkState &, const netlink::Link &prev) { renamed_from.push_back(prev.name); });
    // A second subscriber sees the same events: nobody overwrites another's callback.
    std::vector<int> added_too;
    m->hooks.link_added.add([&](const LinkState &l) { added_too.push_back(l.ifindex()); });
    CHECK(m->generation() == 0);
    m->handle(ev(Change::New, mklink(2, "veth0")));
    m->handle(ev(Change::New, mklink(3, "veth1")));
    CHECK(m->links().size() == 2);
    CHECK(m->generation() == 2);
    CHECK(added == std::vector<int>{2, 3});
    CHECK(added_too == added);
    REQUIRE(m->link_by_name("veth1"));
    CHECK(m->link_by_name("veth1")->ifindex() == 3);

    auto renamed = mklink(3, "wan0");
    renamed.mtu = 9000;
    m->handle(ev(Change::Changed, renamed));
    CHECK(m->link(3)->kernel().name == "wan0");
    CHECK(m->link(3)->kernel().mtu == 9000);
    CHECK(renamed_from == std::vector<std::string>{"veth1"});
    CHECK(m->generation() == 3);

    m->handle(ev(Change::Removed, renamed));
    CHECK(m->link(3) == nullptr);
    CHECK(removed == std::vector<int>{3});
    CHECK(m->generation() == 4);
}

TEST_CASE("address origins: owned, kernel, foreign; ownership ends with the address")
{
    auto m = make();
    m->handle(ev(Change::New, mklink(2, "veth0")));
    m->note_owned_address(2, AF_INET, ip("192.0.2.10"), 24, Origin::Static);
    m->handle(ev(Change::New, mkaddr(2, AF_INET, "192.0.2.10", 24)));
    m->handle(ev(Change::New, mkaddr(2, AF_INET, "192.0.2.11", 24)));
    m->handle(ev(Change::New, mkaddr(2, AF_INET6, "fe80::1", 64, RT_SCOPE_LINK)));
    m->handle(ev(Change::New, mkaddr(2, AF_INET6, "2001:db8::5", 64, RT_SCOPE_UNIVERSE,
                                     IFA_F_MANAGETEMPADDR)));   // SLAAC: not permanent
    m->handle(ev(Change::New, mkaddr(2, AF_INET6, "2001:db8::6", 64)));
    CHECK(m->link(2)->addresses().size() == 5);
    CHECK(origin_of(*m, 2, "192.0.2.10") == Origin::Static);
    CHECK(origin_of(*m, 2, "192.0.2.11") == Origin::Foreign);
    CHECK(origin_of(*m, 2, "fe80::1") == Origin::Kernel);
    CHECK(origin_of(*m, 2, "2001:db8::5") == Origin::Kernel);
    CHECK(origin_of(*m, 2, "2001:db8::6") == Origin::Foreign);

    // A note after the address is there applies at once.
    m->note_owned_address(2, AF_INET, ip("192.0.2.11"), 24, Origin::Dhcp);
    CHECK(origin_of(*m, 2, "192.0.2.11") == Origin::Dhcp);

    // Removed and re-added by someone else: foreign now.
    m->handle(ev(Change::Removed, mkaddr(2, AF_INET, "192.0.2.10", 24)));
    CHECK(m->link(2)->addresses().size() == 4);
    m->handle(ev(Change::New, mkaddr(2, AF_INET, "192.0.2.10", 24)));
    CHECK(origin_of(*m, 2, "192.0.2.10") == Origin::Foreign);

    // Loopback addresses are the kernel's.
    auto lo = mklink(1, "lo");
    lo.type = ARPHRD_LOOPBACK;
    lo.flags |= IFF_LOOPBACK;
    m->handle(ev(Change::New, lo));
    m->handle(ev(Change::New, mkaddr(1, AF_INET, "127.0.0.1", 8, RT_SCOPE_HOST)));
    CHECK(origin_of(*m, 1, "127.0.0.1") == Origin::Kernel);
}

TEST_CASE("connectivity: none, local, limited; full only with a default route and a probe")
{
    auto m = make();
    m->handle_synced(true);   // connectivity follows events once the first dump is in
    auto lo = mklink(1, "lo");
    lo.type = ARPHRD_LOOPBACK;
    lo.flags |= IFF_LOOPBACK;
    m->handle(ev(Change::New, lo));
    m->handle(ev(Change::New, mkaddr(1, AF_INET, "127.0.0.1", 8, RT_SCOPE_HOST)));
    CHECK(m->connectivity() == Connectivity::None);
    m->handle(ev(Change::New, mklink(2, "veth0", true, false)));   // up, no carrier
    CHECK(m->connectivity() == Connectivity::None);
    m->handle(ev(Change::Changed, mklink(2, "veth0")));
    CHECK(m->connectivity() == Connectivity::Local);
    m->handle(ev(Change::New, mkaddr(2, AF_INET6, "fe80::1", 64, RT_SCOPE_LINK)));
    CHECK(m->connectivity() == Connectivity::Local);
    m->handle(ev(Change::New, mkaddr(2, AF_INET, "192.0.2.10", 24)));
    CHECK(m->connectivity() == Connectivity::Limited);

    netlink::Route def;
    def.family = AF_INET;
    def.table = RT_TABLE_MAIN;
    def.type = RTN_UNICAST;
    def.dst = ip("0.0.0.0");
    def.gateway = ip("192.0.2.1");
    def.oif = 2;
    m->handle(ev(Change::New, def));
    CHECK(m->connectivity() == Connectivity::Limited);   // probing is off: honest
    m->set_probe_result(true);
    CHECK(m->connectivity() == Connectivity::Full);
    m->set_probe_result(false);
    CHECK(m->connectivity() == Connectivity::Limited);
    m->set_probe_result(true);
    m->handle(ev(Change::Changed, mklink(2, "veth0", false, true)));   // admin down
    CHECK(m->connectivity() == Connectivity::None);
    CHECK(to_string(Connectivity::Limited) == "limited");
}

TEST_CASE("zone, DNS and DHCP lease setters: hooks, generation, changed property names")
{
    auto m = make();
    m->handle(ev(Change::New, mklink(2, "veth0")));
    std::vector<std::pair<int, std::string>> zones;
    m->hooks.zone_changed.add([&](int i, const std::string &z) { zones.emplace_back(i, z); });
    auto g = m->generation();
    CHECK(m->set_zone(2, "wan"));
    CHECK(m->set_zone(2, "wan"));   // unchanged: no hook, no bump
    CHECK_FALSE(m->set_zone(9, "wan"));
    CHECK(zones == std::vector<std::pair<int, std::string>>{{2, "wan"}});
    CHECK(m->link(2)->zone() == "wan");
    CHECK(m->generation() == g + 1);
    CHECK(m->set_dns(2, {"192.0.2.53"}, {"example.net"}));
    CHECK(m->link(2)->dns_servers() == std::vector<std::string>{"192.0.2.53"});
    CHECK(m->generation() == g + 2);

    LinkState s(mklink(5, "x"));
    DhcpLease lease{"bound", "192.0.2.10/24", "192.0.2.1", 120, 60, 105, 1234};
    CHECK(names(s.set_dhcp(lease)) == std::vector<std::string>{"DHCPState", "DHCPAddress", "DHCPServer",
                                            "DHCPLeaseTime", "DHCPT1", "DHCPT2", "DHCPExpiry"});
    lease.state = "renewing";
    CHECK(names(s.set_dhcp(lease)) == std::vector<std::string>{"DHCPState"});
    CHECK(s.set_dhcp(lease).empty());
    CHECK(s.set_dhcp(std::nullopt).size() == 7);
    CHECK(m->set_dhcp_lease(2, lease));
    CHECK(m->link(2)->dhcp()->server == "192.0.2.1");
}

TEST_CASE("run-time DNS (SetDNS) replaces the learned DNS until reverted; a checkpoint restores it; it goes with the link", "[linkd]")
{
    auto m = make();
    m->handle(ev(Change::New, mklink(2, "veth0")));
    m->handle(ev(Change::New, mklink(3, "veth1")));
    using Dns = Manager::Dns;
    auto dns = [&](int i) { return Dns{m->link(i)->dns_servers(), m->link(i)->dns_domains()}; };
    CHECK(m->set_dns(2, {"192.0.2.53"}, {"example.net"}));   // a profile's, or a lease's
    CHECK(m->set_runtime_dns(2, Dns{{"198.51.100.1"}, {}}));
    CHECK(dns(2) == Dns{{"198.51.100.1"}, {}});
    CHECK(m->set_dns(2, {"192.0.2.54"}, {"example.org"}));   // a new lease meanwhile: learned, not shown
    CHECK(dns(2) == Dns{{"198.51.100.1"}, {}});
    CHECK_FALSE(m->set_runtime_dns(9, Dns{}));

    Participant p = m->runtime_dns_participant();
    auto restore = p.capture();
    CHECK(m->set_runtime_dns(2, std::nullopt));
    CHECK(dns(2) == Dns{{"192.0.2.54"}, {"example.org"}});   // reverted: the learned DNS again
    CHECK(m->set_runtime_dns(3, Dns{}));   // explicitly none
    CHECK(dns(3) == Dns{});
    auto g = m->generation();
    restore();
    CHECK(dns(2) == Dns{{"198.51.100.1"}, {}});
    CHECK(dns(3) == Dns{});
    CHECK(m->generation() == g + 1);   // only link 2 changed what it shows

    m->handle(ev(Change::Removed, mklink(2, "veth0")));
    m->handle(ev(Change::New, mklink(2, "veth0")));   // the index again: a new link, nothing carried over
    CHECK(dns(2) == Dns{});
}

TEST_CASE("changed_properties lists exactly what differs")
{
    auto a = mklink(2, "veth0");
    auto b = a;
    CHECK(changed_properties(a, b).empty());
    b.stats.rx_bytes = 99;   // counters are read on demand, never signalled
    CHECK(changed_properties(a, b).empty());
    b.flags &= ~IFF_UP;
    b.carrier = false;
    b.master = 7;
    b.mac = hw("02:00:00:00:00:99");
    CHECK(names(changed_properties(a, b)) ==
          std::vector<std::string>{"MACAddress", "AdministrativeState", "Carrier", "Controller"});
    CHECK(scope_name(RT_SCOPE_LINK) == "link");
    CHECK(scope_name(RT_SCOPE_UNIVERSE) == "global");
    CHECK(scope_name(42) == "42");
    CHECK(to_string(Origin::Dhcp) == "dhcp");
}
