// SPDX-License-Identifier: GPL-2.0-or-later
// The table's decisions: who may do what on which id or device path.
#include <catch2/catch.hpp>

#include "policy.hpp"

using namespace alopex;
using namespace alopex::broker;

namespace {
Config table()
{
    Config c;
    c.devices.push_back({"/dev/ttyUSB*", {903}});
    c.devices.push_back({"/dev/ttyS[0-3]", {903, 904}});
    c.files.push_back({"resolv.conf", "/etc/resolv.conf", {905}, 0644, std::nullopt});
    c.blocks.push_back({"interfaces", "/etc/network/interfaces", {904}, "ovs",
                        Validator::interfaces});
    c.ovsdb = OvsdbRule{"/run/openvswitch/db.sock", {904}};
    c.record_callers = {901, 905};
    return c;
}

std::string err_name(const auto &r)
{
    REQUIRE_FALSE(r);
    return r.error().bus_name;
}
} // namespace

TEST_CASE("device paths are checked before any glob")
{
    CHECK(check_device_path("/dev/ttyUSB0"));
    for (const char *bad : {"", "dev/ttyUSB0", "ttyUSB0", "/dev/../dev/ttyUSB0", "/dev/./ttyUSB0",
                            "/dev//ttyUSB0", "/dev/ttyUSB0/", "/dev/ttyUSB0/..", "/.."}) {
        INFO(bad);
        auto r = check_device_path(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().bus_name == bus_error::PathNotAllowed);
        CHECK(r.error().message.starts_with("path:"));
    }
    CHECK_FALSE(check_device_path("/" + std::string(5000, 'a')));
    CHECK(check_device_path("/dev/ttyUSB..0")); // ".." inside a name is not a component
}

TEST_CASE("device globs decide, caller lists authorize")
{
    auto c = table();
    auto ok = allow_device(c, 903, "/dev/ttyUSB0");
    REQUIRE(ok);
    CHECK((*ok)->glob == "/dev/ttyUSB*");
    CHECK(allow_device(c, 904, "/dev/ttyS2"));
    CHECK(err_name(allow_device(c, 904, "/dev/ttyUSB0")) == bus_error::NotAuthorized);
    CHECK(err_name(allow_device(c, 0, "/dev/ttyUSB0")) == bus_error::NotAuthorized); // root too
    CHECK(err_name(allow_device(c, 903, "/dev/ttyS4")) == bus_error::NotAuthorized);
    CHECK(err_name(allow_device(c, 903, "/dev/sda")) == bus_error::NotAuthorized);
    // FNM_PATHNAME: '*' does not cross '/'.
    CHECK(err_name(allow_device(c, 903, "/dev/ttyUSB0/x")) == bus_error::NotAuthorized);
    CHECK(err_name(allow_device(c, 903, "/dev/ttyUSB0/../sda")) == bus_error::PathNotAllowed);
}

TEST_CASE("a caller cannot probe which devices the table lists")
{
    // /dev/ttyUSB0 is listed (for 903), /dev/sda is not listed at all: for 904 both
    // answers are the same error with the same message but for the path.
    auto c = table();
    auto listed_other = allow_device(c, 904, "/dev/ttyUSB0");
    auto unlisted = allow_device(c, 904, "/dev/ttyUSB1/../../sda");
    auto nowhere = allow_device(c, 904, "/dev/sda");
    REQUIRE_FALSE(listed_other);
    REQUIRE_FALSE(nowhere);
    CHECK(listed_other.error().bus_name == nowhere.error().bus_name);
    CHECK(listed_other.error().message == "path: uid 904 may not open '/dev/ttyUSB0'");
    CHECK(nowhere.error().message == "path: uid 904 may not open '/dev/sda'");
    CHECK(err_name(unlisted) == bus_error::PathNotAllowed); // malformed: says nothing of the table
}

TEST_CASE("files and blocks are known by id; unknown and not allowed look the same")
{
    auto c = table();
    CHECK(allow_file(c, 905, "resolv.conf"));
    CHECK(err_name(allow_file(c, 904, "resolv.conf")) == bus_error::NotAuthorized);
    CHECK(err_name(allow_file(c, 905, "/etc/resolv.conf")) == bus_error::NotAuthorized);
    CHECK(err_name(allow_file(c, 905, "interfaces")) == bus_error::NotAuthorized); // a block id
    CHECK(allow_block(c, 904, "interfaces"));
    CHECK(err_name(allow_block(c, 905, "interfaces")) == bus_error::NotAuthorized);
    CHECK(err_name(allow_block(c, 904, "resolv.conf")) == bus_error::NotAuthorized);
    // Same name, same message shape: only the id differs.
    auto known = allow_file(c, 904, "resolv.conf");
    auto unknown = allow_file(c, 904, "nope");
    REQUIRE_FALSE(known);
    REQUIRE_FALSE(unknown);
    CHECK(known.error().bus_name == unknown.error().bus_name);
    CHECK(known.error().message == "id: uid 904 may not write file 'resolv.conf'");
    CHECK(unknown.error().message == "id: uid 904 may not write file 'nope'");
    auto kb = allow_block(c, 905, "interfaces");
    auto ub = allow_block(c, 905, "nope");
    REQUIRE_FALSE(kb);
    REQUIRE_FALSE(ub);
    CHECK(kb.error().message == "id: uid 905 may not write block 'interfaces'");
    CHECK(ub.error().message == "id: uid 905 may not write block 'nope'");
}

TEST_CASE("ovsdb and record need their own entries")
{
    auto c = table();
    CHECK(allow_ovsdb(c, 904));
    CHECK(err_name(allow_ovsdb(c, 905)) == bus_error::NotAuthorized);
    CHECK(allow_record(c, 901));
    CHECK(err_name(allow_record(c, 0)) == bus_error::NotAuthorized);
    Config empty;
    CHECK(err_name(allow_ovsdb(empty, 0)) == bus_error::NotAuthorized);
}

TEST_CASE("record arguments are validated")
{
    CHECK(check_record_args("ovs.port-added", "vi100 -> vmbr0"));
    CHECK(err_name(check_record_args("", "x")) == bus_error::InvalidArgument);
    CHECK(err_name(check_record_args("a b", "x")) == bus_error::InvalidArgument);
    CHECK(err_name(check_record_args(std::string(65, 'a'), "x")) == bus_error::InvalidArgument);
    CHECK(check_record_args(std::string(64, 'a'), std::string(64 * 1024, 'x')));
    auto big = check_record_args("a", std::string(64 * 1024 + 1, 'x'));
    CHECK(err_name(big) == bus_error::TooLarge);
    CHECK(big.error().message.starts_with("details:"));
    CHECK(err_name(check_record_args("a", "\xc3")) == bus_error::InvalidArgument);
    CHECK(check_record_args("a", "\xc3\xa9"));
}

TEST_CASE("the broker's own actions cannot be forged through Record")
{
    for (const char *a : {"broker.WriteManagedFile", "broker.OpenDevice", "broker.ledger-cut",
                          "broker.WriteManagedFile.intent", "Broker.x", "BROKER.x", "broker",
                          "broker:x", "broker-x", "broker_x"}) {
        INFO(a);
        CHECK(reserved_action(a));
        auto r = check_record_args(a, "x");
        CHECK(err_name(r) == bus_error::InvalidArgument);
        CHECK(r.error().message.starts_with("action:"));
    }
    for (const char *a : {"brokers.x", "brokerd.x", "link.broker.x", "ovs.port-added", "b"})
        CHECK(check_record_args(a, "x"));
}
