// SPDX-License-Identifier: GPL-2.0-or-later
// The atomic writer: content replaced, mode kept, configured mode for new files, no temp
// files left behind, failures reported as IOError.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "managed_file.hpp"

using namespace alopex;
using namespace alopex::broker;

namespace {
struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        char tmpl[] = "/tmp/alopex-broker-test-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};
std::string slurp(const std::filesystem::path &p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
mode_t mode_of(const std::filesystem::path &p)
{
    struct stat st{};
    REQUIRE(stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}
size_t entries(const std::filesystem::path &d)
{
    size_t n = 0;
    for ([[maybe_unused]] auto &e : std::filesystem::directory_iterator(d))
        ++n;
    return n;
}
} // namespace

TEST_CASE("a new file gets the configured mode")
{
    TempDir d;
    auto p = d.path / "resolv.conf";
    REQUIRE(write_atomic(p, "nameserver 127.0.0.1\n", 0640));
    CHECK(slurp(p) == "nameserver 127.0.0.1\n");
    CHECK(mode_of(p) == 0640);
    CHECK(entries(d.path) == 1);
}

TEST_CASE("an existing file keeps its mode and is replaced whole")
{
    TempDir d;
    auto p = d.path / "f";
    {
        std::ofstream(p) << "a much longer old content\n";
    }
    REQUIRE(chmod(p.c_str(), 0604) == 0);
    struct stat before{};
    REQUIRE(stat(p.c_str(), &before) == 0);
    REQUIRE(write_atomic(p, "new", 0600));
    CHECK(slurp(p) == "new");
    CHECK(mode_of(p) == 0604);
    struct stat after{};
    REQUIRE(stat(p.c_str(), &after) == 0);
    CHECK(after.st_ino != before.st_ino); // renamed over, not rewritten in place
    CHECK(after.st_uid == before.st_uid);
    REQUIRE(write_atomic(p, std::string(), 0600));
    CHECK(slurp(p).empty());
    CHECK(entries(d.path) == 1);
}

TEST_CASE("binary contents round-trip")
{
    TempDir d;
    std::string bytes("\0\xff\r\n\x01", 5);
    REQUIRE(write_atomic(d.path / "b", bytes, 0644));
    CHECK(slurp(d.path / "b") == bytes);
    auto r = read_bounded(d.path / "b", 100);
    REQUIRE(r);
    CHECK(*r == bytes);
    auto small = read_bounded(d.path / "b", 2);
    REQUIRE_FALSE(small);
    CHECK(small.error().bus_name == bus_error::IOError);
}

TEST_CASE("failures are IOError and leave nothing behind")
{
    TempDir d;
    auto r = write_atomic(d.path / "missing-dir" / "f", "x", 0644);
    REQUIRE_FALSE(r);
    CHECK(r.error().bus_name == bus_error::IOError);
    // A directory in the way: rename fails, the temp file is removed.
    std::filesystem::create_directory(d.path / "dir");
    std::ofstream(d.path / "dir" / "inner") << "x";
    auto r2 = write_atomic(d.path / "dir", "x", 0644);
    REQUIRE_FALSE(r2);
    CHECK(r2.error().bus_name == bus_error::IOError);
    CHECK(entries(d.path) == 1);
    auto r3 = read_bounded(d.path / "nope", 10);
    REQUIRE_FALSE(r3);
    CHECK(r3.error().bus_name == bus_error::IOError);
    CHECK_FALSE(read_bounded(d.path / "dir", 10));
}
