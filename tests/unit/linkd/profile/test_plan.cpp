// SPDX-License-Identifier: GPL-2.0-or-later
// The planner against a simulated kernel: each test applies the plan's requests to a
// Snapshot the way the kernel would, plans again, and expects nothing left to do.
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "plan.hpp"
#include "net_test.hpp"

using namespace alopex::linkd::profile;
using namespace alopex::linkd;
using namespace alopex::test;
using alopex::netlink::Snapshot;
using Op = rtnl::Request::Op;

namespace {

Profiles load(std::vector<std::pair<std::string, std::string>> files)
{
    auto p = parse_files(files);
    if (!p)
        FAIL(p.error().message);
    return *p;
}

struct Kernel {
    Snapshot s;
    Owned owned;
    int next = 100;

    void add_link(int idx, std::string name, bool up = false, std::string kind = "",
                  std::string mac = "02:00:00:00:00:01")
    {
        alopex::netlink::Link l;
        l.ifindex = idx;
        l.name = std::move(name);
        l.kind = std::move(kind);
        l.mac = mac.empty() ? alopex::net::Mac() : alopex::net::Mac::parse(mac).value();
        l.mtu = 1500;
        l.flags = up ? IFF_UP : 0;
        s.links[idx] = l;
    }
    void add_address(int idx, uint8_t family, const alopex::net::Address &addr, uint8_t len)
    {
        alopex::netlink::Address a;
        a.ifindex = idx;
        a.family = family;
        a.address = addr;
        a.prefixlen = len;
        s.addresses[key_of(a)] = a;
    }
    void add_route(const rtnl::RouteSpec &r)
    {
        alopex::netlink::Route k;
        k.family = r.family;
        k.table = r.table;
        k.protocol = r.protocol;
        k.scope = r.scope;
        k.type = r.type;
        k.dst = r.dst.empty() ? alopex::net::Address::any(r.family) : r.dst;
        k.dst_len = r.dst_len;
        k.gateway = r.gateway;
        k.oif = r.oif;
        k.priority = r.metric;
        s.routes[key_of(k)] = k;
    }
    void remove_link(int idx)
    {
        s.links.erase(idx);
        std::erase_if(s.addresses, [&](auto &kv) { return kv.first.ifindex == idx; });
        std::erase_if(s.routes, [&](auto &kv) { return kv.first.oif == idx; });
    }

    // What the kernel does with each request (and linkd records on success).
    void apply(const std::vector<rtnl::Request> &rs)
    {
        Snapshot before = s;
        for (const auto &r : rs) {
            note_success(owned, r, before);
            switch (r.op) {
            case Op::CreateNetdev: {
                static const char *kinds[] = {"bridge", "vlan", "veth", "bond"};
                add_link(next++, r.netdev.name, false, kinds[static_cast<int>(r.netdev.kind)]);
                if (r.netdev.kind == rtnl::NetdevKind::Vlan)
                    s.links.at(next - 1).link = r.netdev.parent;
                if (r.netdev.kind == rtnl::NetdevKind::Veth)
                    add_link(next++, r.netdev.peer, false, "veth");
                break;
            }
            case Op::DeleteLink: remove_link(r.ifindex); break;
            case Op::SetLink: {
                auto &l = s.links.at(r.link.ifindex);
                // As do_setlink: flags first, then IFLA_MASTER; a bond refuses a port that
                // is up, a VLAN does not go up while its parent is down.
                if (r.link.up == true && l.kind == "vlan" && !(s.links.at(l.link).flags & IFF_UP))
                    FAIL(l.name << " up while its parent is down: ENETDOWN");
                bool will_be_up = r.link.up ? *r.link.up : (l.flags & IFF_UP) != 0;
                if (r.link.controller && *r.link.controller && will_be_up &&
                    s.links.at(*r.link.controller).kind == "bond")
                    FAIL(l.name << " joins a bond while up: EPERM");
                if (r.link.up)
                    l.flags = *r.link.up ? (l.flags | IFF_UP) : (l.flags & ~IFF_UP);
                if (r.link.mtu)
                    l.mtu = *r.link.mtu;
                if (r.link.mac)
                    l.mac = *r.link.mac;
                if (r.link.controller)
                    l.master = *r.link.controller;
                break;
            }
            case Op::AddAddress:
                add_address(r.address.ifindex, r.address.family, r.address.address, r.address.prefixlen);
                break;
            case Op::RemoveAddress: s.addresses.erase(key_of(r.address)); break;
            case Op::AddRoute:
            case Op::ReplaceRoute: add_route(r.route); break;
            case Op::RemoveRoute: s.routes.erase(key_of(r.route)); break;
            }
        }
    }

