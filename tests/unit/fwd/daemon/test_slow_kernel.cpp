// SPDX-License-Identifier: GPL-2.0-or-later
// The Manager on a real nft::Session whose nf_tables is a peer the test plays
// (tests/unit/fwd/nft_peer.hpp) and whose rtnetlink is the netlink tests' fake kernel:
// while a batch waits for its answer the loop goes on (a 1 ms ticker stands for the bus'
// Version calls), the state stays as it was, events are collected for the next batch and
// other operations (Reload) wait their turn; the answer commits the batch. A batch that
// is never answered fails at the Session's deadline (and so does the full rebuild that
// follows a failed element batch): nothing changes but LastError, and the links it
// carried are sent again with the next event. A change whose journal line cannot be
// written is undone in the kernel before the next operation runs.
#include <linux/rtnetlink.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "fake_kernel.hpp"
#include "fwd/nft_peer.hpp"
#include "manager.hpp"
#include "nft/session.hpp"
#include "temp_dir.hpp"

using namespace alopex;
using namespace alopex::fwd;
using namespace std::chrono_literals;
namespace nt = alopex::netlink::test;

namespace {

constexpr const char *config_text = R"(
[zones.wan]
interfaces = ["tw*"]
input = "drop"
forward = "drop"
)";

struct Rig : fwd::test::NftPeer {
    alopex::test::TempDir dir{"alopex-fwd-slow"};
    std::unique_ptr<nt::FakeKernel> kernel;
    nft::Session *session = nullptr;
    std::unique_ptr<Manager> m;

    explicit Rig(std::chrono::microseconds timeout)
    {
        kernel = std::make_unique<nt::FakeKernel>(event.get());
        kernel->change(nt::new_link(2, "tw0"));
        std::ofstream(dir.path / "firewall.toml") << config_text;
        auto model = fwd::config::parse(config_text, "firewall.toml");
        REQUIRE(model);
        auto s = nft::Session::create(event.get(), make_channel(), timeout);
        REQUIRE(s);
        session = s->get();
        ManagerOptions o;
        o.config_file = dir.path / "firewall.toml";
        o.state_file = dir.path / "runtime.json";
        auto mgr = Manager::create(event.get(), nullptr, std::move(*model), std::move(*s), std::move(o),
                                   kernel->transport());
        REQUIRE(mgr);
        m = std::move(*mgr);
        // The first full apply: no table yet, then its batch, acked.
        no_table();
        auto first = next();
        REQUIRE(first.batch);
        ack_all(first);
        run_until([&] { return m->ready(); });
    }
    size_t hosts() const
    {
        auto it = m->membership().addresses.find("wan");
        return it == m->membership().addresses.end() ? 0 : it->second.size();
    }
};

} // namespace

namespace alopex::fwd {

// AddRule's step without the bus: the rule parsed under the model, in the queue.
struct ManagerTestAccess {
    static void add_rule(Manager &m, const std::string &spec, std::function<void(Result<>)> done)
    {
        m.enqueue([&m, spec, done](Manager::Next next) {
            auto rule = config::parse_spec(spec, m.model());
            REQUIRE(rule);
            runtime::StoredRule s;
            s.id = m.state_.next_id;
            s.zone = rule->zone;
            s.spec = config::format_spec(*rule);
            m.add_rule(s, std::move(*rule), "AddRule", [done, next](Result<> r) {
                done(std::move(r));
                next();
            });
        });
    }
};

} // namespace alopex::fwd

