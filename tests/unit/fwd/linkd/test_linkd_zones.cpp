// SPDX-License-Identifier: GPL-2.0-or-later
// fwd's LinkdZones against a fake alopex-linkd (link objects with Index, Name, Zone and
// OperationalState, an ObjectManager, on a private dbus-daemon): the zones arrive keyed by
// ifindex, a PropertiesChanged of one link costs that link only (the other links'
// properties are never read again: the fake counts every getter call per link), changes
// of other properties report nothing, and linkd going away keeps the zones.
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "alopex/ipc/link1.hpp"
#include "linkd/linkd_zones.hpp"
#include "private_bus.hpp"

using namespace alopex;
namespace l1 = ipc::link1;

namespace {

struct FakeLink {
    int32_t index = 0;
    std::string name, zone, operstate = "up";
    unsigned reads = 0;   // getter calls for this link
};

struct FakeLinkd {
    std::map<int, FakeLink> links;

    static FakeLink *find(FakeLinkd *d, const char *path)
    {
        std::string_view p(path), prefix(l1::link_prefix);
        if (p.size() <= prefix.size() + 1 || p.substr(0, prefix.size()) != prefix || p[prefix.size()] != '/')
            return nullptr;
        int index = std::atoi(std::string(p.substr(prefix.size() + 1)).c_str());
        auto it = d->links.find(index);
        return it == d->links.end() ? nullptr : &it->second;
    }
    static int on_find(sd_bus *, const char *path, const char *, void *userdata, void **found, sd_bus_error *)
    {
        FakeLink *l = find(static_cast<FakeLinkd *>(userdata), path);
        if (!l)
            return 0;
        *found = l;
        return 1;
    }
    static int on_enumerate(sd_bus *, const char *, void *userdata, char ***nodes, sd_bus_error *)
    {
        auto *d = static_cast<FakeLinkd *>(userdata);
        char **v = static_cast<char **>(calloc(d->links.size() + 1, sizeof(char *)));
        size_t i = 0;
        for (const auto &[index, _] : d->links)
            v[i++] = strdup(fmt::format("{}/{}", l1::link_prefix, index).c_str());
        *nodes = v;
        return 0;
    }
    static int get(sd_bus *, const char *, const char *, const char *prop, sd_bus_message *reply,
                   void *userdata, sd_bus_error *)
    {
        auto *l = static_cast<FakeLink *>(userdata);
        ++l->reads;
        std::string_view p(prop);
        if (p == "Index")
            return sd_bus_message_append(reply, "i", l->index);
        if (p == "Name")
            return sd_bus_message_append(reply, "s", l->name.c_str());
        if (p == "Zone")
            return sd_bus_message_append(reply, "s", l->zone.c_str());
        return sd_bus_message_append(reply, "s", l->operstate.c_str());
    }
};

const sd_bus_vtable link_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Index", "i", &FakeLinkd::get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Name", "s", &FakeLinkd::get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("OperationalState", "s", &FakeLinkd::get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Zone", "s", &FakeLinkd::get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_VTABLE_END,
};

struct Served {
    SlotPtr vtable, enumerator, manager;
};

Served serve(sd_bus *bus, FakeLinkd &d)
{
    Served s;
    sd_bus_slot *slot = nullptr;
    REQUIRE(sd_bus_add_fallback_vtable(bus, &slot, l1::link_prefix, l1::link_interface, link_vtable,
                                       &FakeLinkd::on_find, &d) >= 0);
    s.vtable.reset(slot);
    REQUIRE(sd_bus_add_node_enumerator(bus, &slot, l1::link_prefix, &FakeLinkd::on_enumerate, &d) >= 0);
    s.enumerator.reset(slot);
    REQUIRE(sd_bus_add_object_manager(bus, &slot, l1::path) >= 0);
    s.manager.reset(slot);
    return s;
}

std::string path_of(int index) { return fmt::format("{}/{}", l1::link_prefix, index); }

void emit(sd_bus *bus, int index, const char *prop)
{
    REQUIRE(sd_bus_emit_properties_changed(bus, path_of(index).c_str(), l1::link_interface, prop, nullptr) >= 0);
}

// A round trip client -> server -> client: whatever the client sent before (a re-read,
// say) has been served when this returns.
void barrier(test::TwoPeers &t)
{
    const char *server = nullptr;
    REQUIRE(sd_bus_get_unique_name(t.server.get(), &server) >= 0);
    bool done = false;
    sd_bus_slot *slot = nullptr;
    REQUIRE(sd_bus_call_method_async(
                t.client.get(), &slot, server, "/", "org.freedesktop.DBus.Peer", "Ping",
                [](sd_bus_message *, void *userdata, sd_bus_error *) {
                    *static_cast<bool *>(userdata) = true;
                    return 0;
                },
                &done, "") >= 0);
    SlotPtr keep(slot);
    t.run_until([&] { return done; });
}

} // namespace

