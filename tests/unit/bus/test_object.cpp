// SPDX-License-Identifier: GPL-2.0-or-later
// bus::Service / bus::Vtable / bus::Call end to end: a server and a client sd-bus over a
// socketpair (a peer-to-peer connection, no bus daemon), the server's loop on a thread of
// its own, the client calling synchronously.
#include <sys/socket.h>

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>
#include <systemd/sd-id128.h>

#include "alopex/bus/object.hpp"
#include "alopex/bus/options.hpp"
#include "alopex/fd.hpp"
#include "test1_spec.hpp"

using namespace alopex;
namespace tc = ipc::test1::counter;
namespace ti = ipc::test1::item;

namespace {

struct Entry {
    std::string name;
    uint32_t value = 0;
};

} // namespace

template <> struct alopex::bus::Fields<Entry> {
    static constexpr auto members = std::make_tuple(&Entry::name, &Entry::value);
};

namespace {

constexpr const char *path = "/org/alopex/Test1";

struct Counter {
    bus::Service *service = nullptr;
    uint32_t count = 0;
    std::vector<Entry> items{{"a", 1}, {"b", 2}};
    std::map<int, int> values{{3, 30}, {4, 40}};
    std::vector<bus::PendingReply> kept;

    void echo(bus::Call &c, std::string text, int32_t n) { c.reply(text + "!", n + 1); }
    void refuse(bus::Call &c, std::string thing) { c.invalid("thing", "'{}' is not acceptable", thing); }
    void later(bus::Call &c, uint32_t msec)
    {
        auto p = std::make_shared<bus::PendingReply>(c.defer());
        sd_event_source *s = nullptr;
        uint64_t now = 0;
        sd_event_now(service->event(), CLOCK_MONOTONIC, &now);
        auto *box = new std::shared_ptr<bus::PendingReply>(p);
        sd_event_add_time(
            service->event(), &s, CLOCK_MONOTONIC, now + uint64_t(msec) * 1000, 0,
            [](sd_event_source *src, uint64_t, void *ud) {
                auto *b = static_cast<std::shared_ptr<bus::PendingReply> *>(ud);
                (*b)->reply(std::string("done"));
                delete b;
                sd_event_source_unref(src);
                return 0;
            },
            box);
    }
    void configure(bus::Call &c, bus::Options opts)
    {
        auto mtu = opts.integer("mtu", 68, 65535);
        auto name = opts.string("name");
        auto on = opts.boolean("on");
        if (!c.ok(mtu) || !c.ok(name) || !c.ok(on) || !c.ok(opts.done()))
            return;
        c.reply(fmt::format("mtu={} name={} on={}", mtu->value_or(0), name->value_or("-"), on->value_or(false)));
    }
    void guarded(bus::Call &c)
    {
        if (!c.authorize("org.alopex.test"))
            return;
        c.reply();
    }
    void forget(bus::Call &) {}
    void drop(bus::Call &c) { (void)c.defer(); }
    void wrong_reply(bus::Call &c) { c.reply(std::string("not a u")); }
    void bump(bus::Call &c)
    {
        ++count;
        service->changed(path, tc::spec, tc::property::Count);
        service->changed(path, tc::spec, tc::property::Items);
        service->changed(path, tc::spec, tc::property::Count);   // coalesced
        service->changed(path, tc::spec, tc::property::Name);    // const: never signalled
        c.reply();
    }
};

const bus::Vtable<Counter> &counter_vtable()
{
    static const auto vt =
        bus::Vtable<Counter>(tc::spec)
            .method(tc::method::Echo, &Counter::echo)
            .method(tc::method::Refuse, &Counter::refuse)
            .method(tc::method::Later, &Counter::later)
            .method(tc::method::Configure, &Counter::configure)
            .method(tc::method::Guarded, &Counter::guarded)
            .method(tc::method::Forget, &Counter::forget)
            .method(tc::method::Drop, &Counter::drop)
            .method(tc::method::WrongReply, &Counter::wrong_reply)
            .method(tc::method::Bump, [](Counter &x, bus::Call &c) { x.bump(c); })
            .property(tc::property::Count, [](const Counter &x) { return x.count; })
            .property(tc::property::Name, [](const Counter &) { return std::string("counter"); })
            .property(tc::property::Items, [](const Counter &x) { return x.items; })
            .property(tc::property::Stats, [](const Counter &) {
                return Result<std::map<std::string, uint64_t>>(std::map<std::string, uint64_t>{{"calls", 7}});
            });
    return vt;
}

struct ItemRef {
    int value;
};

const bus::Vtable<ItemRef> &item_vtable()
{
    static const auto vt = bus::Vtable<ItemRef>(ti::spec).property(
        ti::property::Value, [](const ItemRef &i) { return int32_t(i.value); });
    return vt;
}

// A server on its own thread and a client, connected peer to peer.
struct Pair {
    BusPtr client;
    std::thread server;
    std::atomic<bool> ready{false};
    int server_fd = -1;
    sd_event *server_event = nullptr;
    Counter counter;
    std::vector<ItemRef> refs;