TEST_CASE("a change whose journal line cannot be written is undone in the kernel before the next one")
{
    Rig r(5s);
    const uint64_t gen = r.m->generation();
    // The journal cannot be opened (a directory where the file would be).
    std::filesystem::create_directory(r.dir.path / "runtime.journal");
    std::optional<Result<>> added, second;
    ManagerTestAccess::add_rule(*r.m, "zone=wan proto=tcp dport=22 saddr=192.0.2.0/24 action=accept",
                                [&](Result<> x) { added = std::move(x); });
    ManagerTestAccess::add_rule(*r.m, "zone=wan proto=tcp dport=23 saddr=192.0.2.0/24 action=accept",
                                [&](Result<> x) { second = std::move(x); });
    auto add = r.next();
    REQUIRE(add.batch);   // the rule's elements
    r.run_for(50ms);
    CHECK(r.requests().empty());   // the second rule waits its turn
    r.ack_all(add);
    auto undo = r.next();   // the journal failed: the elements go again
    REQUIRE(undo.batch);
    CHECK_FALSE(added.has_value());
    r.run_for(50ms);
    CHECK(r.requests().empty());   // still waiting: the undo is part of the first change
    r.ack_all(undo);
    r.run_until([&] { return added.has_value(); });
    REQUIRE_FALSE(*added);
    CHECK(added->error().bus_name == bus_error::IOError);
    CHECK(r.m->state().rules.empty());
    CHECK(r.m->state().next_id == 1);
    CHECK(r.m->generation() == gen + 2);
    // The undo went well, but the runtime state cannot be saved: LastError says so.
    CHECK(r.m->last_error() == added->error().to_string());
    // Then the second one runs (and fails the same way).
    auto add2 = r.next();
    REQUIRE(add2.batch);
    r.ack_all(add2);
    r.ack_all(r.next());
    r.run_until([&] { return second.has_value(); });
    CHECK_FALSE(*second);
    CHECK(r.m->state().rules.empty());
}

TEST_CASE("the loop keeps running while nf_tables is slow; events wait for the next batch")
{
    Rig r(5s);
    const uint64_t gen = r.m->generation();
    r.kernel->change(nt::new_addr(2, "192.0.2.1", 24));
    auto batch = r.next();
    REQUIRE(batch.batch);

    // The kernel holds its answer back: the loop goes on, nothing is committed yet.
    const int ticks = r.ticks;
    r.run_for(200ms);
    CHECK(r.ticks > ticks + 20);
    CHECK(r.m->generation() == gen);
    CHECK(r.hosts() == 0);
    // More events meanwhile: collected, not sent beside the batch in flight.
    r.kernel->change(nt::new_addr(2, "192.0.2.2", 24));
    r.run_until([&] { return r.kernel->idle(); });
    r.run_for(20ms);   // read, marked, and its flush queued (once per loop iteration)
    // A Reload waits its turn behind them.
    std::optional<Result<>> reloaded;
    r.m->reload([&](Result<> x) { reloaded = std::move(x); });
    r.run_for(100ms);
    CHECK(r.requests().empty());
    CHECK_FALSE(reloaded.has_value());

    // The answer: the first address is in; the second goes in the next batch, then the
    // Reload's rebuild.
    r.ack_all(batch);
    r.run_until([&] { return r.hosts() == 1; });
    CHECK(r.m->generation() == gen + 1);
    auto second = r.next();
    REQUIRE(second.batch);
    r.ack_all(second);
    r.run_until([&] { return r.hosts() == 2; });
    auto rebuild = r.next();
    REQUIRE(rebuild.batch);   // the table is ours: no dump before it
    CHECK_FALSE(reloaded.has_value());
    r.ack_all(rebuild);
    r.run_until([&] { return reloaded.has_value(); });
    CHECK(*reloaded);
    CHECK(r.m->generation() == gen + 3);
    CHECK(r.hosts() == 2);
    CHECK(r.m->last_error().empty());
}

TEST_CASE("a batch nf_tables never answers fails at the deadline and changes nothing")
{
    Rig r(300ms);
    const uint64_t gen = r.m->generation();
    const auto before = r.m->membership();
    r.kernel->change(nt::new_addr(2, "192.0.2.1", 24));
    auto lost = r.next();
    REQUIRE(lost.batch);
    // Unanswered, then the full rebuild that makes up for a failed element batch too.
    auto rebuild = r.next();
    REQUIRE(rebuild.batch);
    CHECK(rebuild.acked.size() > lost.acked.size());
    r.run_until([&] { return r.m->last_error().find("interfaces: no answer within 300 ms") != std::string::npos; }, 2s);
    r.run_for(50ms);
    CHECK(r.requests().empty());
    CHECK(r.m->generation() == gen);
    CHECK(r.m->membership() == before);
    CHECK(r.session->commits() == 1);   // the start only

    // The next event sends the first address again with its own.
    r.kernel->change(nt::new_addr(2, "192.0.2.2", 24));
    auto again = r.next();
    REQUIRE(again.batch);
    r.ack_all(again);
    r.run_until([&] { return r.hosts() == 2; });
    CHECK(r.m->generation() == gen + 1);
    CHECK(r.m->last_error().empty());
}
