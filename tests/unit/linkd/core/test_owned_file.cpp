// SPDX-License-Identifier: GPL-2.0-or-later
// The Configurator's owned.json on disk: read at start (an invalid file means nothing
// owned), replaced through write_file_atomic() when what linkd owns changes, and no
// temporary file left behind when the replacement fails. The Manager is fed by hand and
// the profile set is empty, so no request ever reaches the kernel.
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "apply_rig.hpp"
#include "net_test.hpp"
#include "configurator.hpp"
#include "profile/owned.hpp"

using namespace alopex;
using namespace alopex::linkd;
namespace fs = std::filesystem;

namespace {

struct Rig : linkd_test::ApplyRig {
    Rig() { fs::create_directory(dir / "links"); }
    fs::path owned() const { return dir / "owned.json"; }
    std::unique_ptr<Configurator> configurator()
    {
        auto c = Configurator::create(event.get(), *manager, *queue, dir / "links", owned());
        REQUIRE(c);
        return std::move(*c);
    }
};

// Owned objects on links the (empty) kernel state does not have: the first round forgets
// them, which changes what linkd owns and so rewrites the file.
profile::Owned stale()
{
    profile::Owned o;
    o.addresses.insert({77, AF_INET, test::ip("192.0.2.10"), 24});
    o.routes.insert({AF_INET, 254, test::ip("198.51.100.0"), 24, 0, 0, 77, 1});
    return o;
}

} // namespace

TEST_CASE("owned.json: read at start, replaced atomically when what linkd owns changes")
{
    Rig rig;
    { std::ofstream(rig.owned()) << profile::format_owned(stale()); }
    auto conf = rig.configurator();
    CHECK(conf->owned() == stale());
    rig.manager->handle_synced(true);
    conf->apply();
    CHECK(conf->owned() == profile::Owned{});
    auto back = profile::parse_owned(rig.read("owned.json"));
    REQUIRE(back);
    CHECK(*back == profile::Owned{});
    CHECK(rig.entries() == std::set<std::string>{"links", "owned.json"});
}

TEST_CASE("owned.json: a failed replacement leaves no temporary file and the old name alone")
{
    Rig rig;
    { std::ofstream(rig.owned()) << profile::format_owned(stale()); }
    auto conf = rig.configurator();
    REQUIRE(conf->owned() == stale());
    // The name is taken by a non-empty directory now: the rename over it fails.
    fs::remove(rig.owned());
    fs::create_directory(rig.owned());
    { std::ofstream(rig.owned() / "keep") << "x"; }
    rig.manager->handle_synced(true);
    conf->apply();
    CHECK(conf->owned() == profile::Owned{});
    CHECK(rig.entries() == std::set<std::string>{"links", "owned.json"});
    CHECK(fs::is_directory(rig.owned()));
}

TEST_CASE("owned.json: an invalid file at start means nothing owned")
{
    Rig rig;
    { std::ofstream(rig.owned()) << R"({"netdevs":[],"addresses":[[77,258,"192.0.2.10",24]],"routes":[]})"; }
    auto conf = rig.configurator();
    CHECK(conf->owned() == profile::Owned{});
}
