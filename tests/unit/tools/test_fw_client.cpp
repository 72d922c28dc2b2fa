// SPDX-License-Identifier: GPL-2.0-or-later
// The org.alopex.Firewall1 client: reply parsing from messages built offline, and every
// call against a fake fwd served over a socketpair (a direct sd-bus connection, no bus
// daemon), so the exact arguments on the wire are checked.
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "alopex/fd.hpp"
#include "alopex/ipc/firewall1.hpp"
#include "alopex/sd.hpp"
#include "firewall1_client.hpp"
#include "offline_bus.hpp"
#include "fw_cmd.hpp"

namespace fw1 = alopex::ipc::firewall1;
using alopex::BusPtr;
using alopex::MessagePtr;

namespace {

constexpr uint64_t inf = std::numeric_limits<uint64_t>::max();

using alopex::test::OfflineBus;
using alopex::test::seal;
using alopex::test::append_property;

// ---- the fake fwd ---------------------------------------------------------------------

struct Fake {
    std::string spec, comment, iface, zone;
    uint32_t expires_s = 0;
    uint64_t removed = 0;
    int panic = -1;
};

int add_rule(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *f = static_cast<Fake *>(userdata);
    const char *spec = nullptr, *comment = nullptr;
    int r = sd_bus_message_read(m, "sus", &spec, &f->expires_s, &comment);
    if (r < 0)
        return r;
    f->spec = spec;
    f->comment = comment;
    return sd_bus_reply_method_return(m, "t", uint64_t{17});
}

int remove_rule(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
    auto *f = static_cast<Fake *>(userdata);
    uint64_t id = 0;
    int r = sd_bus_message_read(m, "t", &id);
    if (r < 0)
        return r;
    if (id != 17)
        return sd_bus_error_setf(e, alopex::bus_error::NoSuchId, "no runtime rule %llu",
                                 static_cast<unsigned long long>(id));
    f->removed = id;
    return sd_bus_reply_method_return(m, "");
}

int list_runtime(sd_bus_message *m, void *, sd_bus_error *)
{
    return sd_bus_reply_method_return(m, "a(tsssts)", 2, uint64_t{17}, "wan", "zone=wan proto=tcp dport=80 action=accept",
                                      "goal-456", uint64_t{1700000000000000}, "element", uint64_t{18}, "lan",
                                      "zone=lan proto=tcp dport=8080 to=10.1.0.5:80", "", uint64_t{0}, "rule");
}

int set_zone(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *f = static_cast<Fake *>(userdata);
    const char *i = nullptr, *z = nullptr;
    int r = sd_bus_message_read(m, "ss", &i, &z);
    if (r < 0)
        return r;
    f->iface = i;
    f->zone = z;
    return sd_bus_reply_method_return(m, "");
}

int panic(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    int on = 0;
    int r = sd_bus_message_read(m, "b", &on);
    if (r < 0)
        return r;
    static_cast<Fake *>(userdata)->panic = on;
    return sd_bus_reply_method_return(m, "");
}

int reload(sd_bus_message *, void *, sd_bus_error *e)
{
    return sd_bus_error_set(e, fw1::error::KernelRefused, "rule wan/3: Operation not supported");
}

int counters(sd_bus_message *m, void *, sd_bus_error *)
{
    return sd_bus_reply_method_return(m, "a(ssttt)", 2, "zone", "wan", uint64_t{1200}, uint64_t{345678}, uint64_t{17},
                                      "runtime", "17", uint64_t{5}, uint64_t{300}, uint64_t{0});
}

int version(sd_bus_message *m, void *, sd_bus_error *) { return sd_bus_reply_method_return(m, "s", "0.test"); }

int get_property(sd_bus *, const char *, const char *, const char *property, sd_bus_message *reply, void *,
                 sd_bus_error *)
{
    std::string_view p = property;
    if (p == "Zones")
        return sd_bus_message_append(reply, "a(sassssb)", 2, "wan", 2, "eth0", "wwan*", "drop", "drop", "accept", 1,
                                     "lan", 0, "accept", "accept", "accept", 0);
    if (p == "Rules")
        return sd_bus_message_append(reply, "a(sss)", 1, "wan", "zone=wan proto=tcp dport=22 action=accept", "ssh");
    if (p == "Interfaces")
        return sd_bus_message_append(reply, "a{ss}", 2, "eth0", "wan", "br0", "lan");
    if (p == "ZoneAddresses")
        return sd_bus_message_append(reply, "a{sas}", 2, "wan", 2, "192.0.2.10", "2001:db8::10", "lan", 0);
    if (p == "Panic")
        return sd_bus_message_append(reply, "b", 1);
    if (p == "DefaultZone")
        return sd_bus_message_append(reply, "s", "wan");
    if (p == "Generation")
        return sd_bus_message_append(reply, "t", uint64_t{42});
    if (p == "LatencyHistogram")
        return sd_bus_message_append(reply, "a(tt)", 2, uint64_t{100}, uint64_t{3}, inf, uint64_t{1});
    if (p == "LastError")
        return sd_bus_message_append(reply, "s", "");
    return -ENOENT;
}

const sd_bus_vtable vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Version", "", "s", version, 0),
    SD_BUS_METHOD("AddRule", "sus", "t", add_rule, 0),
    SD_BUS_METHOD("RemoveRule", "t", "", remove_rule, 0),
    SD_BUS_METHOD("ListRuntimeRules", "", "a(tsssts)", list_runtime, 0),
    SD_BUS_METHOD("SetInterfaceZone", "ss", "", set_zone, 0),
    SD_BUS_METHOD("Panic", "b", "", panic, 0),
    SD_BUS_METHOD("Reload", "", "", reload, 0),
    SD_BUS_METHOD("GetCounters", "", "a(ssttt)", counters, 0),
    SD_BUS_PROPERTY("Zones", "a(sassssb)", get_property, 0, 0),
    SD_BUS_PROPERTY("Rules", "a(sss)", get_property, 0, 0),
    SD_BUS_PROPERTY("Interfaces", "a{ss}", get_property, 0, 0),
    SD_BUS_PROPERTY("ZoneAddresses", "a{sas}", get_property, 0, 0),
    SD_BUS_PROPERTY("Panic", "b", get_property, 0, 0),
    SD_BUS_PROPERTY("DefaultZone", "s", get_property, 0, 0),
    SD_BUS_PROPERTY("Generation", "t", get_property, 0, 0),
    SD_BUS_PROPERTY("LatencyHistogram", "a(tt)", get_property, 0, 0),
    SD_BUS_PROPERTY("LastError", "s", get_property, 0, 0),
    SD_BUS_VTABLE_END,
};

