// SPDX-License-Identifier: GPL-2.0-or-later
// alopexctl's command line: the registry finds each command by its words, global and
// per-command options may stand anywhere, and bad lines are refused naming the word.
#include <initializer_list>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "cli.hpp"
#include "ledger_cmd.hpp"

using alopexctl::Invocation;
namespace cli = alopex::cli;

namespace {

struct Line {
    alopexctl::Context ctx{alopexctl::Context::Opener{}};
    std::vector<cli::Command> commands = alopexctl::all_commands(ctx);

    alopex::Result<Invocation> parse(std::initializer_list<std::string_view> a)
    {
        std::vector<std::string_view> v(a);
        return alopexctl::parse_command_line(v, commands);
    }
    std::string error_of(std::initializer_list<std::string_view> a)
    {
        auto r = parse(a);
        REQUIRE_FALSE(r.has_value());
        return r.error().message;
    }
    std::string command_of(std::initializer_list<std::string_view> a)
    {
        auto r = parse(a);
        INFO((r ? std::string() : r.error().message));
        REQUIRE(r);
        REQUIRE(r->what == Invocation::What::command);
        return cli::command_name(*r->found.command);
    }
};

} // namespace

TEST_CASE("commands are found by their words; the last word of a default may be left out")
{
    Line l;
    CHECK(l.command_of({"status"}) == "status");
    CHECK(l.command_of({"ledger", "verify"}) == "ledger verify");
    CHECK(l.command_of({"link"}) == "link list");
    CHECK(l.command_of({"link", "list"}) == "link list");
    CHECK(l.command_of({"link", "address", "add", "eth0", "192.0.2.1/24"}) == "link addr add");
    CHECK(l.command_of({"fw"}) == "fw status");
    CHECK(l.command_of({"fw", "set-zone", "eth0", "-"}) == "fw set-zone");
    CHECK(l.command_of({"checkpoint", "create", "30"}) == "checkpoint create");
    auto r = l.parse({"link", "set", "eth0", "mtu", "9000"});
    REQUIRE(r);
    CHECK(r->found.args.words == std::vector<std::string_view>{"eth0", "mtu", "9000"});
}

TEST_CASE("output options in any position")
{
    Line l;
    auto a = l.parse({"status"});
    REQUIRE(a);
    CHECK(a->format.mode == cli::Format::Mode::people);
    auto b = l.parse({"--json", "status"});
    REQUIRE(b);
    CHECK(b->format.mode == cli::Format::Mode::json);
    auto c = l.parse({"status", "-t", "-f", "daemon,STATE", "-m", "multiline"});
    REQUIRE(c);
    CHECK(c->format.mode == cli::Format::Mode::terse);
    CHECK(c->format.fields == std::vector<std::string>{"daemon", "STATE"});
    CHECK(c->format.layout == cli::Format::Layout::multiline);
    auto d = l.parse({"link", "--fields=all"});
    REQUIRE(d);
    CHECK(d->format.all_fields);
}

TEST_CASE("ledger verify and show take --file and --tail, before or after the command")
{
    Line l;
    auto v = l.parse({"ledger", "verify", "--file", "/tmp/l.jsonl"});
    REQUIRE(v);
    CHECK(v->found.args.value("--file") == "/tmp/l.jsonl");
    auto s = l.parse({"--file=/x", "ledger", "show", "-n", "3", "--json"});
    REQUIRE(s);
    CHECK(cli::command_name(*s->found.command) == "ledger show");
    CHECK(s->found.args.value("--tail") == "3");

    auto req = alopexctl::parse_ledger_args(std::vector<std::string_view>{"show", "--file=/x", "--tail", "0"});
    REQUIRE(req);
    CHECK(req->show);
    CHECK(*req->file == "/x");
    CHECK(*req->tail == 0);
}

