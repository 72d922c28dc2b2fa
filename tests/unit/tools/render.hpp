// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers of the alopexctl unit tests: a document rendered the ways the command line asks
// for, and golden files (tests/unit/tools/golden/NAME) compared byte for byte; with
// ALOPEX_UPDATE_GOLDEN=1 in the environment the files are rewritten instead (then review
// the diff).
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "output.hpp"

namespace alopex::test {

inline std::string render(const cli::Document &d, cli::Format::Mode mode = cli::Format::Mode::people,
                          std::string_view fields = {}, cli::Format::Layout layout = cli::Format::Layout::as_is)
{
    cli::Format f;
    f.mode = mode;
    f.layout = layout;
    if (!fields.empty())
        REQUIRE(cli::parse_fields(fields, f));
    auto r = cli::render(d, f);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r);
    return *r;
}
inline std::string people(const cli::Document &d) { return render(d); }
inline std::string terse(const cli::Document &d, std::string_view fields = {})
{
    return render(d, cli::Format::Mode::terse, fields);
}
inline std::string json_of(const cli::Document &d) { return render(d, cli::Format::Mode::json); }

// Every rendering of `d` as one text: "## people", "## terse", "## terse -f all",
// "## multiline", "## json", each followed by its output.
inline std::string all_renderings(const cli::Document &d)
{
    return "## people\n" + people(d) + "## terse\n" + terse(d) + "## terse -f all\n" + terse(d, "all") +
           "## multiline -f all\n" + render(d, cli::Format::Mode::people, "all", cli::Format::Layout::multiline) +
           "## json\n" + json_of(d);
}

inline void check_golden(const std::string &name, const std::string &text)
{
    std::string path = std::string(ALOPEX_TOOLS_GOLDEN_DIR) + "/" + name;
    if (const char *u = std::getenv("ALOPEX_UPDATE_GOLDEN"); u && std::string_view(u) == "1") {
        std::ofstream(path, std::ios::binary) << text;
        WARN("rewrote " << path);
        SUCCEED();
        return;
    }
    std::ifstream in(path, std::ios::binary);
    INFO("golden file " << path << " (ALOPEX_UPDATE_GOLDEN=1 rewrites it)");
    REQUIRE(in);
    std::ostringstream want;
    want << in.rdbuf();
    CHECK(text == want.str());
}

} // namespace alopex::test