    // Plans and applies until nothing is left; returns the number of rounds with work.
    int converge(const Profiles &p)
    {
        for (int round = 0; round < 5; ++round) {
            auto pl = plan(p, s, owned);
            if (pl.requests.empty())
                return round;
            apply(pl.requests);
        }
        FAIL("no convergence after 5 rounds");
        return -1;
    }
};

std::vector<Op> ops(const Plan &p)
{
    std::vector<Op> out;
    for (const auto &r : p.requests)
        out.push_back(r.op);
    return out;
}

const char *uplink = R"([match]
name = "eth0"
[link]
mtu = 1400
zone = "wan"
[ipv4]
dhcp = true
addresses = ["192.0.2.10/24"]
gateway = "192.0.2.1"
[ipv6]
slaac = false
addresses = ["2001:db8::10/64"]
gateway = "2001:db8::1"
[dns]
servers = ["192.0.2.53"]
domains = ["example.net"]
[[route]]
to = "198.51.100.0/24"
via = "192.0.2.254"
metric = 100
table = 100
)";

} // namespace

TEST_CASE("a static profile converges in one round, in a safe order", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "eth0");
    k.add_link(3, "eth1", true);
    k.add_address(2, AF_INET, ip("10.9.9.9"), 8); // foreign
    auto p = load({{"50-uplink.toml", uplink}});
    auto pl = plan(p, k.s, k.owned);
    CHECK(ops(pl) == std::vector<Op>{Op::SetLink, Op::AddAddress, Op::AddAddress, Op::AddRoute,
                                     Op::AddRoute, Op::AddRoute});
    const auto &set = pl.requests[0].link;
    CHECK(set.ifindex == 2);
    CHECK(set.up == true);
    CHECK(set.mtu == 1400u);
    CHECK_FALSE(set.controller);
    CHECK(pl.requests[0].what == "link eth0: up mtu 1400");
    bool default4 = false, default6 = false, table100 = false;
    for (const auto &r : pl.requests) {
        if (r.op != Op::AddRoute)
            continue;
        CHECK(r.route.protocol == RTPROT_STATIC);
        CHECK(r.route.oif == 2);
        if (r.route.family == AF_INET && r.route.dst_len == 0) {
            default4 = true;
            CHECK(r.route.dst.empty());
            CHECK(r.route.gateway == ip("192.0.2.1"));
            CHECK(r.route.table == 254u);
            CHECK(r.route.metric == 0u);
        } else if (r.route.family == AF_INET6) {
            default6 = true;
            CHECK(r.route.metric == 1024u); // the kernel's IPv6 default
        } else {
            table100 = true;
            CHECK(r.route.dst == ip("198.51.100.0"));
            CHECK(r.route.table == 100u);
            CHECK(r.route.metric == 100u);
            CHECK(r.route.scope == RT_SCOPE_UNIVERSE);
        }
    }
    CHECK((default4 && default6 && table100));
    REQUIRE(pl.links.size() == 1);
    const auto &in = pl.links[0];
    CHECK(in == LinkIntent{2, "eth0", "50-uplink.toml", true, "wan", true, false,
                           {ip("192.0.2.53")}, {"example.net"}});

    k.apply(pl.requests);
    CHECK(k.converge(p) == 0); // idempotent
    CHECK(k.s.addresses.size() == 3);
    CHECK(k.s.addresses.contains({2, AF_INET, ip("10.9.9.9"), 8}));
    CHECK(k.owned.addresses.size() == 2);
    CHECK(k.owned.routes.size() == 3);
    CHECK(k.s.links.at(3).flags == IFF_UP); // no profile: untouched
}

