// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger_cmd.hpp"
#include "render.hpp"

using alopex::ledger::Record;
using alopex::ledger::Verdict;
using namespace alopex::test;

namespace {
// A private temporary directory, removed at scope exit.
struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "alopexctl-XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    void write(const std::string &name, const std::string &text) const
    {
        std::ofstream(path / name) << text;
    }
};
} // namespace

TEST_CASE("[ledger] path from broker.toml")
{
    auto none = alopexctl::ledger_path_from_toml("[limits]\nmax_contents = 5\n", "b.toml");
    REQUIRE(none);
    CHECK_FALSE(none->has_value());

    auto set = alopexctl::ledger_path_from_toml("[ledger]\npath = \"/srv/l.jsonl\"\n", "b.toml");
    REQUIRE(set);
    CHECK(**set == "/srv/l.jsonl");

    auto bad = alopexctl::ledger_path_from_toml("[ledger]\npath = 3\n", "b.toml");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "b.toml:2:8: 'ledger.path' must be a string, not integer");

    auto broken = alopexctl::ledger_path_from_toml("[ledger\n", "b.toml");
    REQUIRE_FALSE(broken);
    CHECK(broken.error().message.rfind("b.toml:1:", 0) == 0);

    auto not_table = alopexctl::ledger_path_from_toml("ledger = 1\n", "b.toml");
    REQUIRE_FALSE(not_table);
    CHECK(not_table.error().message == "b.toml:1:10: 'ledger' must be a table, not integer");
}

TEST_CASE("ledger path precedence: --file, $ALOPEX_LEDGER, broker.toml, default")
{
    TempDir dir;
    std::optional<std::string> none;
    auto p = alopexctl::resolve_ledger_path(none, nullptr, dir.path);
    REQUIRE(p);
    CHECK(*p == alopexctl::default_ledger_path);

    dir.write("broker.toml", "[ledger]\npath = \"/from/toml\"\n");
    CHECK(*alopexctl::resolve_ledger_path(none, nullptr, dir.path) == "/from/toml");
    CHECK(*alopexctl::resolve_ledger_path(none, "", dir.path) == "/from/toml");
    CHECK(*alopexctl::resolve_ledger_path(none, "/from/env", dir.path) == "/from/env");
    CHECK(*alopexctl::resolve_ledger_path(std::string("/from/arg"), "/from/env", dir.path) ==
          "/from/arg");

    dir.write("broker.toml", "[record]\ncallers = []\n");
    CHECK(*alopexctl::resolve_ledger_path(none, nullptr, dir.path) ==
          alopexctl::default_ledger_path);

    dir.write("broker.toml", "[ledger]\npath = \"\"\n");
    auto bad = alopexctl::resolve_ledger_path(none, nullptr, dir.path);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("broker.toml:2:8:") != std::string::npos);
}

TEST_CASE("verdict lines")
{
    auto line = [](const Verdict &v) { return people(alopexctl::verdict_document(v, "/l")); };
    CHECK(line(Verdict{true, 5, 0, 0, ""}) == "ledger OK: 5 records\n");
    CHECK(line(Verdict{true, 1, 0, 0, ""}) == "ledger OK: 1 record\n");
    CHECK(line(Verdict{false, 2, 3, 3, "hash mismatch: x"}) ==
          "ledger BROKEN at record seq 3 (line 3): hash mismatch: x\n");
    // A line that does not parse has no seq of its own: its place in the chain is given.
    // The reason stays on one line.
    CHECK(line(Verdict{false, 4, 5, 0, "parse error: y\nz"}) ==
          "ledger BROKEN at record seq 5 (line 5): parse error: y\\nz\n");

    auto j = nlohmann::json::parse(json_of(alopexctl::verdict_document(Verdict{false, 2, 3, 3, "seq gap"}, "/l")));
    CHECK(j == nlohmann::json{{"path", "/l"}, {"ok", false}, {"records", 2}, {"bad_line", 3},
                              {"bad_seq", 3}, {"reason", "seq gap"}});
    CHECK(nlohmann::json::parse(json_of(alopexctl::verdict_document(Verdict{true, 2, 0, 0, ""}, "/l"))) ==
          nlohmann::json{{"path", "/l"}, {"ok", true}, {"records", 2}});
    check_golden("ledger-verify.txt", all_renderings(alopexctl::verdict_document(
                                          Verdict{false, 4, 5, 0, "parse error: y\nz"}, "/var/lib/a:b/ledger.jsonl")));
}

namespace {
std::vector<Record> records(int n)
{
    std::vector<Record> v;
    for (int i = 1; i <= n; i++)
        v.push_back(Record{static_cast<uint64_t>(i), "2024-05-01T12:00:00.000Z", "alopex-dns",
                           "dns.set", "line\none", std::string(64, '0'), std::string(64, 'a')});
    return v;
}
} // namespace

TEST_CASE("tail keeps the last N records")
{
    CHECK(alopexctl::tail_of(records(5), std::nullopt).size() == 5);
    auto t = alopexctl::tail_of(records(5), 2);
    REQUIRE(t.size() == 2);
    CHECK(t[0].seq == 4);
    CHECK(t[1].seq == 5);
    CHECK(alopexctl::tail_of(records(5), 0).empty());
    CHECK(alopexctl::tail_of(records(2), 10).size() == 2);
}

TEST_CASE("records as a table, terse and JSON")
{
    CHECK(people(alopexctl::records_document(records(1))) ==
          "SEQ  TIME                      ACTOR       ACTION   DETAILS\n"
          "1    2024-05-01T12:00:00.000Z  alopex-dns  dns.set  line\\none\n");
    CHECK(terse(alopexctl::records_document(records(1)), "seq,time,details") ==
          "1:2024-05-01T12\\:00\\:00.000Z:line\\none\n");
    auto j = nlohmann::json::parse(json_of(alopexctl::records_document(records(2))));
    REQUIRE(j.size() == 2);
    CHECK(j[1]["seq"] == 2);
    CHECK(j[1]["details"] == "line\none");
    CHECK(j[1]["prev"] == std::string(64, '0'));
    CHECK(j[1]["hash"] == std::string(64, 'a'));
    CHECK(json_of(alopexctl::records_document({})) == "[]\n");
    check_golden("ledger-show.txt", all_renderings(alopexctl::records_document(records(2))));
}

TEST_CASE("ledger arguments")
{
    auto parse = [](std::vector<std::string_view> w) { return alopexctl::parse_ledger_args(w); };
    CHECK_FALSE(parse({"verify"})->show);
    CHECK(parse({"show", "-n", "2"})->tail == 2u);
    CHECK(parse({"show", "--tail", "-1"}).error().message == "--tail: not a non-negative integer: '-1'");
    CHECK(parse({"show", "--tail", "3x"}).error().message == "--tail: not a non-negative integer: '3x'");
    CHECK(parse({"verify", "--file="}).error().message == "--file: empty path");
    CHECK(parse({"verify", "x"}).error().message == "ledger verify: unexpected argument 'x'");
    CHECK(parse({"verify", "--tail", "1"}).error().message == "ledger verify: --tail applies to 'ledger show' only");
}
