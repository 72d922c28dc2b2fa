// SPDX-License-Identifier: GPL-2.0-or-later
// Directory loading: file-name order, which files count, all-or-nothing failure.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "alopex/config.hpp"
#include "profile.hpp"

using namespace alopex::linkd::profile;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir()
    {
        char tmpl[] = "/tmp/alopex-profile-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() { fs::remove_all(path); }
    void write(const std::string &name, const std::string &text) const
    {
        std::ofstream(path / name) << text;
    }
};

} // namespace

TEST_CASE("a directory loads *.toml in file-name order", "[linkd][profile]")
{
    TempDir d;
    d.write("20-b.toml", "[match]\nname = \"b*\"\n");
    d.write("10-a.toml", "[match]\nname = \"a*\"\n");
    d.write("15-br.toml", "[netdev]\nname = \"br0\"\nkind = \"bridge\"\n");
    d.write("30-c.toml.bak", "garbage [");
    d.write(".40-hidden.toml", "garbage [");
    d.write("README", "garbage [");
    fs::create_directory(d.path / "50-dir.toml");
    fs::create_symlink(d.path / "20-b.toml", d.path / "25-link.toml");
    auto p = load_directory(d.path);
    if (!p)
        FAIL(p.error().message);
    REQUIRE(p->links.size() == 3);
    CHECK(p->links[0].match.name == "a*");
    CHECK(p->links[0].file == (d.path / "10-a.toml").string());
    CHECK(p->links[1].match.name == "b*");
    CHECK(p->links[2].file == (d.path / "25-link.toml").string());
    REQUIRE(p->netdevs.size() == 1);
    CHECK(p->netdevs[0].file == (d.path / "15-br.toml").string());
}

TEST_CASE("one bad file fails the whole directory; the last good set stays", "[linkd][profile]")
{
    TempDir d;
    d.write("10-a.toml", "[match]\nname = \"a*\"\n");
    alopex::config::LastGood<Profiles> held;
    REQUIRE(held.update(load_directory(d.path)));
    CHECK(held->links.size() == 1);

    d.write("20-b.toml", "[match]\nname = \"b*\"\n[link]\nmtu = 9\n");
    auto r = held.update(load_directory(d.path));
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with((d.path / "20-b.toml").string() + ":4:"));
    CHECK(held->links.size() == 1);
    CHECK(held.generation() == 1);

    d.write("20-b.toml", "[netdev]\nname = \"br0\"\nkind = \"bridge\"\n");
    d.write("30-c.toml", "[netdev]\nname = \"br0\"\nkind = \"bond\"\n");
    auto dup = load_directory(d.path);
    REQUIRE_FALSE(dup);
    CHECK(dup.error().message == fmt::format("{}: netdev 'br0' is already defined in {}",
                                             (d.path / "30-c.toml").string(),
                                             (d.path / "20-b.toml").string()));
}

TEST_CASE("a missing directory is an empty set; a missing file is an error", "[linkd][profile]")
{
    auto p = load_directory("/nonexistent/alopex/links");
    REQUIRE(p);
    CHECK(p->links.empty());
    CHECK(p->netdevs.empty());
    auto f = load_file("/nonexistent/alopex/links/x.toml");
    REQUIRE_FALSE(f);
    CHECK(f.error().message.starts_with("/nonexistent/alopex/links/x.toml"));
}
