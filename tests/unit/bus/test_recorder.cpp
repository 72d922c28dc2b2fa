// SPDX-License-Identifier: GPL-2.0-or-later
// ipc::broker1::Recorder against a stand-in broker (org.alopex.Broker1 served from the
// generated spec) on a private dbus-daemon: records wait while the broker is away, go in
// order when it appears, overflow is counted and recorded, refusals are skipped, and a
// slow broker never holds up the caller.
#include <catch2/catch.hpp>

#include "alopex/bus/object.hpp"
#include "alopex/ipc/broker1.hpp"
#include "alopex/ipc/broker1_spec.hpp"
#include "broker1_client.hpp"
#include "private_bus.hpp"

using namespace alopex;
namespace b1 = ipc::broker1::api;

namespace {

struct FakeBroker {
    std::vector<std::string> records;
    unsigned delay_ms = 0;
    sd_event *event = nullptr;
    std::vector<bus::PendingReply> held;

    void record(bus::Call &c, std::string action, std::string details)
    {
        if (action == "bad") {
            c.invalid("action", "'bad' is refused");
            return;
        }
        records.push_back(action + " " + details);
        if (delay_ms == 0) {
            c.reply();
            return;
        }
        held.push_back(c.defer());
    }
    void release_held()
    {
        for (auto &p : held)
            p.reply();
        held.clear();
    }
};

const bus::Vtable<FakeBroker> &fake_vtable()
{
    static const auto vt =
        bus::Vtable<FakeBroker>(b1::spec)
            .method(b1::method::Ping, [](FakeBroker &, bus::Call &c) { c.reply(); })
            .method(b1::method::Version, [](FakeBroker &, bus::Call &c) { c.reply(std::string("fake")); })
            .method(b1::method::OpenDevice, [](FakeBroker &, bus::Call &c, std::string) { c.fail(bus_error::NotAuthorized, "no"); })
            .method(b1::method::WriteManagedFile,
                    [](FakeBroker &, bus::Call &c, std::string, std::vector<uint8_t>) { c.reply(); })
            .method(b1::method::WriteManagedBlock,
                    [](FakeBroker &, bus::Call &c, std::string, std::string, std::string) { c.reply(); })
            .method(b1::method::OpenOvsdb, [](FakeBroker &, bus::Call &c) { c.fail(bus_error::NotAuthorized, "no"); })
            .method(b1::method::OpenOvsBridge,
                    [](FakeBroker &, bus::Call &c, std::string) { c.fail(bus_error::NotAuthorized, "no"); })
            .method(b1::method::Record, &FakeBroker::record);
    return vt;
}

} // namespace

TEST_CASE("the Recorder queues while the broker is away and never blocks the caller")
{
    test::TwoPeers t;
    sd_event *raw = t.loop();
    auto &server = t.server;
    auto &client = t.client;
    auto run_until = [&](auto pred) { t.run_until(pred); };

    auto rec = ipc::broker1::Recorder::create(client.get(), raw, {.max_queue = 3, .retry_min_usec = 50'000});
    REQUIRE(rec);
    auto &r = **rec;
    for (int i = 0; i < 5; ++i)
        r.record(fmt::format("link.test-{}", i), "{}");
    r.record("bad", "{}");   // dropped too: the queue is full
    for (int i = 0; i < 20; ++i)
        REQUIRE(sd_event_run(raw, 10'000) >= 0);
    CHECK(r.queued() == 3);
    CHECK(r.dropped() == 3);
    CHECK(r.sent() == 0);

    FakeBroker fake;
    bus::Service svc(server.get(), raw);
    auto reg = svc.add(ipc::broker1::path, fake_vtable(), fake);
    REQUIRE(reg);
    REQUIRE(sd_bus_request_name(server.get(), ipc::broker1::service, 0) >= 0);
    run_until([&] { return r.queued() == 0; });
    REQUIRE(fake.records.size() == 4);
    CHECK(fake.records[0] == "ledger.dropped {\"records\":3}");
    CHECK(fake.records[1] == "link.test-0 {}");
    CHECK(fake.records[3] == "link.test-2 {}");
    CHECK(r.sent() == 4);

    // A refusal is not retried; the next record goes on.
    r.record("bad", "{}");
    r.record("fw.after", "{\"n\":1}");
    run_until([&] { return r.queued() == 0; });
    CHECK(r.refused() == 1);
    CHECK(fake.records.back() == "fw.after {\"n\":1}");

    // A broker that does not answer: record() still returns at once, later ones wait.
    fake.delay_ms = 1;
    r.record("slow.one", "{}");
    r.record("slow.two", "{}");
    run_until([&] { return fake.held.size() == 1; });
    CHECK(r.queued() == 2);
    fake.delay_ms = 0;
    fake.release_held();
    run_until([&] { return r.queued() == 0; });
    CHECK(fake.records.back() == "slow.two {}");
}
