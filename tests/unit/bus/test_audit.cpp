// SPDX-License-Identifier: GPL-2.0-or-later
// bus::arguments_json: a call's arguments as the ledger records them, every D-Bus type
// (nested containers, variants, dictionaries with non-string keys, fds) read from a
// sealed message as a received one is, names from the spec.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "alopex/bus/audit.hpp"
#include "offline_bus.hpp"

using namespace alopex;
using json = nlohmann::json;

TEST_CASE("arguments_json names every argument and keeps every type")
{
    test::OfflineBus b;
    auto m = b.message();
    REQUIRE(sd_bus_message_append(m.get(), "sbiuxtdo", "eth0", 1, -5, 4000000000u, int64_t{-1} << 40,
                                  uint64_t{18446744073709551615ull}, 0.5, "/org/alopex/x") >= 0);
    REQUIRE(sd_bus_message_append(m.get(), "a(su)", 2, "a", 1u, "b", 2u) >= 0);
    REQUIRE(sd_bus_message_append(m.get(), "a{sv}", 3, "mtu", "u", 1400u, "name", "s", "x\"y", "on", "b", 1) >= 0);
    REQUIRE(sd_bus_message_append(m.get(), "a{iy}", 1, 7, 9) >= 0);
    REQUIRE(sd_bus_message_append(m.get(), "v", "as", 2, "p", "q") >= 0);
    REQUIRE(sd_bus_message_append(m.get(), "ay", 0) >= 0);
    test::seal(m.get());
    bus::MethodSpec spec{"M", "sbiuxtdoa(su)a{sv}a{iy}vay", "name\0up\0n\0u\0x\0t\0d\0path\0items\0options\0map\0var\0",
                         "", "", ""};
    auto j = json::parse(bus::arguments_json(m.get(), spec));
    CHECK(j == json::parse(R"({"name":"eth0","up":true,"n":-5,"u":4000000000,"x":-1099511627776,
        "t":18446744073709551615,"d":0.5,"path":"/org/alopex/x","items":[["a",1],["b",2]],
        "options":{"mtu":1400,"name":"x\"y","on":true},"map":{"7":9},"var":["p","q"],"arg12":[]})"));
    // The message is rewound: a second reading gives the same.
    CHECK(json::parse(bus::arguments_json(m.get(), spec)) == j);
}

TEST_CASE("arguments_json of no arguments, and of bytes that are not UTF-8")
{
    test::OfflineBus b;
    auto m = b.message();
    test::seal(m.get());
    bus::MethodSpec none{"M", "", "", "", "", ""};
    CHECK(bus::arguments_json(m.get(), none) == "{}");

    auto n = b.message();
    REQUIRE(sd_bus_message_append(n.get(), "ay", 2, 0xff, 0xfe) >= 0);
    REQUIRE(sd_bus_message_append(n.get(), "h", STDIN_FILENO) >= 0);
    test::seal(n.get());
    bus::MethodSpec bytes{"M", "ayh", "data\0fd\0", "", "", ""};
    CHECK(json::parse(bus::arguments_json(n.get(), bytes)) == json::parse(R"({"data":[255,254],"fd":null})"));
}
