// SPDX-License-Identifier: GPL-2.0-or-later
// A TCP port map's backends: round robin, failover order, the circuit breaker (skipped
// after N failures in a row, retried after the skip, skipped again at once on one more
// failure, closed by a success), never an empty order; and [ports] arrays in the file.
#include <catch2/catch.hpp>

#include <vector>

#include "backend_pool.hpp"
#include "settings.hpp"

using namespace alopex;
using namespace alopex::slirp;

namespace {

std::vector<HostTarget> targets(int n)
{
    std::vector<HostTarget> out;
    for (int i = 0; i < n; ++i) {
        HostTarget t;
        t.inet = *net::parse_endpoint("127.0.0.1:" + std::to_string(8080 + i));
        out.push_back(t);
    }
    return out;
}

constexpr uint64_t s = 1'000'000;

} // namespace

TEST_CASE("backends: round robin, each order a failover list", "[slirp][backends]")
{
    BackendPool p(targets(3), {});
    CHECK(p.order(0) == std::vector<size_t>{0, 1, 2});
    CHECK(p.order(0) == std::vector<size_t>{1, 2, 0});
    CHECK(p.order(0) == std::vector<size_t>{2, 0, 1});
    CHECK(p.order(0) == std::vector<size_t>{0, 1, 2});
}

TEST_CASE("backends: the circuit breaker skips a failing backend, retries it after, closes on success",
          "[slirp][backends]")
{
    BackendPool p(targets(2), {.failures = 2, .skip_usec = 30 * s});
    uint64_t t = 100 * s;
    p.failed(1, t);
    CHECK(BackendPool::state(p.backends()[1], t) == "up");   // one failure: still tried
    p.failed(1, t);
    CHECK(BackendPool::state(p.backends()[1], t) == "skipped");
    for (int i = 0; i < 4; ++i)
        CHECK(p.order(t + 10 * s) == std::vector<size_t>{0});
    // After the skip, tried again; one failure skips it again at once.
    auto o = p.order(t + 31 * s);
    CHECK(o.size() == 2);
    CHECK(BackendPool::state(p.backends()[1], t + 31 * s) == "retrying");
    p.failed(1, t + 31 * s);
    CHECK(BackendPool::state(p.backends()[1], t + 32 * s) == "skipped");
    CHECK(p.order(t + 32 * s) == std::vector<size_t>{0});
    // The next retry succeeds: closed, its count of failures in a row back to 0.
    p.order(t + 62 * s);
    p.succeeded(1);
    CHECK(BackendPool::state(p.backends()[1], t + 62 * s) == "up");
    CHECK(p.backends()[1].failures == 0);
    CHECK(p.backends()[1].failed == 3);
    CHECK(p.backends()[1].connects == 1);
}

TEST_CASE("backends: all skipped, the one whose skip ends first is still tried", "[slirp][backends]")
{
    BackendPool p(targets(3), {.failures = 1, .skip_usec = 30 * s});
    p.failed(0, 10 * s);
    p.failed(1, 5 * s);
    p.failed(2, 20 * s);
    CHECK(p.order(21 * s) == std::vector<size_t>{1});
    BackendPool one(targets(1), {.failures = 1, .skip_usec = 30 * s});
    one.failed(0, 0);
    CHECK(one.order(1 * s) == std::vector<size_t>{0});
}

TEST_CASE("backends: [ports] arrays and [backends] in alopex-slirp.toml", "[slirp][backends][settings]")
{
    auto st = parse_settings("[ports]\n\"10.0.0.1:80\" = [\"127.0.0.1:8080\", \"unix:/run/a.sock\"]\n"
                             "\"10.0.0.1:22\" = \"127.0.0.1:22\"\n[backends]\nfailures = 5\nskip = 60\n",
                             "slirp.toml");
    REQUIRE(st);
    REQUIRE(st->tcp_ports.size() == 2);
    CHECK(st->tcp_ports[0].targets_text() == "127.0.0.1:8080, unix:/run/a.sock");
    CHECK(st->tcp_ports[0].targets().size() == 2);
    CHECK(st->tcp_ports[1].more_targets.empty());
    CHECK(st->backends.failures == 5);
    CHECK(st->backends.skip_usec == 60 * s);
    auto refusal = [](const char *text) {
        auto r = parse_settings(text, "slirp.toml");
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK(refusal("[ports]\n\"10.0.0.1:80\" = []\n") == "slirp.toml:2:17: '10.0.0.1:80': from 1 to 16 backends, not 0");
    CHECK(refusal("[udp_ports]\n\"10.0.0.1:53\" = [\"127.0.0.1:53\"]\n").find("TCP maps only") != std::string::npos);
    CHECK(refusal("[ports]\n\"10.0.0.1:80\" = [\"127.0.0.1:8080\", 3]\n").starts_with("slirp.toml:2:"));
    CHECK(refusal("[ports]\n\"10.0.0.1:80\" = [\"0.0.0.0:1\"]\n").find("cannot be connected to") != std::string::npos);
    CHECK(refusal("[backends]\nfailures = 0\n").starts_with("slirp.toml:2:12: 'failures'"));
    CHECK(refusal("[backends]\nretries = 1\n").starts_with("slirp.toml:2:1: unknown key 'retries'"));
}