// The fake fwd on one end of a socketpair, served by its own thread; the client end.
struct Peer {
    Fake fake;
    BusPtr server, client;
    std::atomic<bool> stop{false};
    std::thread thread;

    Peer()
    {
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        sd_bus *s = nullptr, *c = nullptr;
        REQUIRE(sd_bus_new(&s) >= 0);
        server.reset(s);
        REQUIRE(sd_bus_new(&c) >= 0);
        client.reset(c);
        sd_id128_t id{};
        REQUIRE(sd_id128_randomize(&id) >= 0);
        REQUIRE(sd_bus_set_fd(s, fds[0], fds[0]) >= 0);
        REQUIRE(sd_bus_set_server(s, 1, id) >= 0);
        REQUIRE(sd_bus_add_object_vtable(s, nullptr, fw1::path, fw1::interface, vtable, &fake) >= 0);
        REQUIRE(sd_bus_start(s) >= 0);
        REQUIRE(sd_bus_set_fd(c, fds[1], fds[1]) >= 0);
        REQUIRE(sd_bus_start(c) >= 0);
        REQUIRE(sd_bus_set_method_call_timeout(c, 10 * 1000 * 1000) >= 0);
        thread = std::thread([this] {
            while (!stop) {
                int r = sd_bus_process(server.get(), nullptr);
                if (r < 0)
                    break;
                if (r == 0)
                    sd_bus_wait(server.get(), 20 * 1000);   // wakes on input; re-checks `stop`
            }
        });
    }
    ~Peer()
    {
        stop = true;
        thread.join();
    }
};

} // namespace

