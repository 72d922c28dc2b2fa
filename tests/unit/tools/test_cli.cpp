// SPDX-License-Identifier: GPL-2.0-or-later
#include <initializer_list>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "cli.hpp"

using alopexctl::Command;

namespace {
alopex::Result<alopexctl::Options> parse(std::initializer_list<std::string_view> a)
{
    std::vector<std::string_view> v(a);
    return alopexctl::parse_args(v);
}
std::string error_of(std::initializer_list<std::string_view> a)
{
    auto r = parse(a);
    REQUIRE_FALSE(r.has_value());
    return r.error().message;
}
} // namespace

TEST_CASE("status with and without --json, in any position")
{
    auto a = parse({"status"});
    REQUIRE(a);
    CHECK(a->command == Command::status);
    CHECK_FALSE(a->json);

    auto b = parse({"--json", "status"});
    REQUIRE(b);
    CHECK(b->command == Command::status);
    CHECK(b->json);

    auto c = parse({"status", "--json"});
    REQUIRE(c);
    CHECK(c->json);
}

TEST_CASE("ledger verify and show take --file and --tail")
{
    auto v = parse({"ledger", "verify", "--file", "/tmp/l.jsonl"});
    REQUIRE(v);
    CHECK(v->command == Command::ledger_verify);
    REQUIRE(v->file);
    CHECK(*v->file == "/tmp/l.jsonl");
    CHECK_FALSE(v->tail);

    auto s = parse({"ledger", "show", "--file=/x", "--tail", "3", "--json"});
    REQUIRE(s);
    CHECK(s->command == Command::ledger_show);
    CHECK(*s->file == "/x");
    CHECK(*s->tail == 3);
    CHECK(s->json);

    auto n = parse({"ledger", "show", "-n", "0", "-f", "y"});
    REQUIRE(n);
    CHECK(*n->tail == 0);
    CHECK(*n->file == "y");
}

TEST_CASE("help and version win over everything else")
{
    CHECK(parse({"--help"})->command == Command::help);
    CHECK(parse({"-h", "status"})->command == Command::help);
    CHECK(parse({"help"})->command == Command::help);
    CHECK(parse({"--version"})->command == Command::version);
    CHECK(parse({"status", "--version"})->command == Command::version);
}

TEST_CASE("bad command lines are refused with a message naming the argument")
{
    CHECK(error_of({}) == "missing command");
    CHECK(error_of({"frobnicate"}) == "unknown command 'frobnicate'");
    CHECK(error_of({"--bogus", "status"}) == "unknown option '--bogus'");
    CHECK(error_of({"status", "extra"}) == "status: unexpected argument 'extra'");
    CHECK(error_of({"ledger"}) == "ledger: missing subcommand (verify or show)");
    CHECK(error_of({"ledger", "fix"}) == "ledger: unknown subcommand 'fix'");
    CHECK(error_of({"ledger", "show", "--tail"}) == "--tail: missing value");
    CHECK(error_of({"ledger", "show", "--tail", "-1"}) ==
          "--tail: not a non-negative integer: '-1'");
    CHECK(error_of({"ledger", "show", "--tail", "3x"}) ==
          "--tail: not a non-negative integer: '3x'");
    CHECK(error_of({"ledger", "verify", "--tail", "3"}) == "--tail applies to 'ledger show' only");
    CHECK(error_of({"status", "--file", "x"}) == "--file applies to the ledger commands only");
    CHECK(error_of({"ledger", "verify", "--file="}) == "--file: empty path");
    CHECK(error_of({"--json=yes", "status"}) == "--json takes no value");
}

TEST_CASE("usage names every command")
{
    auto u = alopexctl::usage("alopexctl");
    CHECK(u.find("Usage: alopexctl") == 0);
    CHECK(u.find("status") != std::string::npos);
    CHECK(u.find("ledger verify") != std::string::npos);
    CHECK(u.find("ledger show") != std::string::npos);
}
