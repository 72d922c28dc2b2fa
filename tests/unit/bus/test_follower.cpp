// SPDX-License-Identifier: GPL-2.0-or-later
// bus::Follower (and bus::Calls::get) against objects served by bus::Service, both on one event loop and a
// private dbus-daemon of the test's own (name owner changes need a real bus daemon).

#include <optional>

#include <catch2/catch.hpp>

#include "alopex/bus/client.hpp"
#include "alopex/bus/follower.hpp"
#include "alopex/bus/object.hpp"
#include "private_bus.hpp"
#include "test1_spec.hpp"

using namespace alopex;
using namespace std::chrono_literals;
namespace ti = ipc::test1::item;

namespace {

constexpr const char *service = "org.alopex.Test1";
constexpr const char *root = "/org/alopex/Test1";
constexpr const char *prefix = "/org/alopex/Test1/item";

struct ItemInfo {
    int32_t value = 0;
    bool operator==(const ItemInfo &) const = default;
};

const bus::PropertyReader<ItemInfo> &item_reader()
{
    static const auto r = bus::PropertyReader<ItemInfo>(ti::spec).field(ti::property::Value, &ItemInfo::value);
    return r;
}

struct Item {
    int value;
};

const bus::Vtable<Item> &item_vtable()
{
    static const auto vt = bus::Vtable<Item>(ti::spec).property(ti::property::Value,
                                                                [](const Item &i) { return int32_t(i.value); });
    return vt;
}

// The items as objects <prefix>/<key>, found and listed from the map as it is then.
auto serve(bus::Service &svc, std::map<int, Item> &items)
{
    return svc.add_subtree<Item>(
        prefix, item_vtable(),
        [&items](std::string_view p) -> Item * {
            for (auto &[k, v] : items)
                if (p == fmt::format("{}/{}", prefix, k))
                    return &v;
            return nullptr;
        },
        [&items] {
            std::vector<std::string> out;
            for (auto &[k, v] : items)
                out.push_back(fmt::format("{}/{}", prefix, k));
            return out;
        });
}

struct Log {
    std::vector<std::string> lines;
};

} // namespace

TEST_CASE("a Follower keeps a copy of another daemon's objects from signals only")
{
    test::TwoPeers t;
    sd_event *raw = t.loop();
    auto &server = t.server;
    auto &client = t.client;

    std::map<int, Item> items{{3, {30}}, {4, {40}}};
    bus::Service svc(server.get(), raw);
    auto reg = serve(svc, items);
    REQUIRE(reg);
    auto om = svc.add_object_manager(root);
    REQUIRE(om);
    REQUIRE(sd_bus_request_name(server.get(), service, 0) >= 0);

    Log log;
    auto f = bus::Follower<ItemInfo>::start(
        client.get(), {service, root, prefix}, item_reader(),
        {.added = [&](const std::string &p, const ItemInfo &i) { log.lines.push_back(fmt::format("+{}={}", p, i.value)); },
         .changed =
             [&](const std::string &p, const ItemInfo &i, const std::vector<std::string> &props) {
                 log.lines.push_back(fmt::format("~{}={} [{}]", p, i.value, fmt::join(props, ",")));
             },
         .removed = [&](const std::string &p, const ItemInfo &) { log.lines.push_back("-" + p); }});
    REQUIRE(f);
    auto &fol = **f;
    auto run_until = [&](auto pred) { t.run_until(pred, 400); };
    run_until([&] { return fol.synced(); });
    CHECK(fol.objects().size() == 2);
    CHECK(fol.full_reads() == 1);
    CHECK(log.lines == std::vector<std::string>{"+/org/alopex/Test1/item/3=30", "+/org/alopex/Test1/item/4=40"});

    // A property change arrives as a delta.
    log.lines.clear();
    items[3].value = 33;
    svc.changed(fmt::format("{}/3", prefix), ti::spec, ti::property::Value);
    run_until([&] { return !log.lines.empty(); });
    CHECK(log.lines == std::vector<std::string>{"~/org/alopex/Test1/item/3=33 [Value]"});
    CHECK(fol.find("/org/alopex/Test1/item/3")->value == 33);

    // Objects come and go.
    log.lines.clear();
    items[5] = {50};
    svc.interfaces_added(fmt::format("{}/5", prefix), ti::spec);
    items.erase(4);
    svc.interfaces_removed(fmt::format("{}/4", prefix), ti::spec);
    run_until([&] { return log.lines.size() == 2; });
    CHECK(log.lines == std::vector<std::string>{"+/org/alopex/Test1/item/5=50", "-/org/alopex/Test1/item/4"});
    CHECK(fol.full_reads() == 1);   // no re-read for any of it

    // The daemon goes away and comes back: one full read, differences reported.
    log.lines.clear();
    REQUIRE(sd_bus_release_name(server.get(), service) >= 0);
    run_until([&] { return !fol.present(); });
    CHECK(fol.objects().empty());
    items[3].value = 34;
    REQUIRE(sd_bus_request_name(server.get(), service, 0) >= 0);
    run_until([&] { return fol.synced(); });
    CHECK(fol.full_reads() == 2);
    CHECK(fol.find("/org/alopex/Test1/item/3")->value == 34);
    CHECK(fol.objects().size() == 2);
}