TEST_CASE("linkd's zones follow PropertiesChanged of one link without reading the others")
{
    test::TwoPeers t;
    FakeLinkd d;
    d.links[2] = {2, "eth0", "wan"};
    d.links[3] = {3, "eth1", "lan"};
    d.links[4] = {4, "eth2", ""};
    auto served = serve(t.server.get(), d);
    REQUIRE(sd_bus_request_name(t.server.get(), l1::service, 0) >= 0);

    std::vector<std::string> seen;   // what the callback was told, in order
    auto z = fwd::LinkdZones::start(t.client.get(), [&](int32_t ifindex, const std::string &zone) {
        seen.push_back(fmt::format("{}={}", ifindex, zone));
    });
    REQUIRE(z);
    auto &zones = **z;
    t.run_until([&] { return zones.zones().size() == 2; });
    CHECK(zones.zones() == std::map<std::string, std::string>{{"eth0", "wan"}, {"eth1", "lan"}});
    CHECK(zones.by_ifindex() == std::map<int32_t, std::string>{{2, "wan"}, {3, "lan"}});
    CHECK(zones.settled());
    CHECK(seen == std::vector<std::string>{"2=wan", "3=lan"});
    const unsigned reads2 = d.links[2].reads, reads4 = d.links[4].reads;
    REQUIRE(reads2 > 0);

    // One link's zone changes: only it is reported, and no other link is read again.
    seen.clear();
    d.links[3].zone = "dmz";
    emit(t.server.get(), 3, "Zone");
    t.run_until([&] { return zones.zones()["eth1"] == "dmz"; });
    barrier(t);
    CHECK(seen == std::vector<std::string>{"3=dmz"});
    CHECK(d.links[2].reads == reads2);
    CHECK(d.links[4].reads == reads4);

    // A change of another property reports nothing and reads nothing else either; a later
    // zone change on the same link shows that it was processed (signals arrive in order).
    seen.clear();
    const unsigned reads3 = d.links[3].reads;
    d.links[2].operstate = "down";
    emit(t.server.get(), 2, "OperationalState");
    d.links[4].zone = "lan";
    emit(t.server.get(), 4, "Zone");
    t.run_until([&] { return zones.by_ifindex().contains(4); });
    barrier(t);
    CHECK(seen == std::vector<std::string>{"4=lan"});
    CHECK(d.links[3].reads == reads3);
    CHECK(zones.full_reads() == 1);

    // A zone cleared: reported as "", gone from the map.
    seen.clear();
    d.links[2].zone = "";
    emit(t.server.get(), 2, "Zone");
    t.run_until([&] { return !zones.by_ifindex().contains(2); });
    CHECK(seen == std::vector<std::string>{"2="});

    // linkd goes away: the zones stay (the interfaces have not moved).
    seen.clear();
    REQUIRE(sd_bus_release_name(t.server.get(), l1::service) >= 0);
    for (int i = 0; i < 20; ++i)
        REQUIRE(sd_event_run(t.loop(), 10'000) >= 0);
    CHECK(zones.by_ifindex() == std::map<int32_t, std::string>{{3, "dmz"}, {4, "lan"}});
    CHECK(seen.empty());
}

TEST_CASE("LinkdZones settles when linkd is not running")
{
    test::TwoPeers t;
    auto z = fwd::LinkdZones::start(t.client.get(), [](int32_t, const std::string &) {});
    REQUIRE(z);
    int settled = 0;
    (*z)->on_settled = [&] { ++settled; };
    t.run_until([&] { return settled == 1; });
    CHECK((*z)->by_ifindex().empty());
}
