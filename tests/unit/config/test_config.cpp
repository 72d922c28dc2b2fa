// SPDX-License-Identifier: GPL-2.0-or-later
// The typed TOML layer: positions in every error, unknown keys, wrong types, missing keys,
// syntax errors, hostile input, and the last-good holder.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "alopex/config.hpp"

using namespace alopex;
using namespace alopex::config;

static Document parse_ok(std::string_view text)
{
    auto d = Document::parse(text, "t.toml");
    INFO((d ? std::string() : d.error().message));
    REQUIRE(d);
    return *d;
}

TEST_CASE("typed getters return values and positions")
{
    auto d = parse_ok("a = \"x\"\nn = 42\nb = true\nf = 1.5\n[t]\nk = [1, \"two\"]\n");
    auto root = d.root();
    CHECK(root.required_string("a").value() == "x");
    CHECK(root.required_integer("n").value() == 42);
    CHECK(root.optional_boolean("b").value() == std::optional<bool>(true));
    CHECK(root.get("f")->as_floating().value() == 1.5);
    CHECK(root.get("n")->as_floating().value() == 42.0);
    CHECK_FALSE(root.optional_string("missing").value().has_value());
    auto t = root.optional_table("t").value();
    REQUIRE(t);
    CHECK(t->name() == "t");
    auto arr = t->optional_array("k").value();
    REQUIRE(arr);
    CHECK(arr->size() == 2);
    CHECK(arr->at(0).as_integer().value() == 1);
    CHECK(arr->at(1).name() == "t.k[1]");
    CHECK(root.get("n")->position().line == 2);
    CHECK(root.get("n")->where() == "t.toml:2:5");
}

TEST_CASE("wrong types name the key with file:line:col")
{
    auto d = parse_ok("\n\nport = \"eighty\"\n");
    auto r = d.root().required_integer("port");
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "t.toml:3:8: 'port' must be an integer, not string");
    auto s = d.root().get("port")->as_table();
    REQUIRE_FALSE(s);
    CHECK(s.error().message.starts_with("t.toml:3:8: 'port' must be a table"));
}

TEST_CASE("array elements carry their own positions")
{
    auto d = parse_ok("[x]\nlist = [1,\n  \"bad\"]\n");
    auto arr = d.root().optional_table("x").value()->optional_array("list").value();
    auto r = arr->at(1).as_integer();
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "t.toml:3:3: 'x.list[1]' must be an integer, not string");
    // Out-of-range access yields an empty node, not a crash.
    CHECK(arr->at(7).kind() == Kind::none);
    CHECK_FALSE(arr->at(7).as_string());
}

TEST_CASE("unknown keys are refused at the first one in document order")
{
    auto d = parse_ok("good = 1\nzzz = 2\naaa = 3\n");
    auto r = d.root().require_known_keys({"good"});
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "t.toml:2:1: unknown key 'zzz' in the top level");
    CHECK(d.root().require_known_keys({"good", "zzz", "aaa"}));

    auto d2 = parse_ok("[sec]\nok = 1\n  typo = 2\n");
    auto sec = d2.root().optional_table("sec").value();
    auto r2 = sec->require_known_keys({"ok"});
    REQUIRE_FALSE(r2);
    CHECK(r2.error().message == "t.toml:3:3: unknown key 'typo' in [sec]");
}

TEST_CASE("missing required keys point at their table")
{
    auto d = parse_ok("a = 1\n\n[sec]\nother = 1\n");
    auto sec = d.root().optional_table("sec").value();
    auto r = sec->required_string("name");
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "t.toml:3:1: missing required key 'name' in [sec]");
    auto top = d.root().require("nothing");
    REQUIRE_FALSE(top);
    CHECK(top.error().message.starts_with("t.toml:1:1: missing required key 'nothing'"));
}

TEST_CASE("entries come in document order")
{
    auto d = parse_ok("z = 1\na = 2\nm = 3\n");
    auto e = d.root().entries();
    REQUIRE(e.size() == 3);
    CHECK(e[0].first == "z");
    CHECK(e[1].first == "a");
    CHECK(e[2].first == "m");
    CHECK(e[2].second.name() == "m");
}

