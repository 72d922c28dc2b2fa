// SPDX-License-Identifier: GPL-2.0-or-later
// A managed file's place: its directory opened once, its name never followed if it is a
// symbolic link; reading is bounded and every failure is IOError. (Writing is libcommon's
// write_file_atomic_at, tested in tests/unit/core/test_file.cpp.)
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "managed_file.hpp"

using namespace alopex;
using namespace alopex::broker;
using alopex::test::TempDir;

TEST_CASE("a target is read through its directory, bounded")
{
    TempDir d;
    std::string bytes("\0\xff\r\n\x01", 5);
    std::ofstream(d.path / "b", std::ios::binary) << bytes;
    auto t = open_target(d.path / "b");
    REQUIRE(t);
    CHECK(t->name == "b");
    CHECK(t->dir_name == d.path.string());
    auto r = read_target(*t, 100);
    REQUIRE(r);
    CHECK(*r == bytes);
    auto small = read_target(*t, 2);
    REQUIRE_FALSE(small);
    CHECK(small.error().bus_name == bus_error::IOError);
    CHECK(small.error().message.starts_with((d.path / "b").string() + ":"));
}

TEST_CASE("a symbolic link at the name is not followed")
{
    TempDir d;
    std::ofstream(d.path / "secret") << "# BEGIN ovs\n# END ovs\n";
    std::filesystem::create_symlink(d.path / "secret", d.path / "interfaces");
    auto t = open_target(d.path / "interfaces");
    REQUIRE(t);
    auto r = read_target(*t, 100);
    REQUIRE_FALSE(r);
    CHECK(r.error().bus_name == bus_error::IOError);
    CHECK(r.error().code == ELOOP);
}

TEST_CASE("missing directories, relative paths, FIFOs and directories are IOError")
{
    TempDir d;
    auto missing = open_target(d.path / "missing-dir" / "f");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().bus_name == bus_error::IOError);
    auto rel = open_target("relative/f");
    REQUIRE_FALSE(rel);
    CHECK(rel.error().bus_name == bus_error::IOError);
    REQUIRE(mkfifo((d.path / "fifo").c_str(), 0600) == 0);
    std::filesystem::create_directory(d.path / "dir");
    for (const char *name : {"fifo", "dir", "nope"}) {
        INFO(name);
        auto t = open_target(d.path / name);
        REQUIRE(t);
        auto r = read_target(*t, 10); // a FIFO must not block
        REQUIRE_FALSE(r);
        CHECK(r.error().bus_name == bus_error::IOError);
    }
}
