// SPDX-License-Identifier: GPL-2.0-or-later
// The org.alopex.Link1 reader: GetManagedObjects replies built offline (as linkd sends
// them, with sd-bus' own appenders, not the project's codecs) read into LinkInfo.
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "link1_client.hpp"
#include "offline_bus.hpp"

namespace l1 = alopex::ipc::link1;
using alopex::MessagePtr;

namespace {

using alopex::test::OfflineBus;
using alopex::test::seal;
using alopex::test::append_property;

void open_object(sd_bus_message *m, const char *path, const char *iface)
{
    REQUIRE(sd_bus_message_open_container(m, 'e', "oa{sa{sv}}") >= 0);
    REQUIRE(sd_bus_message_append_basic(m, 'o', path) >= 0);
    REQUIRE(sd_bus_message_open_container(m, 'a', "{sa{sv}}") >= 0);
    REQUIRE(sd_bus_message_open_container(m, 'e', "sa{sv}") >= 0);
    REQUIRE(sd_bus_message_append_basic(m, 's', iface) >= 0);
    REQUIRE(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
}

void close_object(sd_bus_message *m)
{
    for (int i = 0; i < 4; ++i)
        REQUIRE(sd_bus_message_close_container(m) >= 0);
}

} // namespace

TEST_CASE("link client: the reader agrees with the XML")
{
    CHECK(l1::link_reader().check());
    CHECK(l1::manager_reader().check());
}

TEST_CASE("link client: GetManagedObjects into LinkInfo, sorted by index, other interfaces skipped")
{
    OfflineBus b;
    auto m = b.message();
    REQUIRE(sd_bus_message_open_container(m.get(), 'a', "{oa{sa{sv}}}") >= 0);
    open_object(m.get(), "/org/alopex/Link1/link/7", "org.alopex.Link1.Link");
    append_property(m.get(), "Index", "i", 7);
    append_property(m.get(), "Name", "s", "eth0");
    append_property(m.get(), "MTU", "u", 1500);
    append_property(m.get(), "Carrier", "b", 1);
    append_property(m.get(), "Managed", "b", 0);
    append_property(m.get(), "Addresses", "a(isysuuus)", 1, AF_INET, "192.0.2.10", 24, "global", 0, 3600, 1800, "dhcp");
    append_property(m.get(), "DNSServers", "as", 2, "192.0.2.53", "2001:db8::53");
    append_property(m.get(), "DHCPExpiry", "t", uint64_t{1234567});
    append_property(m.get(), "FutureProperty", "a{ss}", 0);
    close_object(m.get());
    open_object(m.get(), "/org/alopex/Link1/link/1", "org.alopex.Link1.Link");
    append_property(m.get(), "Index", "i", 1);
    append_property(m.get(), "Name", "s", "lo");
    close_object(m.get());
    open_object(m.get(), "/org/alopex/Link1", "org.alopex.Link1.Manager");
    append_property(m.get(), "Connectivity", "s", "full");
    close_object(m.get());
    REQUIRE(sd_bus_message_close_container(m.get()) >= 0);
    seal(m.get());

    auto links = l1::parse_managed_objects(m.get());
    INFO((links ? std::string() : links.error().message));
    REQUIRE(links);
    REQUIRE(links->size() == 2);
    CHECK((*links)[0].name == "lo");
    CHECK((*links)[0].path == "/org/alopex/Link1/link/1");
    CHECK_FALSE((*links)[0].managed.has_value());
    const auto &eth = (*links)[1];
    CHECK(eth.ifindex == 7);
    CHECK(eth.mtu == 1500);
    CHECK(eth.carrier);
    REQUIRE(eth.managed.has_value());
    CHECK_FALSE(*eth.managed);
    REQUIRE(eth.addresses.size() == 1);
    CHECK(eth.addresses[0] == l1::AddressInfo{AF_INET, "192.0.2.10", 24, "global", 0, 3600, 1800, "dhcp"});
    CHECK(eth.dns_servers == std::vector<std::string>{"192.0.2.53", "2001:db8::53"});
    CHECK(eth.dhcp_expiry_usec == 1234567);
}

TEST_CASE("link client: a known property of another type than the XML's is refused, naming it")
{
    OfflineBus b;
    auto m = b.message();
    REQUIRE(sd_bus_message_open_container(m.get(), 'a', "{oa{sa{sv}}}") >= 0);
    open_object(m.get(), "/org/alopex/Link1/link/7", "org.alopex.Link1.Link");
    append_property(m.get(), "MTU", "s", "1500");
    close_object(m.get());
    REQUIRE(sd_bus_message_close_container(m.get()) >= 0);
    seal(m.get());
    auto links = l1::parse_managed_objects(m.get());
    REQUIRE_FALSE(links);
    CHECK_THAT(links.error().message, Catch::Contains("MTU"));
}
