// SPDX-License-Identifier: GPL-2.0-or-later
// Blocklist files (daemons/dnsd-controller/blocklist/parse.hpp): hosts files, domain
// lists and adblock lines as published lists have them, and hostile files (bad names,
// 10 MB lines, NUL bytes, rules that mean more than a name) refused at their line.
#include <string>

#include <catch2/catch.hpp>

#include "blocklist/parse.hpp"
#include "blocklist/zones.hpp"

using namespace alopex::dns;
using V = std::vector<std::string>;

TEST_CASE("hosts files: names after the address, the machine's own names skipped, comments", "[dns][blocklist]")
{
    auto r = parse_blocklist("# StevenBlack-style header\n"
                             "127.0.0.1 localhost\n"
                             "127.0.0.1 localhost.localdomain\n"
                             "::1 ip6-localhost ip6-loopback\n"
                             "0.0.0.0 0.0.0.0\n"
                             "\n"
                             "0.0.0.0 Ads.Example.COM tracker.example.   # two names\n"
                             "0.0.0.0\tmetrics.example\r\n"
                             ":: v6.ads.example\n",
                             "hosts");
    REQUIRE(r);
    CHECK(r->block == V{"ads.example.com", "tracker.example", "metrics.example", "v6.ads.example"});
    CHECK(r->allow.empty());
}

TEST_CASE("domain lists and adblock lines; allow rules", "[dns][blocklist]")
{
    auto r = parse_blocklist("[Adblock Plus 2.0]\n"
                             "! Title: test\n"
                             "ads.example\n"
                             "*.wild.example\n"
                             "||adblock.example^\n"
                             "||important.example^$important\n"
                             "@@||allowed.ads.example^\n"
                             "  spaced.example  \n",
                             "list");
    REQUIRE(r);
    CHECK(r->block == V{"ads.example", "wild.example", "adblock.example", "important.example", "spaced.example"});
    CHECK(r->allow == V{"allowed.ads.example"});
    CHECK(parse_blocklist("", "empty")->block.empty());
    CHECK(parse_blocklist("a.example", "no newline at the end")->block == V{"a.example"});
}

TEST_CASE("hostile files are refused at their line, naming the file", "[dns][blocklist]")
{
    auto err = [](std::string_view text) {
        auto r = parse_blocklist(text, "/lists/x.txt");
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK(err("ok.example\nbad..name\n").starts_with("/lists/x.txt:2: "));
    CHECK(err("ok.example\nbad..name\n").find("'bad..name' is not a domain name") != std::string::npos);
    CHECK(err("0.0.0.0 ok.example -bad.example\n").starts_with("/lists/x.txt:1: "));
    CHECK(err("a.example\n" + std::string(10 << 20, 'a') + "\n").starts_with("/lists/x.txt:2: a line of 10485760 bytes"));
    CHECK(err(std::string("a.example\nb.ex\0ample\n", 21)).starts_with("/lists/x.txt:2: a NUL byte"));
    CHECK(err(std::string_view("\x7f" "ELF\x02\x01\x01\x00", 8)).find("/lists/x.txt:1:") == 0);
    CHECK(err("two names.example here.example\n").find("neither a hosts entry nor one name") != std::string::npos);
    CHECK(err("0.0.0.0\n").find("an address without names") != std::string::npos);
    CHECK(err("||ads.example^$third-party\n").find("more than a name") != std::string::npos);
    CHECK(err("||ads.example\n").find("without '^'") != std::string::npos);
    CHECK(err("example.com##.banner\n").find("/lists/x.txt:1:") == 0);
    CHECK(err("/ads[0-9]+/\n").find("/lists/x.txt:1:") == 0);
    CHECK(err("ex\xc3\xa4mple.example\n").find("not a domain name") != std::string::npos);
    CHECK(err(std::string(300, 'a') + ".example\n").find("not a domain name") != std::string::npos);
    auto many = parse_blocklist("a.example\nb.example\nc.example\n", "x", {.max_line = 100, .max_entries = 2});
    REQUIRE_FALSE(many);
    CHECK(many.error().message == "x:3: more than 2 entries");
}

TEST_CASE("one name as an entry", "[dns][blocklist]")
{
    CHECK(*blocklist_name("Ads.Example.") == "ads.example");
    CHECK(*blocklist_name("*.ads.example") == "ads.example");
    CHECK_FALSE(blocklist_name("*"));
    CHECK_FALSE(blocklist_name("."));
    CHECK_FALSE(blocklist_name("a b"));
}

TEST_CASE("the zones for a blocklist: parents cover children, allow rules unblock or punch holes", "[dns][blocklist]")
{
    Zones z = desired_zones({"ads.example", "x.ads.example", "tracker.example", "cdn.example", "a.b.c.example"},
                            {"tracker.example", "ok.ads.example", "unrelated.example"});
    CHECK(z == Zones{{"ads.example", ZoneType::always_nxdomain},
                     {"cdn.example", ZoneType::always_nxdomain},
                     {"a.b.c.example", ZoneType::always_nxdomain},
                     {"ok.ads.example", ZoneType::transparent}});
    CHECK(desired_zones({}, {"x.example"}).empty());
}

TEST_CASE("the diff from what unbound holds: removals and additions, a changed type re-added", "[dns][blocklist]")
{
    Zones applied{{"old.example", ZoneType::always_nxdomain},
                  {"keep.example", ZoneType::always_nxdomain},
                  {"hole.example", ZoneType::always_nxdomain}};
    Zones desired{{"keep.example", ZoneType::always_nxdomain},
                  {"hole.example", ZoneType::transparent},
                  {"new.example", ZoneType::always_nxdomain}};
    auto d = diff_zones(applied, desired);
    CHECK(d.remove == V{"old.example"});
    CHECK(d.add == V{"hole.example transparent", "new.example always_nxdomain"});
    CHECK(zone_line_name(d.add[0]) == "hole.example");
    CHECK(diff_zones(desired, desired).empty());
}
