// SPDX-License-Identifier: GPL-2.0-or-later
// An OVSDB session against a scripted server that answers with the bytes Debian's
// ovsdb-server really sent (ovsdb-samples/, their ids set to the requests'): get_schema,
// monitor_cond, the initial rows, update2s, transactions that succeed, whose wait fails
// (EAGAIN) or whose commit fails (the extra result); the server's echo answered; the
// keepalive probing a silent server and giving up on it; and a session that fails on
// anything it did not ask for, completing what waits with ECONNRESET.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "samples.hpp"
#include "session.hpp"

using namespace alopex::ovs::ovsdb;
using json = nlohmann::json;

namespace {

using ovs_test::sample;

const MonitorSpec spec = {{"Open_vSwitch", {"bridges", "next_cfg", "cur_cfg", "ovs_version"}},
                          {"Bridge", {"name", "ports", "datapath_type", "external_ids"}},
                          {"Port", {"name", "interfaces", "tag", "trunks", "external_ids"}},
                          {"Interface", {"name", "type", "ofport", "error", "external_ids"}}};

struct Rig {
    std::vector<json> sent;
    std::vector<std::vector<RowChange>> changes;
    std::vector<std::string> lost;
    int synced = 0;
    uint64_t now = 1'000'000;
    Session s{{"Open_vSwitch", spec, 5'000'000},
              {[this](std::string_view b) { sent.push_back(json::parse(b)); }, [this] { ++synced; },
               [this](const std::vector<RowChange> &c) { changes.push_back(c); },
               [this](const std::string &why) { lost.push_back(why); }}};

    void feed(const json &j) { s.input(j.dump(), now); }
    // The sample `name` as the answer to the last request sent.
    void answer(const std::string &name)
    {
        json j = sample(name);
        j["id"] = sent.back()["id"];
        feed(j);
    }
    void live()
    {
        int before = synced;
        s.connected(now);
        REQUIRE(sent.size() == 1);
        CHECK(sent[0]["method"] == "get_schema");
        CHECK(sent[0]["params"] == json::array({"Open_vSwitch"}));
        answer("get_schema.reply.json");
        REQUIRE(s.state() == SessionState::MonitorWait);
        CHECK(sent.back()["method"] == "monitor_cond");
        CHECK(sent.back()["params"][2] == sample("monitor_cond.request.json")["params"][2]);
        answer("monitor_cond.reply.json");
        REQUIRE(s.state() == SessionState::Live);
        CHECK(synced == before + 1);
    }
};

} // namespace

TEST_CASE("ovsdb session: schema, monitor, initial rows, then updates as they come", "[ovs][ovsdb]")
{
    Rig r;
    r.live();
    CHECK(r.s.replica()->rows("Port").size() == 3);
    CHECK(r.s.schema()->version == "8.3.1");
    r.feed(sample("update2.add_port.json"));
    REQUIRE(r.changes.size() == 1);
    CHECK(r.changes[0].size() == 3);
    CHECK(r.s.replica()->rows("Port").size() == 4);
    // Two messages in one read, and one split over two reads.
    std::string two = sample("update2.set_tag.json").dump() + sample("update2.clear_tag.json").dump();
    r.s.input(std::string_view(two).substr(0, 40), r.now);
    CHECK(r.changes.size() == 1);
    r.s.input(std::string_view(two).substr(40), r.now);
    CHECK(r.changes.size() == 3);
    // The server's echo is answered with its id and params.
    r.feed(sample("echo.server_probe.tcp.request.json"));
    CHECK(r.sent.back() == json::parse(R"({"id":"echo","result":[],"error":null})"));
    CHECK(r.lost.empty());
}

