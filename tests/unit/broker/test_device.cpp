// SPDX-License-Identifier: GPL-2.0-or-later
// Opening a device: relative to its directory, never through a symbolic link at the name,
// and only when what was opened is a character device whose real path the glob allows.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "device.hpp"

using namespace alopex;
using namespace alopex::broker;
using alopex::test::TempDir;

namespace {
std::string err_name(const Result<Fd> &r)
{
    REQUIRE_FALSE(r);
    return r.error().bus_name;
}
} // namespace

TEST_CASE("a character device the glob allows is opened")
{
    auto fd = open_device("/dev/null", "/dev/nul?");
    REQUIRE(fd);
    struct stat st{};
    REQUIRE(fstat(fd->get(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
}

TEST_CASE("a symbolic link at the name is refused, not followed")
{
    TempDir d;
    std::filesystem::create_symlink("/dev/null", d.path / "ttyX");
    auto r = open_device(d.path / "ttyX", (d.path / "tty*").string());
    CHECK(err_name(r) == bus_error::WrongFileType);
    CHECK(r.error().message.find("symbolic link") != std::string::npos);
}

TEST_CASE("a directory that resolves outside the glob is refused before opening")
{
    TempDir d;
    std::filesystem::create_directory_symlink("/dev", d.path / "link");
    auto r = open_device(d.path / "link" / "null", (d.path / "link" / "*").string());
    CHECK(err_name(r) == bus_error::NotAuthorized);
    CHECK(r.error().message.starts_with("path:"));
}

TEST_CASE("a regular file or a missing device is not handed out")
{
    TempDir d;
    std::ofstream(d.path / "ttyR") << "not a device";
    CHECK(err_name(open_device(d.path / "ttyR", (d.path / "tty*").string())) ==
          bus_error::WrongFileType);
    CHECK(err_name(open_device(d.path / "ttyMissing", (d.path / "tty*").string())) ==
          bus_error::IOError);
    CHECK(err_name(open_device(d.path / "nodir" / "ttyA", (d.path / "nodir" / "tty*").string())) ==
          bus_error::IOError);
}
