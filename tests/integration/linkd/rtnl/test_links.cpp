// SPDX-License-Identifier: GPL-2.0-or-later
// Links and netdevs made through rtnl::AsyncClient, checked with `ip -j -d link`.

#include <catch2/catch.hpp>

#include "ip_json.hpp"
#include "kernel_feature.hpp"

using namespace alopex;
using namespace alopex::linkd::rtnl;
using namespace alopex::linkd::rtnl::itest;
using alopex::itest::kernel_lacks;

namespace {

// VLAN and bond need kernel modules some test kernels lack (this project's test machine's
// among them); the kernel then says EOPNOTSUPP. Those cases are tagged [vm]: the meson
// test on the machine's own kernel leaves them out, the VM of tests/integration/vm (Debian's
// kernel, CI=true) runs them, where a missing kind is a failure (kernel_feature.hpp).
bool unsupported(const Result<> &r, const std::string &what)
{
    if (r || r.error().code != EOPNOTSUPP)
        return false;
    CHECK(r.error().message.rfind(what + ": ", 0) == 0);
    kernel_lacks("a link kind: " + r.error().message);
    return true;
}

} // namespace

TEST_CASE("veth pair: create, up/down, MTU, MAC, rename, delete", "[kernel][link]")
{
    require_private_netns();
    ok(create({.name = "rta0", .kind = NetdevKind::Veth, .peer = "rta1", .mtu = 1450}));
    auto a = link("rta0");
    CHECK(a["linkinfo"]["info_kind"] == "veth");
    CHECK(a["link"] == "rta1");
    CHECK(a["mtu"] == 1450);
    CHECK(link("rta1")["link"] == "rta0");
    int idx = ifindex("rta0");
    REQUIRE(idx > 0);

    ok(set({.ifindex = idx, .up = true, .mtu = 1400, .mac = Mac::eui48({0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01})}));
    a = link("rta0");
    CHECK(has_flag(a, "UP"));
    CHECK(a["mtu"] == 1400);
    CHECK(a["address"] == "02:aa:bb:cc:dd:01");

    ok(set({.ifindex = idx, .up = false}));
    CHECK_FALSE(has_flag(link("rta0"), "UP"));
    ok(set({.ifindex = idx, .name = "rtren0"}));
    CHECK(ifindex("rta0") == 0);
    CHECK(ifindex("rtren0") == idx);
    CHECK(link("rtren0")["mtu"] == 1400);   // nothing else changed

    ok(del_link(idx));
    CHECK(ifindex("rtren0") == 0);
    CHECK(ifindex("rta1") == 0);            // a veth takes its peer along
}

TEST_CASE("The kernel's extended ACK text reaches the error", "[kernel][link]")
{
    require_private_netns();
    ok(create({.name = "rtx0", .kind = NetdevKind::Veth, .peer = "rtx1"}));
    auto r = run({set({.ifindex = ifindex("rtx0"), .mtu = 1000000}, "mtu of rtx0")});
    REQUIRE_FALSE(r[0]);
    CHECK(r[0].error().code == EINVAL);
    INFO(r[0].error().message);
    CHECK(r[0].error().message.rfind("mtu of rtx0: ", 0) == 0);
    // Not strerror(EINVAL) but the kernel's own words ("mtu greater than device maximum").
    CHECK(r[0].error().message.find("Invalid argument") == std::string::npos);
    CHECK(r[0].error().message.find("maximum") != std::string::npos);

    auto dup = run({create({.name = "rtx0", .kind = NetdevKind::Bridge}, "bridge rtx0")});
    REQUIRE_FALSE(dup[0]);
    CHECK(dup[0].error().code == EEXIST);
    CHECK(dup[0].error().message.rfind("bridge rtx0: ", 0) == 0);
    CHECK(link("rtx0")["linkinfo"]["info_kind"] == "veth");
    ok(del_link(ifindex("rtx0")));
}

TEST_CASE("Bridge with STP and a veth port; controller set and released", "[kernel][netdev]")
{
    require_private_netns();
    ok(create({.name = "rtbr0", .kind = NetdevKind::Bridge, .stp = true}));
    ok(create({.name = "rtbr1", .kind = NetdevKind::Bridge, .stp = false}));
    ok(create({.name = "rtp0", .kind = NetdevKind::Veth, .peer = "rtp1"}));
    auto br = link("rtbr0");
    CHECK(br["linkinfo"]["info_kind"] == "bridge");
    CHECK(br["linkinfo"]["info_data"]["stp_state"] == 1);
    CHECK(link("rtbr1")["linkinfo"]["info_data"]["stp_state"] == 0);

    int br0 = ifindex("rtbr0"), p0 = ifindex("rtp0");
    ok(set({.ifindex = p0, .up = true, .controller = br0}));
    ok(set({.ifindex = br0, .up = true}));
    auto port = link("rtp0");
    CHECK(port["master"] == "rtbr0");
    CHECK(has_flag(port, "UP"));
    CHECK(has_flag(link("rtbr0"), "UP"));

    ok(set({.ifindex = p0, .controller = ifindex("rtbr1")}));
    CHECK(link("rtp0")["master"] == "rtbr1");
    ok(set({.ifindex = p0, .controller = 0}));
    CHECK_FALSE(link("rtp0").contains("master"));
    for (auto n : {"rtbr0", "rtbr1", "rtp0"})
        ok(del_link(ifindex(n)));
}

TEST_CASE("VLAN on a veth", "[kernel][netdev][vm]")
{
    require_private_netns();
    ok(create({.name = "rtv0", .kind = NetdevKind::Veth, .peer = "rtv1"}));
    auto r = run({create({.name = "rtv0.42", .kind = NetdevKind::Vlan, .parent = ifindex("rtv0"), .vlan_id = 42})});
    if (!unsupported(r[0], "netdev rtv0.42")) {
        INFO((r[0] ? std::string() : r[0].error().message));
        REQUIRE(r[0]);
        auto v = link("rtv0.42");
        CHECK(v["linkinfo"]["info_kind"] == "vlan");
        CHECK(v["linkinfo"]["info_data"]["id"] == 42);
        CHECK(v["link"] == "rtv0");
        ok(del_link(ifindex("rtv0.42")));
    }
    CHECK(ifindex("rtv0.42") == 0);
    ok(del_link(ifindex("rtv0")));
}

TEST_CASE("Bond in active-backup mode with a port", "[kernel][netdev][vm]")
{
    require_private_netns();
    ok(create({.name = "rtp2", .kind = NetdevKind::Veth, .peer = "rtp3"}));
    auto r = run({create({.name = "rtbond0", .kind = NetdevKind::Bond, .bond_mode = "active-backup"})});
    if (!unsupported(r[0], "netdev rtbond0")) {
        INFO((r[0] ? std::string() : r[0].error().message));
        REQUIRE(r[0]);
        auto b = link("rtbond0");
        CHECK(b["linkinfo"]["info_kind"] == "bond");
        CHECK(b["linkinfo"]["info_data"]["mode"] == "active-backup");
        ok(set({.ifindex = ifindex("rtp2"), .controller = ifindex("rtbond0")}));
        CHECK(link("rtp2")["master"] == "rtbond0");
        ok(del_link(ifindex("rtbond0")));
    }
    CHECK(ifindex("rtbond0") == 0);
    ok(del_link(ifindex("rtp2")));
}