TEST_CASE("removal touches only what linkd added", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "eth0", true);
    k.add_address(2, AF_INET, ip("10.9.9.9"), 8);                 // foreign
    k.add_address(2, AF_INET, ip("192.0.2.11"), 24);              // listed, but present before
    rtnl::RouteSpec foreign;
    foreign.family = AF_INET;
    foreign.dst = ip("203.0.113.0");
    foreign.dst_len = 24;
    foreign.oif = 2;
    foreign.protocol = RTPROT_BOOT;
    k.add_route(foreign);
    auto p1 = load({{"a.toml", "[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.10/24\", "
                               "\"192.0.2.11/24\"]\n[[route]]\nto = \"198.51.100.0/24\"\n"}});
    auto first = plan(p1, k.s, k.owned);
    CHECK(first.present.addresses.contains({2, AF_INET, ip("192.0.2.11"), 24}));
    CHECK(k.converge(p1) == 1);
    CHECK(k.owned.addresses.size() == 1); // only the one it added

    // The profile now lists nothing: remove what it added, keep the rest.
    auto p2 = load({{"a.toml", "[match]\nname = \"eth0\"\n"}});
    auto pl = plan(p2, k.s, k.owned);
    REQUIRE(ops(pl) == std::vector<Op>{Op::RemoveRoute, Op::RemoveAddress});
    CHECK(pl.requests[0].route.dst == ip("198.51.100.0"));
    CHECK(pl.requests[1].address.address == ip("192.0.2.10"));
    k.apply(pl.requests);
    CHECK(k.converge(p2) == 0);
    CHECK(k.s.addresses.contains({2, AF_INET, ip("10.9.9.9"), 8}));
    CHECK(k.s.addresses.contains({2, AF_INET, ip("192.0.2.11"), 24}));
    CHECK(k.s.routes.size() == 1);
    CHECK(k.owned == Owned{});

    // No profile at all: the same; the link is not brought down.
    k.converge(p1);
    auto none = plan(Profiles{}, k.s, k.owned);
    CHECK(ops(none) == std::vector<Op>{Op::RemoveRoute, Op::RemoveAddress});
}

TEST_CASE("a changed address is removed before its replacement is added", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "eth0", true);
    k.converge(load({{"a.toml", "[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.10/24\"]\n"}}));
    auto p = load({{"a.toml", "[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.10/25\"]\n"}});
    auto pl = plan(p, k.s, k.owned);
    CHECK(ops(pl) == std::vector<Op>{Op::RemoveAddress, Op::AddAddress});
    k.apply(pl.requests);
    CHECK(k.converge(p) == 0);
}

TEST_CASE("an owned route whose gateway changed is replaced; foreign routes block", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "eth0", true);
    k.add_link(3, "eth1", true);
    auto p1 = load({{"a.toml", "[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.10/24\"]\n"
                               "gateway = \"192.0.2.1\"\n"}});
    k.converge(p1);
    auto p2 = load({{"a.toml", "[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.10/24\"]\n"
                               "gateway = \"192.0.2.2\"\n"}});
    auto pl = plan(p2, k.s, k.owned);
    REQUIRE(ops(pl) == std::vector<Op>{Op::ReplaceRoute});
    CHECK(pl.requests[0].route.gateway == ip("192.0.2.2"));
    k.apply(pl.requests);
    CHECK(k.converge(p2) == 0);

    // A foreign default route (metric 0, main) on another link holds the IPv4 slot.
    rtnl::RouteSpec foreign;
    foreign.family = AF_INET;
    foreign.gateway = ip("10.0.0.1");
    foreign.oif = 3;
    foreign.protocol = RTPROT_DHCP;
    Kernel k2;
    k2.add_link(2, "eth0", true);
    k2.add_link(3, "eth1", true);
    k2.add_route(foreign);
    auto bl = plan(p2, k2.s, k2.owned);
    CHECK(ops(bl) == std::vector<Op>{Op::AddAddress});
    REQUIRE(bl.notes.size() == 1);
    CHECK(bl.notes[0].find("foreign route") != std::string::npos);
}

TEST_CASE("routes are not planned for links that stay down", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "eth0", true);
    auto p = load({{"a.toml", "[match]\nname = \"eth0\"\n[link]\nup = false\n[ipv4]\naddresses = "
                              "[\"192.0.2.10/24\"]\ngateway = \"192.0.2.1\"\n"}});
    auto pl = plan(p, k.s, k.owned);
    CHECK(ops(pl) == std::vector<Op>{Op::SetLink, Op::AddAddress});
    CHECK(pl.requests[0].link.up == false);
    k.apply(pl.requests);
    CHECK(k.converge(p) == 0);
}

