// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-wait-online's verdict: which links are waited for and when they count as routable.
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "online.hpp"

using namespace alopex::online;

namespace {

LinkView link(std::string name, std::string oper, std::string admin, std::vector<std::string> scopes,
              std::optional<bool> managed = std::nullopt, int controller = 0)
{
    LinkView l;
    static int next = 1;
    l.ifindex = next++;
    l.name = std::move(name);
    l.operstate = std::move(oper);
    l.admin = std::move(admin);
    l.managed = managed;
    l.controller = controller;
    for (auto &s : scopes)
        l.addresses.push_back({AF_INET, s});
    return l;
}

} // namespace

TEST_CASE("wait-online: routable needs carrier, IFF_UP and a global or site address")
{
    CHECK(routable(link("eth0", "UP", "up", {"global"})));
    CHECK(routable(link("tun0", "UNKNOWN", "up", {"global"})));
    CHECK(routable(link("eth0", "UP", "up", {"link", "site"})));
    CHECK_FALSE(routable(link("eth0", "UP", "up", {"link"})));
    CHECK_FALSE(routable(link("eth0", "UP", "up", {"host"})));
    CHECK_FALSE(routable(link("eth0", "LOWERLAYERDOWN", "up", {"global"})));
    CHECK_FALSE(routable(link("eth0", "DOWN", "down", {"global"})));
    CHECK_FALSE(routable(link("eth0", "UP", "down", {"global"})));
}

TEST_CASE("wait-online: default set without management information")
{
    Options o;
    // Loopback, down links and bridge ports are not waited for.
    std::vector<LinkView> links = {link("lo", "UNKNOWN", "up", {"host"}), link("eth1", "DOWN", "down", {}),
                                   link("port0", "UP", "up", {}, std::nullopt, 7),
                                   link("br0", "UP", "up", {"global"})};
    CHECK(evaluate(links, o).online);
    links.push_back(link("eth0", "UP", "up", {"link"}));
    auto v = evaluate(links, o);
    CHECK_FALSE(v.online);
    CHECK(v.waiting_for == "eth0");
    o.any = true;
    CHECK(evaluate(links, o).online);
}

TEST_CASE("wait-online: nothing to wait for is not online")
{
    Options o;
    auto v = evaluate({link("lo", "UNKNOWN", "up", {"host"})}, o);
    CHECK_FALSE(v.online);
    CHECK(v.waiting_for == "a link to configure");
    CHECK_FALSE(evaluate({}, o).online);
}

TEST_CASE("wait-online: managed links when linkd reports them")
{
    Options o;
    std::vector<LinkView> links = {link("eth0", "UP", "up", {"global"}, true),
                                   link("eth1", "UP", "up", {"link"}, false)};
    CHECK(evaluate(links, o).online);  // eth1 is not managed
    links[1].managed = true;
    CHECK_FALSE(evaluate(links, o).online);
}

TEST_CASE("wait-online: named interfaces, including absent ones")
{
    Options o;
    o.interfaces = {"eth0", "wwan0"};
    std::vector<LinkView> links = {link("eth0", "UP", "up", {"global"})};
    auto v = evaluate(links, o);
    CHECK_FALSE(v.online);
    CHECK(v.waiting_for == "wwan0 (absent)");
    o.any = true;
    CHECK(evaluate(links, o).online);
    o = {};
    o.interfaces = {"eth1"};
    links.push_back(link("eth1", "DOWN", "down", {}));
    CHECK(evaluate(links, o).waiting_for == "eth1");
    links.back() = link("eth1", "UP", "up", {"global"});
    CHECK(evaluate(links, o).online);
}

TEST_CASE("wait-online: the verdict kept link by link as linkd's objects change")
{
    Options o;
    Tracker t(o);
    CHECK(t.verdict().waiting_for == "a link to configure");
    auto eth0 = link("eth0", "UP", "up", {"link"}, true);
    auto eth1 = link("eth1", "DOWN", "up", {}, true);
    t.update("/l/2", eth0);
    t.update("/l/3", eth1);
    CHECK(t.verdict().waiting_for == "eth0, eth1");
    eth0.addresses.push_back({AF_INET, "global"});
    t.update("/l/2", eth0);
    CHECK(t.verdict().waiting_for == "eth1");
    eth1.managed = false;   // no profile any more: not waited for
    t.update("/l/3", eth1);
    CHECK(t.verdict().online);
    t.remove("/l/2");
    CHECK(t.verdict().waiting_for == "a link to configure");
    t.remove("/l/2");       // twice: nothing
    CHECK_FALSE(t.verdict().online);
}

TEST_CASE("wait-online: a named link renamed away and back")
{
    Options o;
    o.interfaces = {"wan0"};
    Tracker t(o);
    auto l = link("wan0", "UP", "up", {"global"});
    t.update("/l/5", l);
    CHECK(t.verdict().online);
    l.name = "eth5";
    t.update("/l/5", l);
    CHECK(t.verdict().waiting_for == "wan0 (absent)");
    // Another link takes the name while the first still has it (a swap in flight).
    auto other = link("wan0", "DOWN", "down", {});
    t.update("/l/6", other);
    CHECK(t.verdict().waiting_for == "wan0");
    l.name = "wan0";
    t.update("/l/5", l);
    CHECK(t.verdict().online);
    t.remove("/l/5");
    CHECK(t.verdict().waiting_for == "wan0");
}
