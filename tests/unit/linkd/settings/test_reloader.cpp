// SPDX-License-Identifier: GPL-2.0-or-later
// The Reloader (Reload() and SIGHUP): linkd.toml and the profiles each refused or taken
// on their own terms, both errors returned when both fail; Reload() answered once the
// profiles are in force.
#include <functional>
#include <optional>
#include <vector>

#include <catch2/catch.hpp>

#include "reloader.hpp"

using namespace alopex;
using namespace alopex::linkd;

namespace {

struct Rig {
    Result<Settings> settings = Settings{};
    Result<> profiles;
    std::vector<Settings> applied;
    int profile_reloads = 0;
    std::vector<std::function<void()>> waiting;   // when_applied's callbacks, held
    Settings started;
    Reloader reloader{{.load_settings = [this] { return settings; },
                       .apply_settings = [this](const Settings &s) { applied.push_back(s); },
                       .reload_profiles =
                           [this] {
                               ++profile_reloads;
                               return profiles;
                           },
                       .when_applied = [this](std::function<void()> then) { waiting.push_back(std::move(then)); }},
                      started};
};

} // namespace

TEST_CASE("both good: the settings are applied, the profiles reloaded, success")
{
    Rig r;
    Settings s;
    s.interval = std::chrono::seconds(30);
    r.settings = s;
    CHECK(r.reloader.reload());
    REQUIRE(r.applied.size() == 1);
    CHECK(r.applied[0].interval == std::chrono::seconds(30));
    CHECK(r.profile_reloads == 1);
}

TEST_CASE("a bad linkd.toml is refused and returned, the profiles are reloaded anyway")
{
    Rig r;
    r.settings = fail(EINVAL, "linkd.toml:3:1: bad");
    auto res = r.reloader.reload();
    REQUIRE_FALSE(res);
    CHECK(res.error().message == "linkd.toml:3:1: bad");
    CHECK(r.applied.empty());
    CHECK(r.profile_reloads == 1);
}

TEST_CASE("bad profiles: the settings still apply, the profiles' error is returned")
{
    Rig r;
    r.profiles = fail(EINVAL, "links/a.toml:1:1: bad");
    auto res = r.reloader.reload();
    REQUIRE_FALSE(res);
    CHECK(res.error().message == "links/a.toml:1:1: bad");
    CHECK(r.applied.size() == 1);
}

TEST_CASE("both bad: one error naming both")
{
    Rig r;
    r.settings = fail(EINVAL, "linkd.toml:3:1: bad");
    r.profiles = fail(EINVAL, "links/a.toml:1:1: bad");
    auto res = r.reloader.reload();
    REQUIRE_FALSE(res);
    CHECK(res.error().message.find("linkd.toml:3:1: bad") != std::string::npos);
    CHECK(res.error().message.find("links/a.toml:1:1: bad") != std::string::npos);
    CHECK(r.applied.empty());
}

TEST_CASE("a changed receive buffer is taken (and waits for the next start), not refused")
{
    Rig r;
    Settings s;
    s.receive_buffer = r.started.receive_buffer * 2;
    r.settings = s;
    CHECK(r.reloader.reload());
    CHECK(r.applied.size() == 1);
}

TEST_CASE("Reload(): answered with the result once the profiles are in force, not before")
{
    Rig r;
    r.settings = fail(EINVAL, "linkd.toml:3:1: bad");
    std::optional<Result<>> got;
    r.reloader.reload([&](Result<> res) { got = std::move(res); });
    CHECK(r.profile_reloads == 1);
    CHECK_FALSE(got.has_value());   // the profile round has not been answered yet
    REQUIRE(r.waiting.size() == 1);
    r.waiting[0]();
    REQUIRE(got.has_value());
    REQUIRE_FALSE(*got);
    CHECK(got->error().message.find("linkd.toml:3:1: bad") != std::string::npos);
}