TEST_CASE("netdevs: created, configured next round, deleted when their profile goes", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "eth1", true);
    k.add_link(3, "docker0", true, "bridge"); // foreign bridge
    auto files = std::vector<std::pair<std::string, std::string>>{
        {"10-br0.toml", "[netdev]\nname = \"br0\"\nkind = \"bridge\"\nstp = true\n"
                        "[ipv4]\naddresses = [\"10.1.0.1/24\"]\n"},
        {"20-eth1.toml", "[match]\nname = \"eth1\"\n[link]\ncontroller = \"br0\"\n"}};
    auto p = load(files);
    auto r1 = plan(p, k.s, k.owned);
    REQUIRE(ops(r1) == std::vector<Op>{Op::CreateNetdev});
    CHECK(r1.requests[0].netdev.name == "br0");
    CHECK(r1.requests[0].netdev.stp == true);
    CHECK(r1.notes.size() == 1); // eth1: controller br0 does not exist yet
    k.apply(r1.requests);
    CHECK(k.owned.netdevs == std::set<std::string>{"br0"});
    int br = k.s.links.rbegin()->first;

    auto r2 = plan(p, k.s, k.owned);
    CHECK(ops(r2) == std::vector<Op>{Op::SetLink, Op::SetLink, Op::AddAddress});
    k.apply(r2.requests);
    CHECK(k.s.links.at(2).master == br);
    CHECK(k.s.links.at(br).flags & IFF_UP);
    CHECK(k.converge(p) == 0);

    // The bridge's profile goes: delete br0 only (its port was enslaved by linkd into a
    // device linkd owned: the kernel releases it), never docker0.
    auto p2 = load({files[1]});
    auto r3 = plan(p2, k.s, k.owned);
    REQUIRE(ops(r3) == std::vector<Op>{Op::DeleteLink});
    CHECK(r3.requests[0].ifindex == br);
    k.apply(r3.requests);
    k.s.links.at(2).master = 0;
    CHECK(k.owned.netdevs.empty());
    CHECK(k.converge(p2) == 0);
    CHECK(k.s.links.contains(3));

    // A port whose profile no longer names a controller is released, but only from a
    // netdev linkd owns.
    Kernel k3;
    k3.add_link(2, "eth1", true);
    k3.converge(p);
    auto r4 = plan(load({{"20-eth1.toml", "[match]\nname = \"eth1\"\n"}, files[0]}), k3.s, k3.owned);
    REQUIRE(ops(r4) == std::vector<Op>{Op::SetLink});
    CHECK(r4.requests[0].link.controller == 0);
    Kernel k4;
    k4.add_link(2, "eth1", true);
    k4.add_link(3, "docker0", true, "bridge");
    k4.s.links.at(2).master = 3;
    CHECK(plan(load({{"20-eth1.toml", "[match]\nname = \"eth1\"\n"}}), k4.s, k4.owned).requests.empty());
}

TEST_CASE("foreign devices with a netdev's name are left alone; same kind is adopted", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "br0", true, "veth");
    auto p = load({{"10-br0.toml", "[netdev]\nname = \"br0\"\nkind = \"bridge\"\n[link]\nmtu = 9000\n"}});
    auto pl = plan(p, k.s, k.owned);
    CHECK(pl.requests.empty());
    REQUIRE(pl.notes.size() == 1);
    CHECK(pl.notes[0].find("foreign veth device") != std::string::npos);
    CHECK(pl.links.empty());

    Kernel k2;
    k2.add_link(2, "br0", false, "bridge");
    auto p2 = plan(p, k2.s, k2.owned);
    CHECK(p2.present.netdevs == std::set<std::string>{"br0"});
    CHECK(ops(p2) == std::vector<Op>{Op::SetLink});
}

TEST_CASE("an owned netdev whose kind changed is recreated", "[linkd][profile]")
{
    Kernel k;
    auto p = load({{"10.toml", "[netdev]\nname = \"nd0\"\nkind = \"bridge\"\n"}});
    k.converge(p);
    auto p2 = load({{"10.toml", "[netdev]\nname = \"nd0\"\nkind = \"bond\"\nmode = \"active-backup\"\n"}});
    auto pl = plan(p2, k.s, k.owned);
    REQUIRE(ops(pl) == std::vector<Op>{Op::DeleteLink, Op::CreateNetdev});
    CHECK(pl.requests[1].netdev.bond_mode == "active-backup");
    k.apply(pl.requests);
    CHECK(k.converge(p2) == 1); // then brought up
}