TEST_CASE("ovsdb session: transactions succeed, fail their wait (EAGAIN) or their commit", "[ovs][ovsdb]")
{
    Rig r;
    r.live();
    json ops = sample("transact.insert_port.request.json")["params"];
    ops.erase(ops.begin());   // the database name
    std::vector<alopex::Result<json>> done;
    auto run = [&](const char *reply) {
        r.s.transact(ops, [&](alopex::Result<json> res) { done.push_back(std::move(res)); });
        CHECK(r.sent.back()["method"] == "transact");
        CHECK(r.sent.back()["params"][0] == "Open_vSwitch");
        CHECK(r.sent.back()["params"].size() == ops.size() + 1);
        CHECK(r.s.pending() == 1);
        r.answer(reply);
        CHECK(r.s.pending() == 0);
        REQUIRE(!done.empty());
        return done.back();
    };
    auto ok = run("transact.insert_port.reply.json");
    REQUIRE(ok);
    CHECK(ok->size() == ops.size());
    auto stale = run("transact.wait_fails.reply.json");
    REQUIRE_FALSE(stale);
    CHECK(stale.error().code == EAGAIN);
    CHECK(stale.error().message == "operation 1: timed out: \"where\" clause test failed");
    auto dup = run("transact.commit_error.reply.json");
    REQUIRE_FALSE(dup);
    CHECK(dup.error().code == EIO);
    CHECK(dup.error().message.starts_with("commit: constraint violation"));
    CHECK(r.lost.empty());
    // Not live: refused at once.
    Rig idle;
    bool called = false;
    idle.s.transact(ops, [&](alopex::Result<json> res) {
        called = true;
        CHECK(res.error().code == ENOTCONN);
    });
    CHECK(called);
    CHECK(idle.sent.empty());
}

TEST_CASE("ovsdb session: the keepalive probes a silent server, then gives up on it", "[ovs][ovsdb]")
{
    Rig r;
    r.live();
    std::vector<alopex::Result<json>> done;
    r.s.transact(json::array(), [&](alopex::Result<json> res) { done.push_back(std::move(res)); });
    CHECK(r.s.next_deadline() == r.now + 5'000'000);
    r.now += 4'999'999;
    r.s.advance(r.now);
    size_t before = r.sent.size();
    r.now += 1;
    r.s.advance(r.now);
    REQUIRE(r.sent.size() == before + 1);
    CHECK(r.sent.back()["method"] == "echo");
    r.answer("echo.reply.json");   // heard: the next probe in another interval
    CHECK(r.s.next_deadline() == r.now + 5'000'000);
    r.now += 5'000'000;
    r.s.advance(r.now);   // probe
    r.now += 5'000'000;
    r.s.advance(r.now);   // nothing heard: gone
    REQUIRE(r.lost.size() == 1);
    CHECK(r.lost[0] == "ovsdb-server did not answer for 10 s");
    CHECK(r.s.state() == SessionState::Failed);
    REQUIRE(done.size() == 1);
    CHECK(done[0].error().code == ECONNRESET);
    CHECK(r.s.next_deadline() == UINT64_MAX);
    // A new connection starts over, from an empty replica.
    r.sent.clear();
    r.live();
    CHECK(r.synced == 2);
}

TEST_CASE("ovsdb session hostile: what it did not ask for fails it once", "[ovs][ovsdb]")
{
    auto fails_with = [](const std::string &bytes) {
        Rig r;
        r.live();
        r.s.input(bytes, r.now);
        REQUIRE(r.lost.size() == 1);
        r.s.input(bytes, r.now);   // nothing more after failing
        CHECK(r.lost.size() == 1);
        return r.lost[0];
    };
    CHECK(fails_with(R"({"id":99,"result":{},"error":null})") == "a reply to no request (id 99)");
    CHECK(fails_with(R"({"id":1,"result":1,"error":null,"jsonrpc":"2.0"})") ==
          "a bad message: unknown member \"jsonrpc\"");
    CHECK(fails_with(R"({"id":null,"method":"locked","params":[]} garbage)") == "byte 0x67 between messages (a JSON-RPC message is an object)");
    CHECK(fails_with(R"({"id":null,"method":"update2","params":["alopex",{"Port":{"00000000-0000-0000-0000-000000000001":{"delete":null}}}]})") ==
          "update2: Port 00000000-0000-0000-0000-000000000001: deleted, but not known");
    CHECK(fails_with(R"({"id":null,"method":"update2","params":["alopex"]})") == "an update2 the session did not expect");
    // A schema without a monitored column: the session fails at connect, named.
    Rig r;
    r.s.connected(r.now);
    json schema = sample("get_schema.reply.json");
    schema["result"]["tables"]["Port"]["columns"].erase("trunks");
    schema["id"] = r.sent.back()["id"];
    r.feed(schema);
    REQUIRE(r.lost.size() == 1);
    CHECK(r.lost[0] == "the Open_vSwitch database's table Port has no column trunks");
    // An unknown request gets an error reply; the session goes on.
    Rig q;
    q.live();
    q.feed(json::parse(R"({"id":"x","method":"steal","params":[]})"));
    CHECK(q.sent.back() == json::parse(R"({"id":"x","result":null,"error":"unknown method"})"));
    CHECK(q.lost.empty());
}
