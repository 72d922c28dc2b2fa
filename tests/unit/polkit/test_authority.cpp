// SPDX-License-Identifier: GPL-2.0-or-later
// polkit::Authority end to end over a direct sd-bus connection (a socketpair, no bus
// daemon): one end is the daemon (a method guarded by Authority::check), the other plays
// both the caller and polkit, whose CheckAuthorization answers per action. Both ends are
// driven from this thread, so every re-dispatch happens as it does in a daemon.
#include <sys/socket.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "alopex/polkit.hpp"
#include "alopex/sd.hpp"

using namespace alopex;

namespace {

constexpr const char *link_action = "org.alopex.link.configure";
constexpr const char *fw_action = "org.alopex.firewall.configure";

struct Daemon {
    polkit::Authority *authority = nullptr;
    std::vector<const char *> actions;   // what the guarded method needs
    bool separate = false;               // one check() per action instead of one for all
    unsigned runs = 0, acted = 0;
};

int guarded(sd_bus_message *m, void *userdata, sd_bus_error *ret)
{
    auto *d = static_cast<Daemon *>(userdata);
    ++d->runs;
    int r = 1;
    if (d->separate) {
        for (const char *a : d->actions)
            if ((r = d->authority->check(m, a, ret)) <= 0)
                break;
    } else if (d->actions.size() == 1) {
        r = d->authority->check(m, d->actions[0], ret);
    } else {
        r = d->authority->check(m, {d->actions[0], d->actions[1]}, ret);
    }
    if (r < 0)
        return r;
    if (r == 0)
        return 1;   // polkit asked: called again with the same message
    ++d->acted;
    return sd_bus_reply_method_return(m, "s", "done");
}

const sd_bus_vtable daemon_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Guarded", "", "s", guarded, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

struct FakePolkit {
    std::map<std::string, bool> grants;        // action -> authorized (absent: denied)
    bool hold = false;                         // keep the questions unanswered
    std::vector<MessagePtr> held;
    std::vector<std::string> asked;            // actions, in the order asked
    std::vector<std::string> subjects;
};

int check_authorization(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *p = static_cast<FakePolkit *>(userdata);
    const char *kind = nullptr, *key = nullptr, *name = nullptr, *action = nullptr;
    int r = sd_bus_message_enter_container(m, 'r', "sa{sv}");
    if (r >= 0)
        r = sd_bus_message_read(m, "s", &kind);
    if (r >= 0)
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r >= 0)
        r = sd_bus_message_read(m, "{sv}", &key, "s", &name);
    if (r >= 0)
        r = sd_bus_message_exit_container(m);
    if (r >= 0)
        r = sd_bus_message_exit_container(m);
    if (r >= 0)
        r = sd_bus_message_read(m, "s", &action);
    if (r < 0)
        return r;
    p->asked.emplace_back(action);
    p->subjects.emplace_back(name);
    if (p->hold) {
        p->held.push_back(ref(m));
        return 1;
    }
    auto it = p->grants.find(action);
    bool yes = it != p->grants.end() && it->second;
    return sd_bus_reply_method_return(m, "(bba{ss})", yes, 0, 0);
}

const sd_bus_vtable polkit_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})", check_authorization, 0),
    SD_BUS_VTABLE_END,
};

struct World {
    BusPtr daemon_bus, peer_bus;
    Daemon daemon;
    FakePolkit polkit;
    std::unique_ptr<polkit::Authority> authority;

    explicit World(polkit::Limits limits = {})
    {
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        sd_bus *d = nullptr, *p = nullptr;
        REQUIRE(sd_bus_new(&d) >= 0);
        daemon_bus.reset(d);
        REQUIRE(sd_bus_new(&p) >= 0);
        peer_bus.reset(p);
        sd_id128_t id{};
        REQUIRE(sd_id128_randomize(&id) >= 0);
        REQUIRE(sd_bus_set_fd(d, fds[0], fds[0]) >= 0);
        REQUIRE(sd_bus_set_server(d, 1, id) >= 0);
        REQUIRE(sd_bus_add_object_vtable(d, nullptr, "/t", "org.alopex.Test", daemon_vtable, &daemon) >= 0);
        REQUIRE(sd_bus_start(d) >= 0);
        REQUIRE(sd_bus_set_fd(p, fds[1], fds[1]) >= 0);
        REQUIRE(sd_bus_add_object_vtable(p, nullptr, polkit::object, polkit::interface, polkit_vtable, &polkit) >= 0);
        REQUIRE(sd_bus_start(p) >= 0);
        authority = std::make_unique<polkit::Authority>(d, limits);
        daemon.authority = authority.get();
    }
    ~World()
    {
        authority.reset();
        sd_bus_close(peer_bus.get());
        sd_bus_close(daemon_bus.get());
    }

    // Calls Guarded from `sender` and drives both ends until the reply; returns "done" or
    // the error's "name: message".
    std::string call(const char *sender = ":1.42") { return finish(start(sender)); }