TEST_CASE("fw client: GetAll properties parse, unknown ones are skipped")
{
    OfflineBus b;
    auto m = b.message();
    REQUIRE(sd_bus_message_open_container(m.get(), 'a', "{sv}") >= 0);
    append_property(m.get(), "Zones", "a(sassssb)", 1, "wan", 2, "eth0", "wwan*", "drop", "reject", "accept", 1);
    append_property(m.get(), "Rules", "a(sss)", 1, "wan", "zone=wan proto=tcp dport=22 action=accept", "ssh");
    append_property(m.get(), "Future", "u", 5);
    append_property(m.get(), "Interfaces", "a{ss}", 1, "eth0", "wan");
    append_property(m.get(), "ZoneAddresses", "a{sas}", 1, "wan", 1, "192.0.2.10");
    append_property(m.get(), "Panic", "b", 1);
    append_property(m.get(), "DefaultZone", "s", "wan");
    append_property(m.get(), "Generation", "t", uint64_t{42});
    append_property(m.get(), "LatencyHistogram", "a(tt)", 2, uint64_t{100}, uint64_t{3}, inf, uint64_t{1});
    append_property(m.get(), "LastError", "s", "oops");
    append_property(m.get(), "Later", "as", 0);
    REQUIRE(sd_bus_message_close_container(m.get()) >= 0);
    seal(m.get());
    auto s = fw1::parse_properties(m.get());
    INFO((s ? std::string() : s.error().message));
    REQUIRE(s);
    REQUIRE(s->zones.size() == 1);
    CHECK(s->zones[0].name == "wan");
    CHECK(s->zones[0].interfaces == std::vector<std::string>{"eth0", "wwan*"});
    CHECK(s->zones[0].input == "drop");
    CHECK(s->zones[0].forward == "reject");
    CHECK(s->zones[0].output == "accept");
    CHECK(s->zones[0].masquerade);
    REQUIRE(s->rules.size() == 1);
    CHECK(s->rules[0].comment == "ssh");
    CHECK(s->interfaces == std::map<std::string, std::string>{{"eth0", "wan"}});
    CHECK(s->zone_addresses.at("wan") == std::vector<std::string>{"192.0.2.10"});
    CHECK(s->panic);
    CHECK(s->default_zone == "wan");
    CHECK(s->generation == 42);
    REQUIRE(s->latency.size() == 2);
    CHECK(s->latency[1].upper_us == inf);
    CHECK(s->latency[1].count == 1);
    CHECK(s->last_error == "oops");
}

TEST_CASE("fw client: a known property of the wrong type is an error")
{
    OfflineBus b;
    auto m = b.message();
    REQUIRE(sd_bus_message_open_container(m.get(), 'a', "{sv}") >= 0);
    append_property(m.get(), "Generation", "u", 42);
    REQUIRE(sd_bus_message_close_container(m.get()) >= 0);
    seal(m.get());
    auto s = fw1::parse_properties(m.get());
    REQUIRE_FALSE(s);
    CHECK_THAT(s.error().message, Catch::Contains("Generation"));

    // The two-policy Zones of the first drafts, a(sasssb), is no longer read.
    auto old = b.message();
    REQUIRE(sd_bus_message_open_container(old.get(), 'a', "{sv}") >= 0);
    append_property(old.get(), "Zones", "a(sasssb)", 1, "wan", 1, "eth0", "drop", "reject", 1);
    REQUIRE(sd_bus_message_close_container(old.get()) >= 0);
    seal(old.get());
    auto z = fw1::parse_properties(old.get());
    REQUIRE_FALSE(z);
    CHECK_THAT(z.error().message, Catch::Contains("Zones"));

    // A reply of another signature than the XML's is refused, naming the method.
    auto wrong = b.message();
    REQUIRE(sd_bus_message_append(wrong.get(), "a(ssttt)", 1, "zone", "wan", uint64_t{1}, uint64_t{2}, uint64_t{3}) >= 0);
    seal(wrong.get());
    std::vector<fw1::RuntimeRuleInfo> rules;
    CHECK_FALSE(alopex::bus::read_value(wrong.get(), rules, "ListRuntimeRules"));
}