TEST_CASE("help and version win over everything else")
{
    Line l;
    CHECK(l.parse({"--help"})->what == Invocation::What::help);
    CHECK(l.parse({"-h", "status"})->what == Invocation::What::help);
    CHECK(l.parse({"help"})->what == Invocation::What::help);
    CHECK(l.parse({"fw", "allow", "--help"})->what == Invocation::What::help);
    CHECK(l.parse({"--version"})->what == Invocation::What::version);
    CHECK(l.parse({"status", "--version"})->what == Invocation::What::version);
}

TEST_CASE("wait-online gets everything after its word unparsed")
{
    Line l;
    auto r = l.parse({"--json", "wait-online", "--interface", "eth0", "-t", "--timeout", "5"});
    REQUIRE(r);
    CHECK(cli::command_name(*r->found.command) == "wait-online");
    CHECK(r->found.args.raw == std::vector<std::string_view>{"--interface", "eth0", "-t", "--timeout", "5"});
}

TEST_CASE("bad command lines are refused with a message naming the argument")
{
    Line l;
    CHECK(l.error_of({}) == "missing command");
    CHECK(l.error_of({"frobnicate"}) == "unknown command 'frobnicate'");
    CHECK(l.error_of({"--bogus", "status"}) == "status: unknown option '--bogus'");
    CHECK(l.error_of({"ledger"}) == "ledger: missing subcommand (verify or show)");
    CHECK(l.error_of({"ledger", "fix"}) == "ledger: unknown subcommand 'fix' (verify or show)");
    CHECK(l.error_of({"ledger", "show", "--tail"}) == "--tail: missing value");
    CHECK(l.error_of({"ledger", "verify", "--tail", "3"}) == "ledger verify: --tail applies to 'ledger show' only");
    CHECK(l.error_of({"status", "--file", "x"}) ==
          "status: --file applies to 'ledger verify' or 'ledger show' only");
    CHECK(l.error_of({"status", "--from", "x"}) ==
          "status: --from applies to 'fw allow', 'fw deny' or 'fw forward' only");
    CHECK(l.error_of({"--json=yes", "status"}) == "--json takes no value");
    CHECK(l.error_of({"--json", "-t", "status"}) == "--json cannot be combined with --terse, --fields or --mode");
    CHECK(l.error_of({"-m", "wide", "status"}) == "--mode: 'tabular' or 'multiline', not 'wide'");
    CHECK(l.error_of({"-f", "a,,b", "status"}) == "--fields: an empty field name in 'a,,b'");
    CHECK(l.error_of({"-f", "all,DAEMON", "status"}) == "--fields: 'all' stands alone");
    CHECK(l.error_of({"link", "frob"}) ==
          "link: unknown subcommand 'frob' (list, show, up, down, set, addr, route, renew, release or reload)");
    CHECK(l.error_of({"fw", "zones", "--zone", "a", "--zone", "b"}) == "--zone given twice");
}

TEST_CASE("arguments a command refuses are usage errors at run time (exit status 2)")
{
    Line l;
    auto r = l.parse({"status", "extra"});
    REQUIRE(r);
    CHECK(r->found.command->run(r->found.args) == alopexctl::exit_usage);
    auto v = l.parse({"ledger", "verify", "--file="});
    REQUIRE(v);
    CHECK(v->found.command->run(v->found.args) == alopexctl::exit_usage);
}

TEST_CASE("usage names every command and option")
{
    Line l;
    auto u = alopexctl::usage(l.commands);
    CHECK(u.find("Usage: alopexctl") == 0);
    for (const auto &c : l.commands) {
        std::string name = cli::command_name(c);
        if (c.implied)   // "link [list]"
            name = name.substr(0, name.rfind(' ')) + " [" + name.substr(name.rfind(' ') + 1) + "]";
        CHECK(u.find("  " + name) != std::string::npos);
    }
    for (std::string_view o : {"--json", "--terse", "--fields", "--mode", "--file", "--tail"})
        CHECK(u.find(o) != std::string::npos);
}