TEST_CASE("a Follower started before the other daemon says it is absent, then follows it when it appears")
{
    test::TwoPeers t;
    auto f = bus::Follower<ItemInfo>::start(t.client.get(), {service, root, prefix}, item_reader());
    REQUIRE(f);
    auto &fol = **f;
    int absent = 0, synced = 0;
    fol.on_absent = [&] { ++absent; };
    fol.on_synced = [&] { ++synced; };
    t.run_until([&] { return absent == 1; });
    CHECK_FALSE(fol.present());
    CHECK_FALSE(fol.synced());

    std::map<int, Item> items{{3, {30}}};
    bus::Service svc(t.server.get(), t.loop());
    auto reg = serve(svc, items);
    REQUIRE(reg);
    auto om = svc.add_object_manager(root);
    REQUIRE(om);
    REQUIRE(sd_bus_request_name(t.server.get(), service, 0) >= 0);
    t.run_until([&] { return synced == 1; });
    CHECK(fol.find("/org/alopex/Test1/item/3")->value == 30);
    CHECK(absent == 1);
}

TEST_CASE("Calls::get reads one property asynchronously, typed by the XML")
{
    test::TwoPeers t;
    sd_event *raw = t.loop();
    std::map<int, Item> items{{3, {30}}};
    bus::Service svc(t.server.get(), raw);
    auto reg = serve(svc, items);
    REQUIRE(reg);
    REQUIRE(sd_bus_request_name(t.server.get(), service, 0) >= 0);

    bus::Calls calls(t.client.get());
    std::optional<Result<int32_t>> got, missing;
    std::optional<Result<std::string>> wrong_type;
    calls.get<int32_t>(service, "/org/alopex/Test1/item/3", ti::spec, ti::property::Value,
                       [&](Result<int32_t> r) { got = std::move(r); });
    calls.get<int32_t>(service, "/org/alopex/Test1/item/9", ti::spec, ti::property::Value,
                       [&](Result<int32_t> r) { missing = std::move(r); });
    calls.get<std::string>(service, "/org/alopex/Test1/item/3", ti::spec, ti::property::Value,
                           [&](Result<std::string> r) { wrong_type = std::move(r); });
    t.run_until([&] { return got && missing && wrong_type; }, 400);
    REQUIRE(*got);
    CHECK(**got == 30);
    CHECK_FALSE(*missing);   // no such object: the bus's error
    REQUIRE_FALSE(*wrong_type);
    CHECK(wrong_type->error().message.find("the XML says 'i'") != std::string::npos);
    CHECK(calls.pending() == 0);
}
