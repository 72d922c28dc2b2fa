// SPDX-License-Identifier: GPL-2.0-or-later
// The pure parts of the polkit client: request arguments and reply parsing, over
// hand-built (unconnected) sd-bus messages.
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "alopex/polkit.hpp"

#include <utility>

using namespace alopex;

namespace {
// sd-bus only builds messages on a started bus: start one over a socketpair whose other
// end nobody answers (the bus stays in its authentication phase; no daemon involved).
struct Msg {
    BusPtr bus;
    MessagePtr msg;
    int peer = -1;
    Msg()
    {
        int sv[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        peer = sv[1];
        sd_bus *b = nullptr;
        REQUIRE(sd_bus_new(&b) >= 0);
        bus.reset(b);
        REQUIRE(sd_bus_set_fd(b, sv[0], sv[0]) >= 0);
        REQUIRE(sd_bus_start(b) >= 0);
        sd_bus_message *m = nullptr;
        REQUIRE(sd_bus_message_new_signal(b, &m, "/t", "org.alopex.Test", "T") >= 0);
        msg.reset(m);
    }
    Msg(Msg &&o) noexcept
        : bus(std::move(o.bus)), msg(std::move(o.msg)), peer(std::exchange(o.peer, -1)) {}
    ~Msg()
    {
        msg.reset();
        if (bus)
            sd_bus_close(bus.get());   // else the deleter's flush waits for authentication
        bus.reset();
        if (peer >= 0)
            close(peer);
    }
    sd_bus_message *get() { return msg.get(); }
    void seal()
    {
        REQUIRE(sd_bus_message_seal(msg.get(), 1, 0) >= 0);
        REQUIRE(sd_bus_message_rewind(msg.get(), 1) >= 0);
    }
};

Msg reply(int authorized, int challenge, bool with_detail = false)
{
    Msg m;
    if (with_detail)
        REQUIRE(sd_bus_message_append(m.get(), "(bba{ss})", authorized, challenge, 1,
                                      "polkit.dismissed", "true") >= 0);
    else
        REQUIRE(sd_bus_message_append(m.get(), "(bba{ss})", authorized, challenge, 0) >= 0);
    m.seal();
    return m;
}
} // namespace

TEST_CASE("CheckAuthorization arguments name the sender as a system-bus-name subject")
{
    for (bool interactive : {false, true}) {
        Msg m;
        REQUIRE(polkit::append_check_args(m.get(), ":1.42", "org.alopex.link.configure",
                                          interactive) >= 0);
        m.seal();
        CHECK(std::string(sd_bus_message_get_signature(m.get(), 1)) == "(sa{sv})sa{ss}us");
        const char *kind = nullptr, *key = nullptr, *name = nullptr, *action = nullptr,
                   *cancel = nullptr;
        REQUIRE(sd_bus_message_enter_container(m.get(), 'r', "sa{sv}") > 0);
        REQUIRE(sd_bus_message_read(m.get(), "s", &kind) > 0);
        CHECK(std::string(kind) == "system-bus-name");
        REQUIRE(sd_bus_message_enter_container(m.get(), 'a', "{sv}") > 0);
        REQUIRE(sd_bus_message_read(m.get(), "{sv}", &key, "s", &name) > 0);
        CHECK(std::string(key) == "name");
        CHECK(std::string(name) == ":1.42");
        REQUIRE(sd_bus_message_exit_container(m.get()) >= 0);
        REQUIRE(sd_bus_message_exit_container(m.get()) >= 0);
        REQUIRE(sd_bus_message_read(m.get(), "s", &action) > 0);
        CHECK(std::string(action) == "org.alopex.link.configure");
        REQUIRE(sd_bus_message_skip(m.get(), "a{ss}") >= 0);
        uint32_t flags = 99;
        REQUIRE(sd_bus_message_read(m.get(), "us", &flags, &cancel) > 0);
        CHECK(flags == (interactive ? 1u : 0u));
        CHECK(std::string(cancel).empty());
    }
}

TEST_CASE("replies parse into verdicts")
{
    auto ok = reply(1, 0);
    auto r = polkit::parse_check_reply(ok.get());
    REQUIRE(r);
    CHECK(r->verdict() == polkit::Verdict::Authorized);

    auto ch = reply(0, 1, true);
    r = polkit::parse_check_reply(ch.get());
    REQUIRE(r);
    CHECK(r->verdict() == polkit::Verdict::Challenge);
    CHECK(r->details.at("polkit.dismissed") == "true");

    auto no = reply(0, 0);
    r = polkit::parse_check_reply(no.get());
    REQUIRE(r);
    CHECK(r->verdict() == polkit::Verdict::Denied);
}

TEST_CASE("a malformed reply is an error, not a verdict")
{
    Msg m;
    REQUIRE(sd_bus_message_append(m.get(), "(bs)", 1, "yes") >= 0);
    m.seal();
    CHECK_FALSE(polkit::parse_check_reply(m.get()));

    Msg empty;
    empty.seal();
    CHECK_FALSE(polkit::parse_check_reply(empty.get()));
}

TEST_CASE("verdicts map to NotAuthorized naming the action")
{
    BusError e1;
    CHECK(polkit::verdict_to_result(polkit::Verdict::Authorized, "a.b", &e1) == 1);
    CHECK_FALSE(e1.is_set());

    BusError e2;
    CHECK(polkit::verdict_to_result(polkit::Verdict::Denied, "org.alopex.link.configure",
                                    &e2) < 0);
    CHECK(std::string(e2.name()) == bus_error::NotAuthorized);
    CHECK(std::string(e2.message()).find("org.alopex.link.configure") != std::string::npos);

    BusError e3;
    CHECK(polkit::verdict_to_result(polkit::Verdict::Challenge, "org.alopex.checkpoint",
                                    &e3) < 0);
    CHECK(std::string(e3.name()) == bus_error::NotAuthorized);
    CHECK(std::string(e3.message()).find("interactive authentication required") !=
          std::string::npos);
}