    Pair()
    {
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        server_fd = fds[0];
        server = std::thread([this] { run_server(); });
        while (!ready)
            std::this_thread::yield();
        sd_bus *c = nullptr;
        REQUIRE(sd_bus_new(&c) >= 0);
        client.reset(c);
        REQUIRE(sd_bus_set_fd(c, fds[1], fds[1]) >= 0);
        REQUIRE(sd_bus_start(c) >= 0);
    }
    ~Pair()
    {
        client.reset();   // closing the client ends the server's connection and its loop
        server.join();
    }

    void run_server()
    {
        sd_event *e = nullptr;
        sd_event_new(&e);
        EventPtr event(e);
        server_event = e;
        sd_bus *b = nullptr;
        sd_bus_new(&b);
        BusPtr bus(b);
        sd_id128_t id;
        sd_id128_randomize(&id);
        sd_bus_set_fd(b, server_fd, server_fd);
        sd_bus_set_server(b, 1, id);
        sd_bus_set_anonymous(b, 1);
        sd_bus_start(b);
        sd_bus_attach_event(b, e, 0);
        {
            bus::Service service(b, e);
            counter.service = &service;
            auto reg = service.add(path, counter_vtable(), counter);
            auto tree = service.add_subtree<ItemRef>(
                "/org/alopex/Test1/item", item_vtable(),
                [this](std::string_view p) -> ItemRef * {
                    for (auto &[k, v] : counter.values)
                        if (p == fmt::format("/org/alopex/Test1/item/{}", k)) {
                            refs.push_back(ItemRef{v});
                            return &refs.back();
                        }
                    return nullptr;
                },
                [this] {
                    std::vector<std::string> out;
                    for (auto &[k, v] : counter.values)
                        out.push_back(fmt::format("/org/alopex/Test1/item/{}", k));
                    return out;
                });
            refs.reserve(1000);
            if (!reg || !tree)
                FAIL("registration failed");
            ready = true;
            // Runs until the client goes away.
            sd_bus_set_exit_on_disconnect(b, 1);
            sd_event_loop(e);
            counter.kept.clear();
        }
        sd_bus_flush_close_unref(bus.release());
    }

    // Calls a method; returns the error name ("" on success) and keeps the reply.
    std::string call(const char *member, MessagePtr *reply, const char *sig = nullptr, ...)
    {
        sd_bus_message *m = nullptr;
        REQUIRE(sd_bus_message_new_method_call(client.get(), &m, nullptr, path, tc::interface, member) >= 0);
        MessagePtr msg(m);
        if (sig) {
            va_list ap;
            va_start(ap, sig);
            REQUIRE(sd_bus_message_appendv(m, sig, ap) >= 0);
            va_end(ap);
        }
        BusError err;
        sd_bus_message *r = nullptr;
        int rc = sd_bus_call(client.get(), m, 5'000'000, &err, &r);
        if (reply)
            reply->reset(r);
        else
            sd_bus_message_unref(r);
        if (rc < 0) {
            last_message = err.message();
            return err.name();
        }
        return "";
    }
    std::string last_message;
};

} // namespace

TEST_CASE("a Vtable must bind every method and property of its XML with the XML's types")
{
    bus::Vtable<Counter> partial(tc::spec);
    partial.method(tc::method::Echo, &Counter::echo);
    auto r = partial.check();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("Refuse: in the XML, not bound") != std::string::npos);
    CHECK(r.error().message.find("Count: in the XML, not bound") != std::string::npos);

    bus::Vtable<Counter> wrong(tc::spec);
    wrong.method(tc::method::Refuse, [](Counter &, bus::Call &, int32_t) {});
    wrong.property(tc::property::Count, [](const Counter &) { return std::string(); });
    wrong.property(ti::property::Value, [](const Counter &) { return int32_t(0); });
    auto w = wrong.check();
    REQUIRE_FALSE(w);
    CHECK(w.error().message.find("Refuse: the handler takes 'i', the XML says 's'") != std::string::npos);
    CHECK(w.error().message.find("Count: the getter returns 's', the XML says 'u'") != std::string::npos);
    CHECK(w.error().message.find("Value: bound, but not in the XML") != std::string::npos);

    REQUIRE(counter_vtable().check());
    REQUIRE(item_vtable().check());
}

