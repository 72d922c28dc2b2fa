// SPDX-License-Identifier: GPL-2.0-or-later
// alopexctl status and the text helpers of the output model.
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "alopex/ipc/daemons.hpp"
#include "output.hpp"
#include "render.hpp"
#include "status.hpp"

using alopexctl::DaemonStatus;
namespace cli = alopex::cli;
using namespace alopex::test;

TEST_CASE("tables pad every column but the last, counting code points")
{
    auto t = cli::format_table({"A", "BB", "C"}, {{"xxxx", "é", "last"}, {"y", "zz", ""}});
    CHECK(t == "A     BB  C\n"
               "xxxx  é   last\n"
               "y     zz\n");
}

TEST_CASE("printable escapes control characters and ellipsize cuts by code points")
{
    CHECK(cli::printable("a\nb\tc\\d\x1b[0m") == "a\\nb\\tc\\\\d\\x1b[0m");
    CHECK(cli::printable("ünïcode") == "ünïcode");
    CHECK(cli::printable("a:b") == "a:b");
    CHECK(cli::ellipsize("abcdef", 10) == "abcdef");
    CHECK(cli::ellipsize("abcdef", 4) == "abc…");
    CHECK(cli::ellipsize("ééééé", 3) == "éé…");
    CHECK(cli::display_width("ééé") == 3);
}

TEST_CASE("terse escaping: ':' and '\\' by a backslash, as nmcli does; control characters too")
{
    CHECK(cli::terse_escape("a:b\\c") == "a\\:b\\\\c");
    CHECK(cli::terse_escape("x\ny\tz\x1b") == "x\\ny\\tz\\x1b");
    CHECK(cli::terse_escape("a:b", false) == "a:b");
}

namespace {
std::vector<DaemonStatus> sample()
{
    return {
        {"alopex-brokerd", "org.alopex.Broker1", true, "0.1.0", std::nullopt},
        {"alopex-linkd", "org.alopex.Link1", false, std::nullopt, std::nullopt},
        {"alopex-fwd", "org.alopex.Firewall1", true, std::nullopt,
         "Version: org.freedesktop.DBus.Error.UnknownMethod: no\nsuch"},
    };
}
} // namespace

TEST_CASE("status table")
{
    CHECK(people(alopexctl::status_document(sample())) ==
          "DAEMON          BUS NAME              STATE        VERSION\n"
          "alopex-brokerd  org.alopex.Broker1    running      0.1.0\n"
          "alopex-linkd    org.alopex.Link1      not running  -\n"
          "alopex-fwd      org.alopex.Firewall1  running      error: Version: "
          "org.freedesktop.DBus.Error.UnknownMethod: no\\nsuch\n");
}

TEST_CASE("status terse: the version alone, the error in a field of its own")
{
    CHECK(terse(alopexctl::status_document(sample()), "daemon,version,error") ==
          "alopex-brokerd:0.1.0:\n"
          "alopex-linkd::\n"
          "alopex-fwd::Version\\: org.freedesktop.DBus.Error.UnknownMethod\\: no\\nsuch\n");
    check_golden("status.txt", all_renderings(alopexctl::status_document(sample())));
}

TEST_CASE("status JSON")
{
    auto j = nlohmann::json::parse(json_of(alopexctl::status_document(sample())));
    REQUIRE(j["daemons"].size() == 3);
    CHECK(j["daemons"][0] == nlohmann::json{{"daemon", "alopex-brokerd"},
                                            {"service", "org.alopex.Broker1"},
                                            {"running", true},
                                            {"version", "0.1.0"}});
    CHECK(j["daemons"][1]["running"] == false);
    CHECK(j["daemons"][1]["version"].is_null());
    CHECK_FALSE(j["daemons"][1].contains("error"));
    CHECK(j["daemons"][2]["error"] == "Version: org.freedesktop.DBus.Error.UnknownMethod: no\nsuch");
}

TEST_CASE("status JSON survives invalid UTF-8 from a peer")
{
    std::vector<DaemonStatus> s{{"d", "s", true, std::string("\xff\xfe"), std::nullopt}};
    auto j = nlohmann::json::parse(json_of(alopexctl::status_document(s)));
    CHECK(j["daemons"][0]["version"].get<std::string>() == "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("the daemon list covers the broker and is unique")
{
    std::set<std::string> names;
    for (const auto &d : alopex::ipc::daemons)
        CHECK(names.insert(d.service).second);
    CHECK(names.count("org.alopex.Broker1") == 1);
}
