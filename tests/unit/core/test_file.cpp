// SPDX-License-Identifier: GPL-2.0-or-later
// write_file_atomic / read_regular_file_at: replacement, modes, symlinks, no leftovers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "alopex/fd.hpp"
#include "alopex/file.hpp"

using namespace alopex;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir()
    {
        std::string t = (fs::temp_directory_path() / "alopex-file-XXXXXX").string();
        REQUIRE(mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    size_t entries() const
    {
        size_t n = 0;
        for ([[maybe_unused]] const auto &e : fs::directory_iterator(path))
            ++n;
        return n;
    }
};

mode_t mode_of(const fs::path &p)
{
    struct stat st{};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

} // namespace

TEST_CASE("write_file_atomic creates, replaces and leaves no temporary file")
{
    TempDir d;
    auto f = d.path / "state.json";
    REQUIRE(write_file_atomic(f, "one", {.mode = 0600}));
    CHECK(read_regular_file(f).value() == "one");
    CHECK(mode_of(f) == 0600);
    REQUIRE(::chmod(f.c_str(), 0640) == 0);
    REQUIRE(write_file_atomic(f, "two\n", {.mode = 0600, .datasync = true}));
    CHECK(read_regular_file(f).value() == "two\n");
    CHECK(mode_of(f) == 0640);   // an existing file keeps its mode
    CHECK(d.entries() == 1);
    REQUIRE(write_file_atomic(f, ""));
    CHECK(read_regular_file(f).value().empty());
}

TEST_CASE("write_file_atomic replaces a symlink at the target and never writes through it")
{
    TempDir d;
    auto victim = d.path / "victim";
    REQUIRE(write_file_atomic(victim, "untouched"));
    auto link = d.path / "managed";
    fs::create_symlink(victim, link);
    REQUIRE(write_file_atomic(link, "new"));
    CHECK(read_regular_file(victim).value() == "untouched");
    CHECK_FALSE(fs::is_symlink(link));
    CHECK(read_regular_file(link).value() == "new");
}

TEST_CASE("write_file_atomic fails cleanly and names the path")
{
    TempDir d;
    auto r = write_file_atomic(d.path / "missing-dir" / "f", "x");
    REQUIRE_FALSE(r);
    CHECK(r.error().bus_name == bus_error::IOError);
    CHECK(r.error().message.find("missing-dir") != std::string::npos);
    CHECK(d.entries() == 0);

    // A directory at the target: the rename fails, the temporary file is removed.
    fs::create_directory(d.path / "adir");
    auto r2 = write_file_atomic(d.path / "adir", "x");
    REQUIRE_FALSE(r2);
    CHECK(r2.error().message.find("adir") != std::string::npos);
    CHECK(d.entries() == 1);

    Fd dfd(::open(d.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(dfd);
    for (const char *bad : {"", ".", "..", "a/b"})
        CHECK_FALSE(write_file_atomic_at(dfd.get(), d.path.string(), bad, "x"));
    CHECK(d.entries() == 1);
}

TEST_CASE("read_regular_file_at refuses symlinks, FIFOs and names with a slash")
{
    TempDir d;
    REQUIRE(write_file_atomic(d.path / "real", "data"));
    fs::create_symlink(d.path / "real", d.path / "link");
    REQUIRE(::mkfifo((d.path / "fifo").c_str(), 0600) == 0);
    Fd dfd(::open(d.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(dfd);
    CHECK(read_regular_file_at(dfd.get(), "real").value() == "data");
    auto l = read_regular_file_at(dfd.get(), "link");
    REQUIRE_FALSE(l);
    CHECK(l.error().code == ELOOP);
    auto f = read_regular_file_at(dfd.get(), "fifo");
    REQUIRE_FALSE(f);
    CHECK(f.error().message.find("not a regular file") != std::string::npos);
    CHECK_FALSE(read_regular_file_at(dfd.get(), "../real"));
    auto big = read_regular_file_at(dfd.get(), "real", 2);
    REQUIRE_FALSE(big);
    CHECK(big.error().code == EFBIG);
    REQUIRE(fsync_directory(d.path));
}
