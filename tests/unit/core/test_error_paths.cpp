// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstdlib>

#include <catch2/catch.hpp>

#include "alopex/error.hpp"
#include "alopex/paths.hpp"
#include "alopex/subscribers.hpp"

using namespace alopex;

static Result<int> parse_positive(int v)
{
    if (v <= 0)
        return bus_fail(bus_error::InvalidArgument, "ifindex: must be > 0, got {}", v);
    return v;
}

TEST_CASE("Result carries values and named errors")
{
    REQUIRE(parse_positive(3).value() == 3);
    auto bad = parse_positive(-1);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().bus_name == bus_error::InvalidArgument);
    CHECK(bad.error().message == "ifindex: must be > 0, got -1");
    CHECK(failf(-ENOENT, "x {}", 1).error().code == ENOENT);
}

TEST_CASE("paths follow systemd's environment, first entry wins")
{
    setenv("CONFIGURATION_DIRECTORY", "/tmp/a:/tmp/b", 1);
    CHECK(paths::config_dir() == "/tmp/a");
    unsetenv("CONFIGURATION_DIRECTORY");
    CHECK(paths::config_dir() == "/etc/alopex");
    unsetenv("STATE_DIRECTORY");
    CHECK(paths::state_dir("broker") == "/var/lib/alopex/broker");
    setenv("RUNTIME_DIRECTORY", "/tmp/rt", 1);
    CHECK(paths::runtime_dir("broker") == "/tmp/rt");
    unsetenv("RUNTIME_DIRECTORY");
    CHECK(paths::runtime_dir("linkd") == "/run/alopex/linkd");
}

TEST_CASE("Subscribers call every subscriber in order; removal and re-entrant adds are safe")
{
    alopex::Subscribers<int, const std::string &> s;
    std::vector<std::string> seen;
    auto a = s.add([&](int n, const std::string &w) { seen.push_back(fmt::format("a{}{}", n, w)); });
    s.add([&](int n, const std::string &) {
        seen.push_back(fmt::format("b{}", n));
        if (n == 1)
            s.add([&](int m, const std::string &) { seen.push_back(fmt::format("c{}", m)); });
    });
    s(1, "x");
    CHECK(seen == std::vector<std::string>{"a1x", "b1"});
    s.remove(a);
    seen.clear();
    s(2, "y");
    CHECK(seen == std::vector<std::string>{"b2", "c2"});
    CHECK(s.size() == 2);
}