TEST_CASE("syntax errors are file:line:col")
{
    auto d = Document::parse("a = 1\nb = \n", "x.toml");
    REQUIRE_FALSE(d);
    CHECK(d.error().message.starts_with("x.toml:2:"));
    auto dup = Document::parse("a = 1\na = 2\n", "x.toml");
    REQUIRE_FALSE(dup);
    CHECK(dup.error().message.starts_with("x.toml:2:"));
}

TEST_CASE("hostile input is refused, never crashes")
{
    const char *cases[] = {
        "a = \"\\uD800\"\n",           // surrogate escape
        "a = \"unterminated\n",
        "[[a]]\n[a]\n",                 // array of tables redefined as table
        "a = 99999999999999999999999\n", // integer overflow
        "\xff\xfe = 1\n",               // invalid UTF-8
        "a.b.c.d.e = 1\na.b = 2\n",
    };
    for (const char *c : cases) {
        INFO(c);
        auto d = Document::parse(c, "h.toml");
        CHECK_FALSE(d);
        if (!d)
            CHECK(d.error().message.starts_with("h.toml:"));
    }
    std::string nul("a = 1\n\0b = 2\n", 13);
    CHECK_FALSE(Document::parse(nul, "h.toml"));
    std::string deep(5000, '[');
    CHECK_FALSE(Document::parse("a = " + deep, "h.toml"));
    std::string huge(17u << 20, ' ');
    auto big = Document::parse(huge, "h.toml");
    REQUIRE_FALSE(big);
    CHECK(big.error().message.find("too large") != std::string::npos);
}

