// SPDX-License-Identifier: GPL-2.0-or-later
// The output model: one document rendered as a table, records, terse rows (nmcli's -t,
// -f and escaping) and JSON.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "output.hpp"
#include "render.hpp"

namespace cli = alopex::cli;
using cli::Cell;
using nlohmann::json;
using namespace alopex::test;

namespace {

// Two rows whose values hold what terse output must escape.
cli::Document sample()
{
    cli::Section s({"NAME", "ADDRESSES", "NOTE", {"HIDDEN", false}});
    s.json_key = "things";
    s.add({"eth0", Cell::list({"192.0.2.1/24", "2001:db8::1/64"}), "a:b\\c", "h1"}, {{"name", "eth0"}});
    s.add({"wan\n0", Cell::lines({"x", "y:z"}), Cell(), Cell::none()}, {{"name", "wan\n0"}});
    cli::Document d;
    d.sections.push_back(std::move(s));
    d.set_json("version", 1);
    return d;
}

} // namespace

TEST_CASE("people: a table, '-' for nothing, control characters escaped, no trailing blanks")
{
    CHECK(people(sample()) == "NAME    ADDRESSES                      NOTE\n"
                              "eth0    192.0.2.1/24 | 2001:db8::1/64  a:b\\\\c\n"
                              "wan\\n0  x | y:z                        -\n");
}

TEST_CASE("terse: no header, ':' between fields, ':' and '\\' escaped, several values joined by ' | '")
{
    CHECK(terse(sample()) == "eth0:192.0.2.1/24 | 2001\\:db8\\:\\:1/64:a\\:b\\\\c\n"
                             "wan\\n0:x | y\\:z:\n");
}

TEST_CASE("-f: the named columns in the named order, without regard to case; 'all' is every column")
{
    CHECK(terse(sample(), "note,NAME") == "a\\:b\\\\c:eth0\n:wan\\n0\n");
    CHECK(terse(sample(), "hidden") == "h1\n\n");
    CHECK(terse(sample(), "all") == "eth0:192.0.2.1/24 | 2001\\:db8\\:\\:1/64:a\\:b\\\\c:h1\n"
                                    "wan\\n0:x | y\\:z::\n");
    cli::Format f;
    REQUIRE(cli::parse_fields("NAME,nope", f));
    auto r = cli::render(sample(), f);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "--fields: no field 'nope' here; there are: NAME,ADDRESSES,NOTE,HIDDEN");
}

TEST_CASE("multiline: one 'label value' line per field; terse FIELD:value, FIELD[n] for lines")
{
    CHECK(render(sample(), cli::Format::Mode::people, {}, cli::Format::Layout::multiline) ==
          "NAME       eth0\n"
          "ADDRESSES  192.0.2.1/24 | 2001:db8::1/64\n"
          "NOTE       a:b\\\\c\n"
          "\n"
          "NAME       wan\\n0\n"
          "ADDRESSES  x\n"
          "ADDRESSES  y:z\n"
          "NOTE       -\n");
    // As nmcli's multiline terse output: no ':' escaping after the first one.
    CHECK(render(sample(), cli::Format::Mode::terse, "all", cli::Format::Layout::multiline) ==
          "NAME:eth0\n"
          "ADDRESSES:192.0.2.1/24 | 2001:db8::1/64\n"
          "NOTE:a:b\\\\c\n"
          "HIDDEN:h1\n"
          "NAME:wan\\n0\n"
          "ADDRESSES[1]:x\n"
          "ADDRESSES[2]:y:z\n"
          "NOTE:\n"
          "HIDDEN:\n");
}

TEST_CASE("records: label width, indent, absent values left out, a title line")
{
    cli::Section s({{"idx", true, false}, "kind", "zone", "dns"}, cli::Section::Layout::record);
    s.title = "7: eth0\x1b";
    s.record_indent = 2;
    s.add({7, "veth", "", Cell::none()});
    cli::Document d;
    d.sections.push_back(std::move(s));
    CHECK(people(d) == "7: eth0\\x1b\n"
                       "  kind  veth\n"
                       "  zone  -\n");
    // Asked for by name, the title's fields are lines too.
    CHECK(render(d, cli::Format::Mode::people, "idx,kind") == "7: eth0\\x1b\n  idx   7\n  kind  veth\n");
    CHECK(terse(d) == "IDX:7\nKIND:veth\nZONE:\nDNS:\n");
}

TEST_CASE("shown_as: people see another text, scripts the value")
{
    cli::Section s({"ZONE"});
    s.add({Cell("wan").shown_as("wan *")});
    cli::Document d;
    d.sections.push_back(std::move(s));
    CHECK(people(d) == "ZONE\nwan *\n");
    CHECK(terse(d) == "wan\n");
}

TEST_CASE("sections: titles, '(none)', footers and a blank line between them; -f picks sections")
{
    cli::Section a({"ID", "SPEC"});
    a.title = "Runtime rules:";
    a.when_empty = "(none)";
    a.json_key = "runtime";
    cli::Section b({"ZONE", "SPEC"});
    b.title = "Configured rules:";
    b.footer = "that is all";
    b.json_key = "rules";
    b.add({"wan", "proto=tcp"}, {{"zone", "wan"}});
    cli::Document d;
    d.sections.push_back(std::move(a));
    d.sections.push_back(std::move(b));
    CHECK(people(d) == "Runtime rules:\n(none)\n\nConfigured rules:\nZONE  SPEC\nwan   proto=tcp\nthat is all\n");
    CHECK(terse(d) == "wan:proto=tcp\n");
    CHECK(terse(d, "zone") == "wan\n");
    CHECK(json::parse(json_of(d)) == json{{"runtime", json::array()}, {"rules", {{{"zone", "wan"}}}}});
}

TEST_CASE("a one-line text for people, the fields for -f and scripts")
{
    cli::Section s({"ok", "records"}, cli::Section::Layout::record);
    s.text = "ledger OK: 3 records\nforged";
    s.json_shape = cli::Section::Json::object;
    s.add({Cell::yes_no(true), 3}, {{"ok", true}, {"records", 3}});
    cli::Document d;
    d.sections.push_back(std::move(s));
    CHECK(people(d) == "ledger OK: 3 records\\nforged\n");
    CHECK(render(d, cli::Format::Mode::people, "records") == "records  3\n");
    CHECK(terse(d) == "OK:yes\nRECORDS:3\n");
    CHECK(json_of(d) == "{\n  \"ok\": true,\n  \"records\": 3\n}\n");
}

TEST_CASE("JSON: the document's shape; nothing at all is {}")
{
    CHECK(json::parse(json_of(sample())) == json{{"version", 1}, {"things", {{{"name", "eth0"}}, {{"name", "wan\n0"}}}}});
    cli::Section top({"A"});
    top.add({"x"}, {{"a", "x"}});
    cli::Document arr;
    arr.sections.push_back(std::move(top));
    CHECK(json_of(arr) == "[\n  {\n    \"a\": \"x\"\n  }\n]\n");
    CHECK(json_of(cli::Document()) == "{}\n");
    CHECK(people(cli::Document()).empty());
}

TEST_CASE("the model's renderings, golden")
{
    check_golden("model.txt", all_renderings(sample()));
}
