// SPDX-License-Identifier: GPL-2.0-or-later
// linkd's two-step start (announce.hpp): with links and addresses known but the routes not
// yet, the profiles' matches are published (Managed, Zone) and nothing is sent to the
// kernel; profile rounds, Reload's answer and what waits for the end of Startup follow
// the full sync and the first round's answers.
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "apply_rig.hpp"
#include "configurator.hpp"
#include "net_test.hpp"

using namespace alopex;
using namespace alopex::linkd;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

netlink::Link link(int ifindex, std::string name)
{
    netlink::Link l;
    l.ifindex = ifindex;
    l.name = std::move(name);
    l.mtu = 1500;
    l.flags = IFF_UP | IFF_LOWER_UP | IFF_RUNNING;
    l.carrier = true;
    return l;
}

struct Rig : linkd_test::ApplyRig {
    std::unique_ptr<Configurator> conf;

    Rig()
    {
        fs::create_directory(dir / "links");
        std::ofstream(dir / "links" / "eth0.toml")
            << "[match]\nname = \"eth0\"\n[link]\nzone = \"wan\"\n[ipv4]\naddresses = [\"192.0.2.10/24\"]\n";
        manager->handle({netlink::Change::New, link(2, "eth0"), {}});
        manager->handle({netlink::Change::New, link(3, "eth1"), {}});
        auto c = Configurator::create(event.get(), *manager, *queue, dir / "links", dir / "owned.json");
        REQUIRE(c);
        conf = std::move(*c);
        manager->hooks.links_known.add([this] { conf->publish_matches(); });
        conf->on_round = [this] { manager->end_startup(); };
    }
    size_t requests_seen()
    {
        size_t n = 0;
        for (auto &d : received()) {
            size_t len = d.size();
            for (auto *h = reinterpret_cast<const nlmsghdr *>(d.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
                reply(test::answer(h->nlmsg_seq, 0));
                ++n;
            }
        }
        return n;
    }
};

} // namespace

TEST_CASE("staged start: links known publishes the profiles' matches and sends nothing until the routes are in")
{
    Rig rig;
    bool started = false, applied = false;
    rig.manager->when_started([&] { started = true; });
    rig.manager->handle_links_known();
    CHECK(rig.manager->links_known());
    CHECK_FALSE(rig.manager->synced());
    // Published from the match alone.
    CHECK(rig.manager->link(2)->managed());
    CHECK(rig.manager->link(2)->zone() == "wan");
    CHECK_FALSE(rig.manager->link(3)->managed());
    // No round before the routes: nothing reaches the kernel, Reload's answer waits.
    rig.conf->apply();
    rig.conf->when_applied([&] { applied = true; });
    rig.run_for(30ms);
    CHECK(rig.requests_seen() == 0);
    CHECK_FALSE(applied);
    CHECK(rig.manager->starting());
    CHECK_FALSE(started);

    // The routes are in: the first round runs, and once its answers are in, Startup ends.
    rig.manager->handle_synced(true);
    size_t sent = 0;
    rig.run_until([&] { return (sent += rig.requests_seen()) > 0; });
    CHECK(sent == 1);   // the address
    rig.run_until([&] { return applied; });
    CHECK(applied);
    CHECK_FALSE(rig.manager->starting());
    CHECK(started);
    bool at_once = false;
    rig.manager->when_started([&] { at_once = true; });
    CHECK(at_once);
}

TEST_CASE("staged start: without the staged monitor, the full sync also makes the links known")
{
    Rig rig;
    size_t known = 0;
    rig.manager->hooks.links_known.add([&] { ++known; });
    rig.manager->handle_synced(true);
    CHECK(known == 1);
    CHECK(rig.manager->links_known());
    CHECK(rig.manager->link(2)->zone() == "wan");
    rig.manager->handle_synced(false);   // a resync announces nothing again
    CHECK(known == 1);
}
