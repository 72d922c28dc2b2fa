// SPDX-License-Identifier: GPL-2.0-or-later
// Typed reads/appends round-trip through a real (unconnected) sd-bus message.
#include <new>
#include <stdexcept>

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include "alopex/bus.hpp"
#include "alopex/fd.hpp"

using namespace alopex;

TEST_CASE("typed append and read round-trip")
{
    // An unauthenticated bus over a socketpair is enough to build messages offline.
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    sd_bus *raw = nullptr;
    REQUIRE(sd_bus_new(&raw) >= 0);
    BusPtr b(raw);
    // Declared after the bus so it closes first: the bus' flush on unref then ends at
    // once instead of waiting for an authentication that never comes.
    Fd peer(fds[1]);
    REQUIRE(sd_bus_set_fd(raw, fds[0], fds[0]) >= 0);
    REQUIRE(sd_bus_start(raw) >= 0);
    sd_bus_message *m = nullptr;
    REQUIRE(sd_bus_message_new_signal(b.get(), &m, "/a", "org.alopex.Test", "S") >= 0);
    MessagePtr msg(m);
    std::vector<uint8_t> bytes{0, 1, 255};
    std::vector<std::string> strv{"a", "b"};
    REQUIRE(bus::append(m, std::string("hi"), uint32_t{7}, true, bytes, strv,
                        bus::ObjectPath{"/x/y"}) >= 0);
    REQUIRE(sd_bus_message_seal(m, 1, 0) >= 0);
    REQUIRE(sd_bus_message_rewind(m, 1) >= 0);
    auto r = bus::read<std::string, uint32_t, bool, std::vector<uint8_t>,
                       std::vector<std::string>, bus::ObjectPath>(m);
    REQUIRE(r);
    auto &[s, u, flag, by, sv, op] = *r;
    CHECK(s == "hi");
    CHECK(u == 7);
    CHECK(flag);
    CHECK(by == bytes);
    CHECK(sv == strv);
    CHECK(op.value == "/x/y");
    // Reading past the end or the wrong type is an error, not garbage.
    auto again = bus::read<std::string>(m);
    CHECK_FALSE(again);
}

namespace {
struct Thrower {
    int calls = 0;
    int boom(sd_bus_message *, sd_bus_error *)
    {
        ++calls;
        throw std::runtime_error("kaboom");
    }
    int fine(sd_bus_message *, sd_bus_error *) { return ++calls; }
    int get(sd_bus_message *, sd_bus_error *) { throw std::bad_alloc(); }
};
} // namespace

TEST_CASE("trampolines keep exceptions out of C callbacks")
{
    Thrower t;
    BusError err;
    int r = bus::method<&Thrower::boom>(nullptr, &t, &err);
    CHECK(r < 0);
    CHECK(std::string(err.name()) == bus_error::Internal);
    CHECK(std::string(err.message()) == "kaboom");
    CHECK(bus::method<&Thrower::fine>(nullptr, &t, nullptr) == 2);
    CHECK(bus::property<&Thrower::get>(nullptr, "/", "i", "p", nullptr, &t, nullptr) == -ENOMEM);
}

TEST_CASE("errors become named D-Bus errors")
{
    BusError err;
    auto e = bus_fail(bus_error::TooLarge, "contents: {} bytes over the cap", 5).error();
    CHECK(bus::set_error(&err, e) < 0);
    CHECK(std::string(err.name()) == "org.alopex.Error.TooLarge");
    CHECK(std::string(err.message()) == "contents: 5 bytes over the cap");
    BusError err2;
    CHECK(bus::set_error(&err2, Error{ENOENT, "no such file", {}}) == -ENOENT);
    CHECK(std::string(err2.message()) == "no such file");
}
