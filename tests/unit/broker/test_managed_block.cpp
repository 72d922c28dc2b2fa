// SPDX-License-Identifier: GPL-2.0-or-later
// The managed-block editor keeps every byte outside the block.
#include <catch2/catch.hpp>

#include "managed_block.hpp"

using namespace alopex;
using namespace alopex::broker;

namespace {
std::string edit_ok(std::string_view file, std::string_view tag, std::string_view contents)
{
    auto r = replace_block(file, tag, contents);
    INFO((r ? "" : r.error().message));
    REQUIRE(r);
    return *r;
}
std::string err_name(const Result<std::string> &r)
{
    REQUIRE_FALSE(r);
    return r.error().bus_name;
}
} // namespace

TEST_CASE("only the lines between the markers change")
{
    std::string f = "auto lo\niface lo inet loopback\n\n# BEGIN ovs\nold 1\nold 2\n# END ovs\n"
                    "# trailing comment\n";
    CHECK(edit_ok(f, "ovs", "new\n") ==
          "auto lo\niface lo inet loopback\n\n# BEGIN ovs\nnew\n# END ovs\n# trailing comment\n");
    // A missing final newline in contents is added; empty contents empties the block.
    CHECK(edit_ok(f, "ovs", "a\nb") ==
          "auto lo\niface lo inet loopback\n\n# BEGIN ovs\na\nb\n# END ovs\n# trailing comment\n");
    CHECK(edit_ok(f, "ovs", "") ==
          "auto lo\niface lo inet loopback\n\n# BEGIN ovs\n# END ovs\n# trailing comment\n");
    // Idempotent.
    auto once = edit_ok(f, "ovs", "x\n");
    CHECK(edit_ok(once, "ovs", "x\n") == once);
}

TEST_CASE("CRLF lines, a missing final newline and odd bytes are preserved")
{
    std::string f = "a\r\n# BEGIN t\r\nold\r\n# END t\r\nz\x01\xff tail";
    CHECK(edit_ok(f, "t", "new\n") == "a\r\n# BEGIN t\r\nnew\n# END t\r\nz\x01\xff tail");
    std::string no_nl = "# BEGIN t\nold\n# END t";
    CHECK(edit_ok(no_nl, "t", "n") == "# BEGIN t\nn\n# END t");
    std::string adjacent = "# BEGIN t\n# END t\n";
    CHECK(edit_ok(adjacent, "t", "x\n") == "# BEGIN t\nx\n# END t\n");
    // Other tags' blocks are untouched.
    std::string two = "# BEGIN a\n1\n# END a\n# BEGIN b\n2\n# END b\n";
    CHECK(edit_ok(two, "b", "3\n") == "# BEGIN a\n1\n# END a\n# BEGIN b\n3\n# END b\n");
}

TEST_CASE("markers must be exact whole lines")
{
    // Indented or suffixed markers do not count.
    std::string f = "  # BEGIN t\n# BEGIN t \n# BEGIN tt\n# END t\n";
    CHECK(err_name(replace_block(f, "t", "x")) == bus_error::BadMarkers);
}

TEST_CASE("missing, duplicated or reversed markers are BadMarkers")
{
    CHECK(err_name(replace_block("", "t", "x")) == bus_error::BadMarkers);
    CHECK(err_name(replace_block("# BEGIN t\n", "t", "x")) == bus_error::BadMarkers);
    CHECK(err_name(replace_block("# END t\n", "t", "x")) == bus_error::BadMarkers);
    CHECK(err_name(replace_block("# BEGIN t\n# BEGIN t\n# END t\n", "t", "x")) ==
          bus_error::BadMarkers);
    CHECK(err_name(replace_block("# BEGIN t\n# END t\n# END t\n", "t", "x")) ==
          bus_error::BadMarkers);
    auto rev = replace_block("# END t\nx\n# BEGIN t\n", "t", "x");
    CHECK(err_name(rev) == bus_error::BadMarkers);
    CHECK(rev.error().message.find("before") != std::string::npos);
}

TEST_CASE("bad tags and contents with markers are InvalidArgument")
{
    std::string f = "# BEGIN t\n# END t\n";
    for (std::string tag : {std::string(), std::string("a b"), std::string("a\nb"),
                            std::string(65, 'a'), std::string("t/x"), std::string("é")}) {
        auto r = replace_block(f, tag, "x");
        CHECK(err_name(r) == bus_error::InvalidArgument);
        CHECK(r.error().message.starts_with("tag:"));
    }
    CHECK(validate_tag(std::string(64, 'a')));
    CHECK(validate_tag("a.b_c:d@e-f"));
    for (const char *c : {"# BEGIN t\n", "x\n# END t\ny", "x\r\n# END t\r\n"}) {
        auto r = replace_block(f, "t", c);
        CHECK(err_name(r) == bus_error::InvalidArgument);
        CHECK(r.error().message.starts_with("contents:"));
    }
    // Markers of another tag too: planted, they would break that block for good.
    for (const char *c : {"# BEGIN u\n", "# END u\n", "  #  end  u\r\n"}) {
        auto r = replace_block(f, "t", c);
        CHECK(err_name(r) == bus_error::InvalidArgument);
        CHECK(r.error().message.starts_with("contents:"));
    }
    // Text that only mentions them is fine.
    CHECK(edit_ok(f, "t", "# Beginning\n") == "# BEGIN t\n# Beginning\n# END t\n");
}