TEST_CASE("load reads files and reports unreadable ones")
{
    char tmpl[] = "/tmp/alopex-config-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    std::filesystem::path dir(tmpl);
    {
        std::ofstream(dir / "a.toml") << "x = 1\ny = [\n";
    }
    auto d = Document::load(dir / "a.toml");
    REQUIRE_FALSE(d);
    CHECK(d.error().message.starts_with((dir / "a.toml").string() + ":"));
    auto missing = Document::load(dir / "none.toml");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("none.toml: cannot open: No such file or directory") != std::string::npos);
    auto isdir = Document::load(dir);
    REQUIRE_FALSE(isdir);
    CHECK(isdir.error().message.ends_with(": not a regular file"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("handles outlive their document")
{
    Table t;
    {
        auto d = parse_ok("[s]\nv = \"kept\"\n");
        t = *d.root().optional_table("s").value();
    }
    CHECK(t.required_string("v").value() == "kept");
}

TEST_CASE("LastGood keeps the previous value when a reload fails")
{
    LastGood<int> holder;
    CHECK_FALSE(holder.has_value());
    CHECK(holder.update(Result<int>(1)));
    CHECK(*holder == 1);
    auto snap = holder.snapshot();
    auto r = holder.reload([] { return Result<int>(fail(EINVAL, "f:1:1: broken")); });
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "f:1:1: broken");
    CHECK(*holder == 1);
    CHECK(holder.generation() == 1);
    CHECK(holder.reload([] { return Result<int>(2); }));
    CHECK(*holder == 2);
    CHECK(*snap == 1); // an old snapshot stays valid
}

TEST_CASE("raw control characters are refused with their position, before toml++ sees them")
{
    using namespace std::string_literals;
    // A NUL after '[' made toml++ 3.3 abort on an assertion (found by fuzz-config).
    auto nul = Document::parse("[\0\0[file]]\n"s, "b.toml");
    REQUIRE_FALSE(nul);
    CHECK(nul.error().message == "b.toml:1:2: control character 0x00 is not allowed");
    auto bell = Document::parse("a = 1\n# ring \a\n", "b.toml");
    REQUIRE_FALSE(bell);
    CHECK(bell.error().message == "b.toml:2:8: control character 0x07 is not allowed");
    auto lone_cr = Document::parse("a = 1\rb = 2\n", "b.toml");
    REQUIRE_FALSE(lone_cr);
    CHECK(lone_cr.error().message == "b.toml:1:6: control character 0x0d is not allowed");
    // Tabs and CRLF line ends are TOML.
    CHECK(Document::parse("a\t= 1\r\nb = \"x\"\r\n", "ok.toml"));
}

TEST_CASE("non-ASCII is allowed in strings and comments only")
{
    // toml++ 3.3 reaches __builtin_unreachable on U+00A1..U+0499 outside strings.
    auto bare = Document::parse("a\xd0\x9el = 1\n", "u.toml");
    REQUIRE_FALSE(bare);
    CHECK(bare.error().message == "u.toml:1:2: non-ASCII character outside a string or comment");
    auto after = Document::parse("a = \"x\\\"\" \xc3\xa9\n", "u.toml");
    REQUIRE_FALSE(after);
    CHECK(after.error().message == "u.toml:1:11: non-ASCII character outside a string or comment");
    // U+4E2D is safe everywhere a string may be; comments take any UTF-8.
    auto ok = Document::parse("# caf\xc3\xa9 \xd0\x9e\na = \"\xe4\xb8\xad\\\\\" # \xc3\xa9\n"
                              "b = '\xe4\xb8\xad'\nc = \"\"\"\n\xe4\xb8\xad \\\"\"\" \"\"\"\n"
                              "d = '''\xe4\xb8\xad'''\ne = \"caf\\u00e9\"\n",
                              "ok.toml");
    INFO((ok ? std::string() : ok.error().message));
    REQUIRE(ok);
    CHECK(ok->root().required_string("a").value() == "\xe4\xb8\xad\\");
    CHECK(ok->root().required_string("d").value() == "\xe4\xb8\xad");
    CHECK(ok->root().required_string("e").value() == "caf\xc3\xa9");
    // Inside strings, the code points toml++ 3.3 mishandles are refused with advice.
    auto latin = Document::parse("k = \"caf\xc3\xa9\"\n", "u.toml");
    REQUIRE_FALSE(latin);
    CHECK(latin.error().message ==
          "u.toml:1:9: character U+00E9 is not supported in strings here (toml++ 3.3 "
          "mishandles it); write \\u00E9 instead");
    auto ml = Document::parse("k = \"\"\"x\\\n\xef\xbb\xbe\"\"\"\n", "u.toml");
    REQUIRE_FALSE(ml);
    CHECK(ml.error().message.starts_with("u.toml:2:1: character U+FEFE"));
    // The edges of the ranges (U+FB26..U+FB85 and U+2C5E..U+2C8D were missed before;
    // fuzz-link-profile found U+FB6D after a line-ending backslash).
    for (const char *cp : {"\xef\xac\xa6", "\xef\xad\xad", "\xe2\xb1\x9e", "\xe3\x81\x97"}) {
        auto r = Document::parse(std::string("k = \"\"\"x\\\n") + cp + "\"\"\"\n", "u.toml");
        CHECK_FALSE(r);
    }
    // Just outside them, accepted.
    for (const char *cp : {"\xef\xac\xa5", "\xe2\xb1\x9d", "\xe3\x81\x98"}) {
        auto r = Document::parse(std::string("k = \"\"\"x\\\n") + cp + "\"\"\"\n", "u.toml");
        CHECK(r);
    }
}

TEST_CASE("a quote where no key or value starts is refused before toml++ sees it")
{
    auto glued = Document::parse("p = 1\"/var/lib/a\xd1\x96\"\n", "q.toml");
    REQUIRE_FALSE(glued);
    CHECK(glued.error().message == "q.toml:1:6: unexpected quote");
    auto two = Document::parse("p = \"a\" \"b\"\n", "q.toml");
    REQUIRE_FALSE(two);
    CHECK(two.error().message == "q.toml:1:9: unexpected quote");
    auto ok = Document::parse("\"k\" = ['a', \"b\",\n  '''c''']\nt = { \"x\" = 1, y.\"z\" = 2 }\n"
                              "[a.\"b\"]\n[[ \"c\" ]]\n", "ok.toml");
    INFO((ok ? std::string() : ok.error().message));
    CHECK(ok);
}

