// SPDX-License-Identifier: GPL-2.0-or-later
// What the broker records and when: intent before a managed file changes and completion
// after (so a kill in between cannot lose the change), .failed when the write failed,
// a torn ledger line cut under a record at start, Record's reserved prefix and its rate
// limit per caller.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "alopex/ledger.hpp"
#include "broker.hpp"
#include "broker_fixture.hpp"

using namespace alopex;
using namespace alopex::broker;
using alopex::test::Fixture;

namespace {

std::string field(const std::string &details, const std::string &key)
{
    auto pos = details.find(key + "=");
    if (pos == std::string::npos)
        return {};
    pos += key.size() + 1;
    return details.substr(pos, details.find(' ', pos) - pos);
}

} // namespace

TEST_CASE("a managed file's write is recorded as intent, then completion")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    const std::string data = "nameserver 192.0.2.1\n";
    REQUIRE(b.write_file(f.me, "resolv.conf", data));
    auto recs = f.records();
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].action == "broker.WriteManagedFile.intent");
    CHECK(recs[1].action == "broker.WriteManagedFile");
    CHECK(recs[0].details == recs[1].details);
    CHECK(field(recs[0].details, "id") == "resolv.conf");
    CHECK(field(recs[0].details, "sha256") == ledger::sha256_hex(data));
    CHECK(recs[0].actor == Broker::actor_name(f.me));

    REQUIRE(b.write_block(f.me, "interfaces", "ovs", "auto vi7\n"));
    recs = f.records();
    REQUIRE(recs.size() == 4);
    CHECK(recs[2].action == "broker.WriteManagedBlock.intent");
    CHECK(recs[3].action == "broker.WriteManagedBlock");
    CHECK(field(recs[2].details, "tag") == "ovs");
    CHECK(field(recs[2].details, "sha256") == ledger::sha256_hex("auto vi7\n"));
    CHECK(field(recs[2].details, "file_sha256") == ledger::sha256_hex(f.slurp("interfaces")));
}

TEST_CASE("a kill between the rename and the completion record leaves the intent")
{
    Fixture f;
    const std::string data = "nameserver 192.0.2.99\n";
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // The broker, killed right after the managed file was renamed into place.
        Broker b(f.dir / "broker.toml", f.dir / "state");
        if (!b.reload())
            _exit(3);
        b.set_test_hook([](std::string_view point) {
            if (point == "written")
                _exit(0);
        });
        (void)b.write_file(f.me, "resolv.conf", data);
        _exit(4); // the hook was never reached
    }
    int ws = 0;
    REQUIRE(waitpid(pid, &ws, 0) == pid);
    REQUIRE(WIFEXITED(ws));
    REQUIRE(WEXITSTATUS(ws) == 0);
    CHECK(f.slurp("resolv.conf") == data); // the file did change
    auto recs = f.records();
    REQUIRE(recs.size() == 1); // and the ledger says so, with the new contents' hash
    CHECK(recs[0].action == "broker.WriteManagedFile.intent");
    CHECK(field(recs[0].details, "sha256") == ledger::sha256_hex(data));
    CHECK(field(recs[0].details, "bytes") == std::to_string(data.size()));
    CHECK(f.ledger_records() == 1); // the chain verifies
}

TEST_CASE("a write that fails after its intent is recorded as failed")
{
    Fixture f;
    std::filesystem::create_directory(f.dir / "adir");
    std::ofstream(f.dir / "adir" / "inner") << "x";
    f.write_config("[[file]]\nid = \"d\"\npath = \"" + (f.dir / "adir").string() +
                   "\"\ncallers = [" + std::to_string(f.me) + "]\n");
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    auto r = b.write_file(f.me, "d", "x");
    REQUIRE_FALSE(r);
    CHECK(r.error().bus_name == bus_error::IOError);
    CHECK(std::filesystem::is_directory(f.dir / "adir"));
    auto recs = f.records();
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].action == "broker.WriteManagedFile.intent");
    CHECK(recs[1].action == "broker.WriteManagedFile.failed");
    CHECK(recs[1].details.find("error=") != std::string::npos);
}

TEST_CASE("a ledger with a torn last line is cut at start, recorded, and used")
{
    Fixture f;
    {
        Broker b(f.dir / "broker.toml", f.dir / "state");
        REQUIRE(b.reload());
        REQUIRE(b.record(f.me, "test.one", "1"));
        REQUIRE(b.record(f.me, "test.two", "2"));
    }
    const std::string good = f.slurp("state/ledger.jsonl");
    const std::string torn = "{\"seq\":3,\"time\":\"2026-";
    std::ofstream(f.dir / "state" / "ledger.jsonl", std::ios::app) << torn;

    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    auto opened = b.open_ledger();
    INFO((opened ? "" : opened.error().message));
    REQUIRE(opened);
    auto recs = f.records();
    REQUIRE(recs.size() == 3);
    CHECK(recs[2].action == "broker.ledger-cut");
    CHECK(recs[2].actor == Broker::actor_name(geteuid()));
    CHECK(recs[2].details == fmt::format("bytes={} offset={}", torn.size(), good.size()));
    REQUIRE(b.write_file(f.me, "resolv.conf", "nameserver ::1\n"));
    CHECK(f.ledger_records() == 5);
}

TEST_CASE("Record cannot write what looks like a broker operation")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    for (const char *a : {"broker.WriteManagedFile", "broker.ledger-cut", "Broker.OpenDevice",
                          "broker.WriteManagedBlock.intent"}) {
        INFO(a);
        auto r = b.record(f.me, a, "id=resolv.conf");
        REQUIRE_FALSE(r);
        CHECK(r.error().bus_name == bus_error::InvalidArgument);
        CHECK(r.error().message.starts_with("action:"));
    }
    CHECK(f.records().empty());
    CHECK(b.record(f.me, "link.apply", "x"));
}

TEST_CASE("Record is rate-limited per caller")
{
    Fixture f;
    f.write_config("", "record_rate = 2\nrecord_burst = 3\n");
    uint64_t now = 1'000'000'000'000;
    Broker b(f.dir / "broker.toml", f.dir / "state", [&now] { return now; });
    REQUIRE(b.reload());
    for (int i = 0; i < 3; ++i)
        REQUIRE(b.record(f.me, "test.burst", std::to_string(i)));
    auto r = b.record(f.me, "test.burst", "3");
    REQUIRE_FALSE(r);
    CHECK(r.error().bus_name == bus_error::RateLimited);
    CHECK(r.error().message.find("rate limit") != std::string::npos);
    CHECK(f.ledger_records() == 3); // the refused one wrote nothing
    now += 500'000'000;              // half a second: one token at 2/s
    CHECK(b.record(f.me, "test.burst", "4"));
    CHECK_FALSE(b.record(f.me, "test.burst", "5"));
    // Other operations are not limited by Record's bucket.
    CHECK(b.write_file(f.me, "resolv.conf", "x\n"));
}
