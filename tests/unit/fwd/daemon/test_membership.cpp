// SPDX-License-Identifier: GPL-2.0-or-later
// The Manager's zone membership over the netlink Monitor with a fake kernel behind it
// (tests/unit/netlink/fake_kernel.hpp) and a recording nf_tables backend: events cost
// what they change. A burst of address events read in one go is one element batch; an
// address on a link in no zone costs no batch; a rename moves the interface in one batch;
// the membership is read from the monitor's state.
#include <stdlib.h>

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "compile/compile.hpp"
#include "config/config.hpp"
#include "fake_kernel.hpp"
#include "manager.hpp"

using namespace alopex;
using namespace alopex::fwd;
namespace nt = alopex::netlink::test;

namespace {

constexpr const char *config_text = R"(
[zones.wan]
interfaces = ["tw*"]
input = "drop"
forward = "drop"

[zones.lan]
interfaces = ["tl*"]
input = "accept"
forward = "drop"
)";

// Completes every request at once, inside the call (the Manager must not mind).
struct Recording final : nft::Backend {
    size_t full = 0;
    std::vector<std::vector<nft::ElementOp>> batches;
    void apply(nft::Ruleset, Done done) override
    {
        ++full;
        done({});
    }
    void apply(std::vector<nft::ElementOp> ops, Done done) override
    {
        batches.push_back(std::move(ops));
        done({});
    }
    void counters(CountersDone done) override { done(std::map<std::string, nft::CounterValue>{}); }
};

struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        std::string t = (std::filesystem::temp_directory_path() / "alopex-fwd-XXXXXX").string();
        REQUIRE(mkdtemp(t.data()));
        path = t;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

struct Rig {
    TempDir dir;
    EventPtr ev;
    std::unique_ptr<nt::FakeKernel> kernel;
    Recording *backend = nullptr;
    std::unique_ptr<Manager> m;