    struct Out {
        bool done = false;
        std::string text;
        SlotPtr slot;
    };
    std::unique_ptr<Out> start(const char *sender)
    {
        sd_bus_message *raw = nullptr;
        REQUIRE(sd_bus_message_new_method_call(peer_bus.get(), &raw, nullptr, "/t", "org.alopex.Test",
                                               "Guarded") >= 0);
        MessagePtr m(raw);
        REQUIRE(sd_bus_message_set_sender(m.get(), sender) >= 0);
        auto out = std::make_unique<Out>();
        auto on_reply = [](sd_bus_message *reply, void *userdata, sd_bus_error *) -> int {
            auto *o = static_cast<Out *>(userdata);
            o->done = true;
            if (const sd_bus_error *e = sd_bus_message_get_error(reply)) {
                o->text = std::string(e->name) + ": " + (e->message ? e->message : "");
            } else {
                const char *s = nullptr;
                o->text = sd_bus_message_read(reply, "s", &s) > 0 ? s : "unreadable reply";
            }
            return 0;
        };
        sd_bus_slot *slot = nullptr;
        REQUIRE(sd_bus_call_async(peer_bus.get(), &slot, m.get(), on_reply, out.get(), 5'000'000) >= 0);
        out->slot.reset(slot);
        pump(std::chrono::milliseconds(50));
        return out;
    }
    void pump(std::chrono::milliseconds d)
    {
        auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until) {
            int a = sd_bus_process(daemon_bus.get(), nullptr);
            int b = sd_bus_process(peer_bus.get(), nullptr);
            REQUIRE(a >= 0);
            REQUIRE(b >= 0);
            if (a == 0 && b == 0)
                sd_bus_wait(daemon_bus.get(), 5'000);
        }
    }
    std::string finish(std::unique_ptr<Out> o)
    {
        Out &out = *o;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!out.done && std::chrono::steady_clock::now() < deadline) {
            int a = sd_bus_process(daemon_bus.get(), nullptr);
            int b = sd_bus_process(peer_bus.get(), nullptr);
            REQUIRE(a >= 0);
            REQUIRE(b >= 0);
            if (a == 0 && b == 0)
                sd_bus_wait(daemon_bus.get(), 10'000);
        }
        REQUIRE(out.done);
        return out.text;
    }
};

} // namespace

TEST_CASE("Authority: one action, granted and refused")
{
    World w;
    w.daemon.actions = {link_action};
    w.polkit.grants[link_action] = true;
    CHECK(w.call() == "done");
    CHECK(w.daemon.runs == 2);   // asked, then re-dispatched with the verdict
    CHECK(w.polkit.subjects == std::vector<std::string>{":1.42"});
    CHECK(w.authority->pending() == 0);

    w.polkit.grants[link_action] = false;
    std::string out = w.call();
    CHECK(out.find(bus_error::NotAuthorized) == 0);
    CHECK(out.find(link_action) != std::string::npos);
    CHECK(w.daemon.acted == 1);
    CHECK(w.authority->pending() == 0);
}

TEST_CASE("Authority: two actions on one message, both asked in order, both granted")
{
    World w;
    w.daemon.actions = {link_action, fw_action};
    w.polkit.grants = {{link_action, true}, {fw_action, true}};
    CHECK(w.call() == "done");
    CHECK(w.polkit.asked == std::vector<std::string>{link_action, fw_action});
    CHECK(w.daemon.runs == 3);
    CHECK(w.daemon.acted == 1);
    CHECK(w.authority->pending() == 0);
}

TEST_CASE("Authority: two actions, the second refused: NotAuthorized naming it, nothing done")
{
    World w;
    w.daemon.actions = {link_action, fw_action};
    w.polkit.grants = {{link_action, true}};
    std::string out = w.call();
    CHECK(out == std::string(bus_error::NotAuthorized) + ": not authorized for " + fw_action);
    CHECK(w.polkit.asked == std::vector<std::string>{link_action, fw_action});
    CHECK(w.daemon.acted == 0);
    CHECK(w.authority->pending() == 0);
}

TEST_CASE("Authority: two actions, the first refused: the second is never asked")
{
    World w;
    w.daemon.actions = {link_action, fw_action};
    w.polkit.grants = {{fw_action, true}};
    std::string out = w.call();
    CHECK(out.find(bus_error::NotAuthorized) == 0);
    CHECK(out.find(link_action) != std::string::npos);
    CHECK(w.polkit.asked == std::vector<std::string>{link_action});
    CHECK(w.daemon.acted == 0);
    CHECK(w.authority->pending() == 0);
}

TEST_CASE("Authority: one check() per action on one message works the same, never loops")
{
    World w;
    w.daemon.actions = {link_action, fw_action};
    w.daemon.separate = true;
    w.polkit.grants = {{link_action, true}, {fw_action, true}};
    std::string out = w.call();
    CHECK(out == "done");
    CHECK(w.daemon.acted == 1);
    CHECK(w.polkit.asked == std::vector<std::string>{link_action, fw_action});
    CHECK(w.authority->pending() == 0);
}

TEST_CASE("Authority: checks waiting for polkit are capped per caller and in total")
{
    World w(polkit::Limits{2, 3});
    w.daemon.actions = {link_action};
    w.polkit.grants = {{link_action, true}};
    w.polkit.hold = true;
    auto a1 = w.start(":1.42");
    auto a2 = w.start(":1.42");
    auto a3 = w.start(":1.42");   // a third from the same caller
    CHECK(w.authority->pending() == 2);
    std::string busy = w.finish(std::move(a3));
    CHECK(busy.find(bus_error::Busy) == 0);
    auto b1 = w.start(":1.43");
    auto c1 = w.start(":1.44");   // everyone: three waiting already
    CHECK(w.finish(std::move(c1)).find(bus_error::Busy) == 0);
    CHECK(w.authority->pending() == 3);
    CHECK(w.polkit.asked.size() == 3);   // the refused ones never reached polkit

    // polkit answers: the waiting calls go on, and new ones are taken again.
    w.polkit.hold = false;
    for (auto &m : w.polkit.held)
        REQUIRE(sd_bus_reply_method_return(m.get(), "(bba{ss})", 1, 0, 0) >= 0);
    w.polkit.held.clear();
    CHECK(w.finish(std::move(a1)) == "done");
    CHECK(w.finish(std::move(a2)) == "done");
    CHECK(w.finish(std::move(b1)) == "done");
    CHECK(w.authority->pending() == 0);
    CHECK(w.call(":1.42") == "done");
}