TEST_CASE("methods: typed arguments, replies, errors naming the argument, deferred answers")
{
    Pair p;
    MessagePtr reply;
    REQUIRE(p.call("Echo", &reply, "si", "hi", int32_t{41}) == "");
    const char *s = nullptr;
    int32_t n = 0;
    REQUIRE(sd_bus_message_read(reply.get(), "si", &s, &n) > 0);
    CHECK(std::string(s) == "hi!");
    CHECK(n == 42);

    CHECK(p.call("Refuse", nullptr, "s", "x") == bus_error::InvalidArgument);
    CHECK(p.last_message == "thing: 'x' is not acceptable");

    // sd-bus itself refuses a call whose signature is not the method's.
    CHECK(p.call("Echo", nullptr, "s", "only one") == SD_BUS_ERROR_INVALID_ARGS);

    REQUIRE(p.call("Later", &reply, "u", uint32_t{20}) == "");
    REQUIRE(sd_bus_message_read(reply.get(), "s", &s) > 0);
    CHECK(std::string(s) == "done");

    CHECK(p.call("Forget", nullptr) == bus_error::Internal);
    CHECK(p.last_message.find("gave no answer") != std::string::npos);
    CHECK(p.call("Drop", nullptr) == bus_error::Internal);
    CHECK(p.last_message.find("dropped") != std::string::npos);
    CHECK(p.call("WrongReply", nullptr) == bus_error::Internal);
    CHECK(p.last_message.find("'s' is not the declared 'u'") != std::string::npos);

    // A peer-to-peer caller has no bus name: polkit cannot be asked, so: not authorized.
    CHECK(p.call("Guarded", nullptr) == bus_error::NotAuthorized);
}

TEST_CASE("a{sv} options: typed access, errors naming the key, unknown keys refused")
{
    Pair p;
    MessagePtr reply;
    const char *s = nullptr;
    REQUIRE(p.call("Configure", &reply, "a{sv}", 3, "mtu", "u", uint32_t{1400}, "name", "s", "x", "on", "b", 1) == "");
    REQUIRE(sd_bus_message_read(reply.get(), "s", &s) > 0);
    CHECK(std::string(s) == "mtu=1400 name=x on=true");

    CHECK(p.call("Configure", nullptr, "a{sv}", 1, "mtu", "s", "big") == bus_error::InvalidArgument);
    CHECK(p.last_message == "options.mtu: must be an integer from 68 to 65535");
    CHECK(p.call("Configure", nullptr, "a{sv}", 1, "mtu", "t", uint64_t{1} << 63) == bus_error::InvalidArgument);
    CHECK(p.last_message == "options.mtu: is out of range");
    CHECK(p.call("Configure", nullptr, "a{sv}", 1, "mtu", "d", 1.5) == bus_error::InvalidArgument);
    CHECK(p.last_message == "options.mtu: must hold a boolean, an integer or a string");
    CHECK(p.call("Configure", nullptr, "a{sv}", 1, "colour", "s", "red") == bus_error::InvalidArgument);
    CHECK(p.last_message == "options.colour: unknown option");
    CHECK(p.call("Configure", nullptr, "a{sv}", 2, "on", "b", 1, "on", "b", 0) == bus_error::InvalidArgument);
    CHECK(p.last_message == "options.on: given twice");
}