    Rig()
    {
        sd_event *e = nullptr;
        REQUIRE(sd_event_new(&e) >= 0);
        ev.reset(e);
        sd_event_run(e, 0);
        kernel = std::make_unique<nt::FakeKernel>(e);
    }
    void start(uint64_t max_coalesce_us = 100'000)
    {
        auto model = fwd::config::parse(config_text, "firewall.toml");
        REQUIRE(model);
        auto b = std::make_unique<Recording>();
        backend = b.get();
        ManagerOptions o;
        o.config_file = dir.path / "firewall.toml";
        o.state_file = dir.path / "runtime.json";
        o.max_coalesce_us = max_coalesce_us;
        auto mgr = Manager::create(ev.get(), nullptr, std::move(*model), std::move(b), std::move(o),
                                   kernel->transport());
        REQUIRE(mgr);
        m = std::move(*mgr);
        run_until([&] { return m->ready(); });
    }
    template <typename P> void run_until(P pred)
    {
        for (int i = 0; i < 500 && !pred(); ++i)
            REQUIRE(sd_event_run(ev.get(), 10'000) >= 0);
        REQUIRE(pred());
    }
    // Dispatches until nothing is pending any more.
    void settle()
    {
        for (int i = 0; i < 100; ++i)
            REQUIRE(sd_event_run(ev.get(), 0) >= 0);
    }
    size_t hosts(const std::string &zone) const
    {
        auto it = m->membership().addresses.find(zone);
        return it == m->membership().addresses.end() ? 0 : it->second.size();
    }
};

std::string addr(int i) { return fmt::format("10.{}.{}.1", i / 200, i % 200 + 1); }

} // namespace

TEST_CASE("a burst of address events on zone links is one element batch")
{
    Rig r;
    r.kernel->change(nt::new_link(2, "tw0"));
    r.kernel->change(nt::new_link(3, "tl0"));
    r.start();
    REQUIRE(r.backend->full == 1);
    REQUIRE(r.m->membership().interfaces == std::map<std::string, std::string>{{"tl0", "lan"}, {"tw0", "wan"}});
    const size_t before = r.backend->batches.size();
    const uint64_t gen = r.m->generation();

    constexpr int n = 300;   // more than the monitor reads in one dispatch
    for (int i = 0; i < n; ++i)
        r.kernel->change(nt::new_addr(i % 2 ? 2 : 3, addr(i).c_str(), 16));
    r.run_until([&] { return r.hosts("wan") + r.hosts("lan") == size_t(n); });
    r.settle();
    CHECK(r.backend->batches.size() == before + 1);
    CHECK(r.m->generation() == gen + 1);
    size_t per = compile::address_ops("wan", *net::Address::parse(addr(0)), true).size();
    REQUIRE(!r.backend->batches.empty());
    CHECK(r.backend->batches.back().size() == n * per);
    CHECK(r.hosts("wan") == n / 2);
    CHECK(r.hosts("lan") == n / 2);
    uint64_t samples = 0;
    for (const auto &[_, c] : r.m->histogram().buckets())
        samples += c;
    CHECK(samples == 1);   // one batch, one latency sample

    // And all of them going: one batch again.
    for (int i = 0; i < n; ++i) {
        auto msg = nt::addr_msg(RTM_DELADDR, AF_INET, i % 2 ? 2 : 3, addr(i).c_str(), 16);
        r.kernel->change(msg);
    }
    r.run_until([&] { return r.hosts("wan") + r.hosts("lan") == 0; });
    r.settle();
    CHECK(r.backend->batches.size() == before + 2);
    CHECK(r.backend->batches.back().size() == n * per);
    CHECK(r.m->membership().addresses.empty());
    CHECK(r.backend->full == 1);
}

TEST_CASE("events on links in no zone cost no batch; a rename moves the interface in one batch")
{
    Rig r;
    r.kernel->change(nt::new_link(2, "tw0"));
    r.kernel->change(nt::new_link(4, "eth9"));   // matches no zone, and there is no default
    r.start();
    const size_t before = r.backend->batches.size();
    for (int i = 0; i < 50; ++i)
        r.kernel->change(nt::new_addr(4, addr(i).c_str(), 16));
    r.run_until([&] { return r.m->generation() > 0 && r.kernel->idle(); });
    r.settle();
    CHECK(r.backend->batches.size() == before);
    CHECK(r.m->membership().links.size() == 1);

    // eth9 renamed into the lan pattern: its 50 addresses and its name, one batch.
    r.kernel->change(nt::new_link(4, "tl9"));
    r.run_until([&] { return r.m->membership().interfaces.contains("tl9"); });
    r.settle();
    CHECK(r.backend->batches.size() == before + 1);
    CHECK(r.hosts("lan") == 50);
    CHECK(r.m->membership().links.at(4).name == "tl9");

    // And out again (renamed to something in no zone): the name and the addresses leave.
    r.kernel->change(nt::new_link(4, "xx9"));
    r.run_until([&] { return !r.m->membership().interfaces.contains("tl9"); });
    r.settle();
    CHECK(r.backend->batches.size() == before + 2);
    CHECK(r.hosts("lan") == 0);
    CHECK_FALSE(r.m->membership().links.contains(4));
}

TEST_CASE("the membership from the monitor's state equals a full recomputation after a mixed burst")
{
    Rig r;
    r.kernel->change(nt::new_link(2, "tw0"));
    r.kernel->change(nt::new_link(3, "tl0"));
    r.kernel->change(nt::new_link(5, "tw5"));
    r.start();
    // Adds, deletes, a link removed with its addresses, one address on two links.
    for (int i = 0; i < 40; ++i)
        r.kernel->change(nt::new_addr(2 + i % 2, addr(i).c_str(), 16));
    r.kernel->change(nt::new_addr(5, addr(0).c_str(), 24));
    r.kernel->change(nt::new_addr(5, addr(100).c_str(), 24));
    for (int i = 0; i < 10; ++i)
        r.kernel->change(nt::addr_msg(RTM_DELADDR, AF_INET, 2 + i % 2, addr(i).c_str(), 16));
    r.kernel->change(nt::del_link(3));
    r.run_until([&] { return r.kernel->idle() && !r.m->membership().interfaces.contains("tl0"); });
    r.settle();
    // tw0 holds addr(10..38 even) plus tw5's two, addr(0) once though on both links.
    CHECK(r.hosts("lan") == 0);
    CHECK(r.hosts("wan") == 15 + 2);
    CHECK(r.m->membership().interfaces == std::map<std::string, std::string>{{"tw0", "wan"}, {"tw5", "wan"}});
}

TEST_CASE("a flood that never lets the socket run dry does not hold the batch back")
{
    Rig r;
    r.kernel->change(nt::new_link(2, "tw0"));
    r.start(1);   // events wait at most 1 us for more: every read of the burst flushes
    const size_t before = r.backend->batches.size();
    constexpr int n = 300;
    for (int i = 0; i < n; ++i)
        r.kernel->change(nt::new_addr(2, addr(i).c_str(), 16));
    r.run_until([&] { return r.hosts("wan") == size_t(n); });
    r.settle();
    CHECK(r.backend->batches.size() > before + 1);   // flushed while the burst went on
    size_t sent = 0;
    for (size_t i = before; i < r.backend->batches.size(); ++i)
        sent += r.backend->batches[i].size();
    size_t per = compile::address_ops("wan", *net::Address::parse(addr(0)), true).size();
    CHECK(sent == n * per);   // each address once, none lost
}
