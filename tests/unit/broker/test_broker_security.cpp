// SPDX-License-Identifier: GPL-2.0-or-later
// The broker's answers to a hostile caller: a block is reached only through its own id
// and configured tag, holds only what its validator allows and never another block's
// markers; symbolic links at managed names and devices are not followed; unknown and
// forbidden ids and devices look the same. Every refusal changes nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "broker.hpp"
#include "broker_fixture.hpp"

using namespace alopex;
using namespace alopex::broker;
using alopex::test::Fixture;

namespace {
template <typename T> Error refused(const Result<T> &r)
{
    REQUIRE_FALSE(r);
    return r.error();
}
} // namespace

TEST_CASE("a block's tag is the one broker.toml binds to its id")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    const std::string before = f.slurp("interfaces");
    // "other" has markers in the same file, but it is not the tag of id "interfaces".
    auto e = refused(b.write_block(f.me, "interfaces", "other", "auto x\n"));
    CHECK(e.bus_name == bus_error::InvalidArgument);
    CHECK(e.message == "tag: block 'interfaces' has tag 'ovs', not 'other'");
    CHECK(f.slurp("interfaces") == before);
    CHECK(f.records().empty());
    REQUIRE(b.write_block(f.me, "interfaces", "ovs", "auto x\n"));
}

TEST_CASE("contents cannot plant markers of another block")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    const std::string before = f.slurp("interfaces");
    for (const char *c : {"# BEGIN other\n", "auto x\n# END other\n", "# BEGIN ovs2\n",
                          "#END other\n"}) {
        INFO(c);
        auto e = refused(b.write_block(f.me, "interfaces", "ovs", c));
        CHECK(e.bus_name == bus_error::InvalidArgument);
        CHECK(e.message.starts_with("contents:"));
    }
    CHECK(f.slurp("interfaces") == before);
    CHECK(f.records().empty());
}

TEST_CASE("an interfaces block cannot hold a command ifupdown would run as root")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    const std::string before = f.slurp("interfaces");
    for (const char *c : {"iface vi1 inet manual\n  up touch /pwned\n",
                          "iface vi1 inet manual\n  post-up touch /pwned\n",
                          "iface vi1 inet manual\n  ovs_extra x=$(touch /pwned)\n",
                          "source /tmp/evil\n", "  pre-up touch /pwned\n"}) {
        INFO(c);
        auto e = refused(b.write_block(f.me, "interfaces", "ovs", c));
        CHECK(e.bus_name == bus_error::InvalidArgument);
        CHECK(e.message.starts_with("contents: line "));
    }
    CHECK(f.slurp("interfaces") == before);
    CHECK(f.records().empty());
}

TEST_CASE("a symbolic link at a block's path is not followed")
{
    Fixture f;
    std::ofstream(f.dir / "elsewhere") << "secret\n# BEGIN ovs\n# END ovs\n";
    std::filesystem::remove(f.dir / "interfaces");
    std::filesystem::create_symlink(f.dir / "elsewhere", f.dir / "interfaces");
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    auto e = refused(b.write_block(f.me, "interfaces", "ovs", "auto x\n"));
    CHECK(e.bus_name == bus_error::IOError);
    CHECK(std::filesystem::is_symlink(f.dir / "interfaces"));
    CHECK(f.slurp("elsewhere") == "secret\n# BEGIN ovs\n# END ovs\n");
    CHECK(f.records().empty());
}

TEST_CASE("a symbolic link at a managed file's path is replaced, never written through")
{
    Fixture f;
    std::ofstream(f.dir / "elsewhere") << "untouched";
    std::filesystem::create_symlink(f.dir / "elsewhere", f.dir / "resolv.conf");
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    REQUIRE(b.write_file(f.me, "resolv.conf", "nameserver ::1\n"));
    CHECK_FALSE(std::filesystem::is_symlink(f.dir / "resolv.conf"));
    CHECK(f.slurp("resolv.conf") == "nameserver ::1\n");
    CHECK(f.slurp("elsewhere") == "untouched");
}

TEST_CASE("OpenDevice does not follow a symbolic link inside an allowed glob")
{
    Fixture f;
    std::filesystem::create_symlink("/dev/null", f.dir / "regsym"); // matches <dir>/reg*
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    auto e = refused(b.open_device(f.me, (f.dir / "regsym").string()));
    CHECK(e.bus_name == bus_error::WrongFileType);
    CHECK(f.records().empty());
}

TEST_CASE("unknown ids and devices look like forbidden ones")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    auto shape = [](Error e, const std::string &arg) {
        auto pos = e.message.find(arg);
        REQUIRE(pos != std::string::npos);
        return e.bus_name + ": " + e.message.erase(pos, arg.size());
    };
    // A known id the caller may not write, and an id that does not exist.
    auto known = refused(b.write_file(f.other, "resolv.conf", "x"));
    auto unknown = refused(b.write_file(f.other, "no-such-id", "x"));
    CHECK(shape(known, "resolv.conf") == shape(unknown, "no-such-id"));
    CHECK(known.bus_name == bus_error::NotAuthorized);
    auto known_b = refused(b.write_block(f.other, "interfaces", "ovs", "x"));
    auto unknown_b = refused(b.write_block(f.other, "no-such-id", "ovs", "x"));
    CHECK(shape(known_b, "interfaces") == shape(unknown_b, "no-such-id"));
    // The caller listed for the table itself gets the same answer for an unknown id.
    auto mine_unknown = refused(b.write_file(f.me, "no-such-id", "x"));
    CHECK(mine_unknown.bus_name == bus_error::NotAuthorized);
    // A device glob listing somebody else, and a path no glob matches.
    auto dev_known = refused(b.open_device(f.other, "/dev/null"));
    auto dev_unknown = refused(b.open_device(f.other, "/dev/zero"));
    CHECK(shape(dev_known, "/dev/null") == shape(dev_unknown, "/dev/zero"));
    CHECK(dev_known.bus_name == bus_error::NotAuthorized);
    CHECK(f.records().empty());
}