TEST_CASE("vlans wait for their parent; veth creates both ends", "[linkd][profile]")
{
    Kernel k;
    auto p = load({{"10.toml", "[netdev]\nname = \"eth0.10\"\nkind = \"vlan\"\nvlan_id = 10\nparent = \"eth0\"\n"},
                   {"20.toml", "[netdev]\nname = \"ve0\"\nkind = \"veth\"\npeer = \"ve1\"\n"},
                   {"30.toml", "[match]\nname = \"ve1\"\n[link]\nmtu = 1400\n"}});
    auto pl = plan(p, k.s, k.owned);
    REQUIRE(ops(pl) == std::vector<Op>{Op::CreateNetdev});
    CHECK(pl.requests[0].netdev.peer == "ve1");
    REQUIRE(pl.notes.size() == 1);
    CHECK(pl.notes[0].find("parent eth0 does not exist yet") != std::string::npos);
    k.add_link(2, "eth0", true);
    CHECK(k.converge(p) == 2);
    const auto &created = plan(p, k.s, k.owned);
    CHECK(created.requests.empty());
    for (const auto &[i, l] : k.s.links)
        if (l.name == "ve1")
            CHECK(l.mtu == 1400u);
    CHECK(k.owned.netdevs == std::set<std::string>{"eth0.10", "ve0"});
}

TEST_CASE("links go down before a MAC change or joining a bond", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "eth0", true);
    k.add_link(3, "bond0", true, "bond");
    k.owned.netdevs.insert("bond0");
    auto p = load({{"10.toml", "[netdev]\nname = \"bond0\"\nkind = \"bond\"\n"},
                   {"20.toml", "[match]\nname = \"eth0\"\n[link]\ncontroller = \"bond0\"\n"
                               "mac = \"02:00:00:00:00:42\"\n"}});
    auto pl = plan(p, k.s, k.owned);
    // Down, then (down) into the bond with the new MAC, then up: the kernel applies a
    // request's flags before its IFLA_MASTER, and a bond refuses a port that is up.
    REQUIRE(ops(pl) == std::vector<Op>{Op::SetLink, Op::SetLink, Op::SetLink});
    CHECK(pl.requests[0].link.up == false);
    CHECK_FALSE(pl.requests[0].link.controller);
    CHECK_FALSE(pl.requests[1].link.up);
    CHECK(pl.requests[1].link.controller == 3);
    CHECK(pl.requests[1].link.mac);
    CHECK(pl.requests[2].link.up == true);
    CHECK_FALSE(pl.requests[2].link.controller);
    k.apply(pl.requests);
    CHECK(k.converge(p) == 0);
    CHECK((k.s.links.at(2).flags & IFF_UP));
    CHECK(k.s.links.at(2).master == 3);
}

TEST_CASE("a port that is down joins a bond before it goes up", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "eth0", false);
    k.add_link(3, "bond0", true, "bond");
    k.owned.netdevs.insert("bond0");
    auto p = load({{"10.toml", "[netdev]\nname = \"bond0\"\nkind = \"bond\"\n"},
                   {"20.toml", "[match]\nname = \"eth0\"\n[link]\ncontroller = \"bond0\"\n"}});
    auto pl = plan(p, k.s, k.owned);
    REQUIRE(ops(pl) == std::vector<Op>{Op::SetLink, Op::SetLink});
    CHECK(pl.requests[0].link.controller == 3);
    CHECK_FALSE(pl.requests[0].link.up);
    CHECK(pl.requests[1].link.up == true);
    k.apply(pl.requests);
    CHECK(k.converge(p) == 0);
}

TEST_CASE("a VLAN stays down, with a note, while its parent is down", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "eth0", false);
    auto p = load({{"10.toml", "[netdev]\nname = \"eth0.10\"\nkind = \"vlan\"\nvlan_id = 10\nparent = \"eth0\"\n"}});
    CHECK(k.converge(p) == 1);   // created; then nothing to do while eth0 is down
    auto pl = plan(p, k.s, k.owned);
    CHECK(pl.requests.empty());
    bool noted = false;
    for (const auto &n : pl.notes)
        noted |= n.find("stays down until its parent eth0 is up") != std::string::npos;
    CHECK(noted);
    k.s.links.at(2).flags |= IFF_UP;
    pl = plan(p, k.s, k.owned);
    REQUIRE(ops(pl) == std::vector<Op>{Op::SetLink});
    CHECK(pl.requests[0].link.up == true);
}

TEST_CASE("forget_absent drops records of objects someone else removed", "[linkd][profile]")
{
    Kernel k;
    k.add_link(2, "eth0", true);
    auto p = load({{"a.toml", "[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.10/24\"]\n"}});
    k.converge(p);
    k.s.addresses.clear();
    forget_absent(k.owned, k.s);
    CHECK(k.owned.addresses.empty());
    CHECK(k.converge(p) == 1); // and it is added again
}