TEST_CASE("properties: Get, GetAll without explicit ones, coalesced PropertiesChanged")
{
    Pair p;
    BusError err;
    uint32_t count = 99;
    REQUIRE(sd_bus_get_property_trivial(p.client.get(), nullptr, path, tc::interface, "Count", &err, 'u', &count) >= 0);
    CHECK(count == 0);

    sd_bus_message *raw = nullptr;
    REQUIRE(sd_bus_call_method(p.client.get(), nullptr, path, "org.freedesktop.DBus.Properties", "GetAll", &err,
                               &raw, "s", tc::interface) >= 0);
    MessagePtr all(raw);
    std::vector<std::string> names;
    REQUIRE(sd_bus_message_enter_container(raw, 'a', "{sv}") > 0);
    while (sd_bus_message_enter_container(raw, 'e', "sv") > 0) {
        const char *k = nullptr;
        REQUIRE(sd_bus_message_read(raw, "s", &k) > 0);
        names.emplace_back(k);
        REQUIRE(sd_bus_message_skip(raw, "v") >= 0);
        REQUIRE(sd_bus_message_exit_container(raw) >= 0);
    }
    CHECK(names == std::vector<std::string>{"Count", "Name", "Items"});

    raw = nullptr;
    REQUIRE(sd_bus_get_property(p.client.get(), nullptr, path, tc::interface, "Items", &err, &raw, "a(su)") >= 0);
    MessagePtr items(raw);
    std::vector<Entry> got;
    REQUIRE(bus::read_value(raw, got, "Items"));
    REQUIRE(got.size() == 2);
    CHECK(got[1].name == "b");
    CHECK(got[1].value == 2);

    raw = nullptr;
    REQUIRE(sd_bus_get_property(p.client.get(), nullptr, path, tc::interface, "Stats", &err, &raw, "a{st}") >= 0);
    MessagePtr stats(raw);
    std::map<std::string, uint64_t> st;
    REQUIRE(bus::read_value(raw, st, "Stats"));
    CHECK(st.at("calls") == 7);

    // Bump marks Count twice, Items once and the const Name: one signal, Count and Items.
    REQUIRE(sd_bus_add_match(p.client.get(), nullptr,
                             "type='signal',interface='org.freedesktop.DBus.Properties'", nullptr, nullptr) >= 0);
    REQUIRE(p.call("Bump", nullptr) == "");
    std::vector<std::string> changed;
    int signals = 0;
    for (int i = 0; i < 50 && signals == 0; ++i) {
        sd_bus_message *m = nullptr;
        int r = sd_bus_process(p.client.get(), &m);
        MessagePtr msg(m);
        if (r == 0)
            sd_bus_wait(p.client.get(), 100'000);
        if (m && sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged")) {
            ++signals;
            const char *iface = nullptr;
            REQUIRE(sd_bus_message_read(m, "s", &iface) > 0);
            CHECK(std::string(iface) == tc::interface);
            REQUIRE(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
            while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                const char *k = nullptr;
                REQUIRE(sd_bus_message_read(m, "s", &k) > 0);
                changed.emplace_back(k);
                REQUIRE(sd_bus_message_skip(m, "v") >= 0);
                REQUIRE(sd_bus_message_exit_container(m) >= 0);
            }
        }
    }
    CHECK(signals == 1);
    CHECK(changed == std::vector<std::string>{"Count", "Items"});
}

TEST_CASE("subtree objects are found by path and enumerated")
{
    Pair p;
    BusError err;
    int32_t v = 0;
    REQUIRE(sd_bus_get_property_trivial(p.client.get(), nullptr, "/org/alopex/Test1/item/4", ti::interface,
                                        "Value", &err, 'i', &v) >= 0);
    CHECK(v == 40);
    BusError err2;
    CHECK(sd_bus_get_property_trivial(p.client.get(), nullptr, "/org/alopex/Test1/item/9", ti::interface,
                                      "Value", &err2, 'i', &v) < 0);
    CHECK(std::string(err2.name()) == SD_BUS_ERROR_UNKNOWN_OBJECT);

    sd_bus_message *raw = nullptr;
    REQUIRE(sd_bus_call_method(p.client.get(), nullptr, "/org/alopex/Test1/item",
                               "org.freedesktop.DBus.Introspectable", "Introspect", &err, &raw, "") >= 0);
    MessagePtr intro(raw);
    const char *xml = nullptr;
    REQUIRE(sd_bus_message_read(raw, "s", &xml) > 0);
    CHECK(std::string(xml).find("<node name=\"3\"/>") != std::string::npos);
    CHECK(std::string(xml).find("<node name=\"4\"/>") != std::string::npos);
}

TEST_CASE("introspection carries the XML's argument names and property flags")
{
    Pair p;
    BusError err;
    sd_bus_message *raw = nullptr;
    REQUIRE(sd_bus_call_method(p.client.get(), nullptr, path, "org.freedesktop.DBus.Introspectable", "Introspect",
                               &err, &raw, "") >= 0);
    MessagePtr intro(raw);
    const char *xml = nullptr;
    REQUIRE(sd_bus_message_read(raw, "s", &xml) > 0);
    std::string x = xml;
    CHECK(x.find("<arg type=\"u\" name=\"msec\" direction=\"in\"/>") != std::string::npos);
    CHECK(x.find("<arg type=\"s\" name=\"who\"/>") != std::string::npos);
    CHECK(x.find("org.freedesktop.systemd1.Explicit") != std::string::npos);
}