TEST_CASE("fw client: every call against a fake fwd")
{
    Peer p;
    sd_bus *c = p.client.get();

    CHECK(*fw1::version(c) == "0.test");

    auto id = fw1::add_rule(c, "zone=wan proto=tcp dport=80 action=accept", 3600, "goal-456");
    REQUIRE(id);
    CHECK(*id == 17);
    CHECK(p.fake.spec == "zone=wan proto=tcp dport=80 action=accept");
    CHECK(p.fake.expires_s == 3600);
    CHECK(p.fake.comment == "goal-456");

    auto missing = fw1::remove_rule(c, 5);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().bus_name == "org.alopex.Error.NoSuchId");
    CHECK(missing.error().message == "no runtime rule 5");
    REQUIRE(fw1::remove_rule(c, 17));
    CHECK(p.fake.removed == 17);

    auto rt = fw1::list_runtime_rules(c);
    REQUIRE(rt);
    REQUIRE(rt->size() == 2);
    CHECK((*rt)[0].id == 17);
    CHECK((*rt)[0].zone == "wan");
    CHECK((*rt)[0].spec == "zone=wan proto=tcp dport=80 action=accept");
    CHECK((*rt)[0].comment == "goal-456");
    CHECK((*rt)[0].expires_us == 1700000000000000);
    CHECK((*rt)[0].where == "element");
    CHECK((*rt)[1].expires_us == 0);
    CHECK((*rt)[1].where == "rule");

    REQUIRE(fw1::set_interface_zone(c, "eth1", ""));
    CHECK(p.fake.iface == "eth1");
    CHECK(p.fake.zone == "");
    REQUIRE(fw1::set_panic(c, true));
    CHECK(p.fake.panic == 1);
    REQUIRE(fw1::set_panic(c, false));
    CHECK(p.fake.panic == 0);

    auto refused = fw1::reload(c);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().bus_name == "org.alopex.Error.KernelRefused");
    CHECK(refused.error().message == "rule wan/3: Operation not supported");

    auto cs = fw1::get_counters(c);
    REQUIRE(cs);
    REQUIRE(cs->size() == 2);
    CHECK((*cs)[0].kind == "zone");
    CHECK((*cs)[0].name == "wan");
    CHECK((*cs)[0].packets == 1200);
    CHECK((*cs)[0].bytes == 345678);
    CHECK((*cs)[0].drops == 17);

    auto st = fw1::read_state(c);
    REQUIRE(st);
    REQUIRE(st->zones.size() == 2);
    CHECK(st->zones[1].name == "lan");
    CHECK(st->zones[1].interfaces.empty());
    CHECK(st->interfaces.at("br0") == "lan");
    CHECK(st->zone_addresses.at("wan") == std::vector<std::string>{"192.0.2.10", "2001:db8::10"});
    CHECK(st->zone_addresses.at("lan").empty());
    CHECK(st->panic);
    CHECK(st->generation == 42);
    CHECK(st->latency.size() == 2);

    // The command runner's exit statuses: 0, or 3 with the named error printed.
    alopexctl::Context ctx(c);
    alopexctl::FwRequest rm;
    rm.op = alopexctl::FwRequest::Op::remove;
    rm.id = 17;
    CHECK(alopexctl::run_fw(ctx, rm) == 0);
    rm.id = 99;
    CHECK(alopexctl::run_fw(ctx, rm) == 3);
}

TEST_CASE("fw client: a daemon that is not there is an error, not a crash")
{
    OfflineBus b;   // nobody answers on the other end; the socket is closed
    b.peer = alopex::Fd();
    auto s = fw1::read_state(b.bus.get());
    REQUIRE_FALSE(s);
    CHECK_FALSE(s.error().message.empty());
}
