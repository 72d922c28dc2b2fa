// SPDX-License-Identifier: GPL-2.0-or-later
// Typed reads/appends round-trip through a real (unconnected) sd-bus message.
#include <catch2/catch.hpp>

#include "alopex/bus.hpp"

using namespace alopex;

TEST_CASE("interface names are validated like the kernel does")
{
    CHECK(bus::valid_ifname("eth0"));
    CHECK(bus::valid_ifname("123456789012345"));
    CHECK_FALSE(bus::valid_ifname("1234567890123456"));
    CHECK_FALSE(bus::valid_ifname(""));
    CHECK_FALSE(bus::valid_ifname("a/b"));
    CHECK_FALSE(bus::valid_ifname("a b"));
    CHECK_FALSE(bus::valid_ifname(".."));
    CHECK_FALSE(bus::valid_ifname("eth0\n"));
}

TEST_CASE("typed append and read round-trip")
{
    sd_bus *raw = nullptr;
    REQUIRE(sd_bus_new(&raw) >= 0);
    BusPtr b(raw);
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
