// SPDX-License-Identifier: GPL-2.0-or-later
// Codecs: signatures, round trips through a real (unconnected) sd-bus message, and
// reads of the wrong type refused with an error naming what was read.
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "alopex/bus/codec.hpp"
#include "alopex/bus/options.hpp"
#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "offline_bus.hpp"

using namespace alopex;
using alopex::test::seal;

namespace {

struct Pt {
    int32_t x = 0;
    std::string label;
    std::vector<uint64_t> marks;
};

} // namespace

template <> struct alopex::bus::Fields<Pt> {
    static constexpr auto members = std::make_tuple(&Pt::x, &Pt::label, &Pt::marks);
};

TEST_CASE("signatures follow the C++ types")
{
    CHECK(bus::signature_of<bool>() == "b");
    CHECK(bus::signature_of<std::vector<std::string>>() == "as");
    CHECK(bus::signature_of<std::map<std::string, uint64_t>>() == "a{st}");
    CHECK(bus::signature_of<std::vector<std::tuple<uint64_t, uint64_t>>>() == "a(tt)");
    CHECK(bus::signature_of<Pt>() == "(isat)");
    CHECK(bus::signature_of<std::vector<Pt>>() == "a(isat)");
    CHECK(bus::signature_of<bus::Options>() == "a{sv}");
    CHECK((bus::signature_of_all<int32_t, bus::ObjectPath, bus::UnixFd>()) == "ioh");
}

TEST_CASE("values round-trip through a message")
{
    test::OfflineBus o;
    auto m = o.message();
    std::vector<Pt> pts{{1, "one", {1, 2}}, {-5, "", {}}};
    std::map<std::string, std::vector<std::string>> zones{{"lan", {"a", "b"}}, {"wan", {}}};
    std::tuple<uint8_t, double, bus::ObjectPath> tup{7, 2.5, {"/x"}};
    bus::Value val = std::vector<std::string>{"v"};
    REQUIRE(bus::detail::append_each(m.get(), pts, zones, tup, val) >= 0);
    seal(m.get());
    std::vector<Pt> pts2;
    std::map<std::string, std::vector<std::string>> zones2;
    std::tuple<uint8_t, double, bus::ObjectPath> tup2;
    bus::Value val2;
    REQUIRE(bus::detail::read_each(m.get(), "x", pts2, zones2, tup2, val2));
    REQUIRE(pts2.size() == 2);
    CHECK(pts2[0].label == "one");
    CHECK(pts2[0].marks == std::vector<uint64_t>{1, 2});
    CHECK(pts2[1].x == -5);
    CHECK(zones2 == zones);
    CHECK(std::get<2>(tup2).value == "/x");
    CHECK(std::get<std::vector<std::string>>(val2) == std::vector<std::string>{"v"});
}

TEST_CASE("reading another type is an error naming what was read")
{
    test::OfflineBus o;
    auto m = o.message();
    REQUIRE(bus::append_value(m.get(), std::string("text")) >= 0);
    seal(m.get());
    uint32_t u = 0;
    auto r = bus::read_value(m.get(), u, "mtu");
    REQUIRE_FALSE(r);
    CHECK(r.error().bus_name == bus_error::InvalidArgument);
    CHECK(r.error().message.rfind("mtu: ", 0) == 0);

    auto e = o.message();
    seal(e.get());
    std::string s;
    auto missing = bus::read_value(e.get(), s, "name");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message == "name: missing");
}

TEST_CASE("a variant of an unaccepted type is refused")
{
    test::OfflineBus o;
    auto m = o.message();
    REQUIRE(sd_bus_message_append(m.get(), "v", "a{ss}", 1, "k", "v") >= 0);
    seal(m.get());
    bus::Value v;
    auto r = bus::read_value(m.get(), v, "value");
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "value: a variant of type 'a{ss}' is not accepted");
}

TEST_CASE("options: too many entries, hostile keys, values taken once")
{
    test::OfflineBus o;
    auto m = o.message();
    REQUIRE(sd_bus_message_open_container(m.get(), 'a', "{sv}") >= 0);
    for (int i = 0; i < 300; ++i)
        REQUIRE(sd_bus_message_append(m.get(), "{sv}", fmt::format("k{}", i).c_str(), "i", i) >= 0);
    REQUIRE(sd_bus_message_close_container(m.get()) >= 0);
    seal(m.get());
    bus::Options opts;
    auto r = bus::read_value(m.get(), opts, "options");
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "options: more than 256 entries");

    auto ok = o.message();
    REQUIRE(sd_bus_message_append(ok.get(), "a{sv}", 2, "a", "y", uint8_t{3}, "b", "s", "x") >= 0);
    seal(ok.get());
    REQUIRE(bus::read_value(ok.get(), opts, "opts"));
    CHECK(opts.integer("a", 0, 2).error().message == "opts.a: must be an integer from 0 to 2");
    CHECK(opts.integer("a", 0, 3).value() == 3);
    CHECK_FALSE(opts.integer("missing", 0, 1).value().has_value());
    CHECK(opts.done().error().message == "opts.b: unknown option");
    CHECK(opts.string("b").value() == "x");
    CHECK(opts.done());
}
