// SPDX-License-Identifier: GPL-2.0-or-later
// alopex/daemon.hpp: argument handling, and the signals as event sources of a loop.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "alopex/daemon.hpp"

using namespace alopex;

namespace {

// Runs parse_args with stdout/stderr sent to a pipe; returns {result, what it printed}.
std::pair<std::optional<int>, std::string> parse(std::vector<std::string> args)
{
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    int p[2];
    REQUIRE(pipe(p) == 0);
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2);
    dup2(p[1], 1);
    dup2(p[1], 2);
    auto r = daemon::parse_args(static_cast<int>(args.size()), argv.data(), "alopex-test",
                                "Usage: alopex-test\n");
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    close(p[1]);
    std::string text;
    char buf[256];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0)
        text.append(buf, static_cast<size_t>(n));
    close(p[0]);
    return {r, text};
}

} // namespace

TEST_CASE("daemon arguments: none, --help, --version, anything else", "[daemon]")
{
    CHECK_FALSE(parse({"alopex-test"}).first.has_value());
    auto [h, help] = parse({"alopex-test", "--help"});
    CHECK(h == 0);
    CHECK(help == "Usage: alopex-test\n");
    CHECK(parse({"alopex-test", "-h"}).first == 0);
    auto [v, version] = parse({"alopex-test", "--version"});
    CHECK(v == 0);
    CHECK(version.starts_with("alopex-test "));
    auto [b, bad] = parse({"alopex-test", "--bogus"});
    CHECK(b == 2);
    CHECK(bad == "alopex-test: unknown argument '--bogus'\nUsage: alopex-test\n");
}

TEST_CASE("daemon signals: SIGHUP calls the reload, SIGTERM ends the loop with 0", "[daemon]")
{
    auto event = daemon::event_loop();
    REQUIRE(event);
    int hangups = 0;
    auto signals = daemon::Signals::watch(event->get(), " (test)", [&hangups] {
        if (++hangups == 1)
            throw std::runtime_error("caught by Signals, not by the loop");
        kill(getpid(), SIGTERM);
    });
    REQUIRE(signals);
    kill(getpid(), SIGHUP);   // blocked: queued for the loop's signalfd
    REQUIRE(sd_event_run(event->get(), 1'000'000) >= 0);
    CHECK(hangups == 1);
    kill(getpid(), SIGHUP);
    CHECK(daemon::run(event->get()) == 0);
    CHECK(hangups == 2);
}
