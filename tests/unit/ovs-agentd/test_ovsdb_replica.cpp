// SPDX-License-Identifier: GPL-2.0-or-later
// The monitored copy of Open_vSwitch, fed what Debian's ovsdb-server really sent
// (ovsdb-samples/): monitor_cond's initial rows, then each update2 of a session of
// ovs-vsctl changes, each step checked against what the change did (defaults for the
// columns the server left out; sets and maps diffed). A hostile update (a table, column
// or row nobody asked about, a wrong type) is refused whole and changes nothing.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "replica.hpp"
#include "rpc.hpp"
#include "samples.hpp"

using namespace alopex::ovs::ovsdb;
using json = nlohmann::json;

namespace {

using ovs_test::sample_text;

Message message(const std::string &name)
{
    auto m = parse_message(sample_text(name));
    REQUIRE(m);
    return *m;
}

const MonitorSpec spec = {{"Open_vSwitch", {"bridges", "next_cfg", "cur_cfg", "ovs_version"}},
                          {"Bridge", {"name", "ports", "datapath_type", "external_ids"}},
                          {"Port", {"name", "interfaces", "tag", "trunks", "external_ids"}},
                          {"Interface", {"name", "type", "ofport", "error", "external_ids"}}};

Replica make()
{
    auto schema = parse_schema(message("get_schema.reply.json").result);
    REQUIRE(schema);
    auto r = Replica::create(*schema, spec);
    REQUIRE(r);
    return std::move(*r);
}

// The Port row called `name`, or null.
const Row *port(const Replica &r, const std::string &name)
{
    for (const auto &[uuid, row] : r.rows("Port"))
        if (row.get("name") == Datum::atom(name))
            return &row;
    return nullptr;
}

std::vector<RowChange> apply(Replica &r, const std::string &name)
{
    Message m = message(name);
    REQUIRE(m.method == "update2");
    REQUIRE(m.params.size() == 2);
    auto changes = r.apply(m.params[1]);
    if (!changes)
        FAIL(name << ": " << changes.error().message);
    return *changes;
}

const Datum &col(const Row *row, const char *name)
{
    REQUIRE(row);
    return row->get(name);
}

Datum ints(std::initializer_list<int64_t> v)
{
    json j = json::array({"set", json::array()});
    for (auto x : v)
        j[1].push_back(x);
    return *decode_datum(j, ColumnType{AtomType::Integer, {}, 0, 0}, "x");
}

} // namespace

TEST_CASE("ovsdb replica: the monitor request is what the agent sent", "[ovs][ovsdb]")
{
    Replica r = make();
    auto sent = ovs_test::sample("monitor_cond.request.json");
    CHECK(r.monitor_requests() == sent["params"][2]);
    auto schema = parse_schema(message("get_schema.reply.json").result);
    auto missing = Replica::create(*schema, {{"Port", {"name", "colour"}}});
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message == "the Open_vSwitch database's table Port has no column colour");
    CHECK_FALSE(Replica::create(*schema, {{"Ports", {"name"}}}));
}

TEST_CASE("ovsdb replica: the initial rows, then a session of ovs-vsctl changes", "[ovs][ovsdb]")
{
    Replica r = make();
    auto initial = r.apply(message("monitor_cond.reply.json").result);
    REQUIRE(initial);
    CHECK(initial->size() == 8);   // Open_vSwitch, br0, 3 ports, 3 interfaces
    CHECK(r.size() == 8);
    const Row *ovs = &r.rows("Open_vSwitch").begin()->second;
    CHECK(col(ovs, "next_cfg") == Datum::atom(int64_t{0}));   // left out by the server: the default
    CHECK(col(ovs, "ovs_version") == Datum::atom(std::string("3.1.0")));
    CHECK(col(port(r, "p1"), "tag") == ints({10}));
    CHECK(col(port(r, "p1"), "external_ids").size() == 2);
    CHECK(col(port(r, "p2"), "tag").empty());
    CHECK(col(port(r, "p2"), "trunks").empty());
    const Row &br0 = r.rows("Bridge").begin()->second;
    CHECK(col(&br0, "ports").size() == 3);

    auto add = apply(r, "update2.add_port.json");   // add-port br0 p3
    CHECK(port(r, "p3"));
    CHECK(col(&r.rows("Bridge").begin()->second, "ports").size() == 4);
    CHECK(std::count_if(add.begin(), add.end(), [](const RowChange &c) { return c.kind == RowChange::Kind::Insert; }) == 2);
    apply(r, "update2.set_tag.json");
    CHECK(col(port(r, "p1"), "tag") == ints({20}));
    apply(r, "update2.clear_tag.json");
    CHECK(col(port(r, "p1"), "tag").empty());
    apply(r, "update2.add_trunk_first.json");
    apply(r, "update2.add_trunk_second.json");
    CHECK(col(port(r, "p2"), "trunks") == ints({100, 200}));
    apply(r, "update2.trunks_add_and_remove.json");
    CHECK(col(port(r, "p2"), "trunks") == ints({200, 300, 400}));
    apply(r, "update2.external_ids.json");
    const Datum &ids = col(port(r, "p1"), "external_ids");
    CHECK(ids.size() == 2);
    CHECK(*ids.find(Atom{std::string("alopex-owner")}) == Atom{std::string("no")});
    CHECK(*ids.find(Atom{std::string("k")}) == Atom{std::string("v")});
    auto del = apply(r, "update2.del_port.json");   // del-port br0 p3
    CHECK(del.size() == 3);
    for (const auto &c : del)   // the rows that went, as they were
        if (c.kind == RowChange::Kind::Delete)
            CHECK(c.removed.get("name") == Datum::atom(std::string("p3")));
    CHECK_FALSE(port(r, "p3"));
    auto own = apply(r, "update2.insert_port_own_txn.json");   // the agent's own transaction (transact.*)
    CHECK(own.size() == 4);
    const Row *added = port(r, "veth-a1");
    REQUIRE(added);
    CHECK(*col(added, "external_ids").find(Atom{std::string("alopex-owner")}) == Atom{std::string("yes")});
    CHECK(col(added, "tag") == ints({10}));
    CHECK(col(&r.rows("Open_vSwitch").begin()->second, "next_cfg") == Datum::atom(int64_t{1}));
    apply(r, "update2.del_bridge.json");   // del-br br0: the bridge, its ports and interfaces
    CHECK(r.rows("Bridge").empty());
    CHECK(r.rows("Port").empty());
    CHECK(r.rows("Interface").empty());
    CHECK(col(&r.rows("Open_vSwitch").begin()->second, "bridges").empty());
    r.clear();
    CHECK(r.size() == 0);
}

TEST_CASE("ovsdb replica hostile: an update the agent did not ask for is refused whole", "[ovs][ovsdb]")
{
    Replica r = make();
    REQUIRE(r.apply(message("monitor_cond.reply.json").result));
    std::string p1;
    for (const auto &[uuid, row] : r.rows("Port"))
        if (row.get("name") == Datum::atom(std::string("p1")))
            p1 = uuid.to_string();
    const std::string unknown = "00000000-0000-0000-0000-00000000abcd";
    auto refused = [&](const std::string &text) {
        size_t before = r.size();
        auto c = r.apply(json::parse(text));
        REQUIRE_FALSE(c);
        CHECK(r.size() == before);
        CHECK(col(port(r, "p1"), "tag") == ints({10}));   // the good part of a bad update was not applied
        return c.error().message;
    };
    std::string good = R"("Port":{")" + p1 + R"(":{"modify":{"tag":11}}})";
    CHECK(refused(R"({)" + good + R"(,"Mirror":{}})") == "an update of table \"Mirror\", which is not monitored");
    CHECK(refused(R"({"Port":{")" + p1 + R"(":{"modify":{"tag":11,"lacp":"active"}}}})") ==
          "Port " + p1 + ": column \"lacp\" is not monitored");
    CHECK(refused(R"({"Port":{")" + p1 + R"(":{"modify":{"tag":"eleven"}}}})") ==
          "Port.tag: \"eleven\" is not an integer");
    CHECK(refused(R"({"Port":{")" + p1 + R"(":{"modify":{"tag":["set",[1,2]]}}}})") ==
          "Port.tag: 2 elements, the column takes 0..1");
    CHECK(refused(R"({"Port":{")" + unknown + R"(":{"delete":null}}})") == "Port " + unknown + ": deleted, but not known");
    CHECK(refused(R"({"Port":{")" + unknown + R"(":{"modify":{"tag":1}}}})") == "Port " + unknown + ": modified, but not known");
    CHECK(refused(R"({"Port":{")" + p1 + R"(":{"insert":{"name":"p1"}}}})") == "Port " + p1 + ": inserted, but known already");
    CHECK(refused(R"({"Port":{")" + p1 + R"(":{"insert":{},"delete":null}}})").ends_with("must hold one of initial, insert, modify, delete"));
    CHECK(refused(R"({"Port":{")" + p1 + R"(":{"upsert":{}}}})").ends_with("unknown row update \"upsert\""));
    CHECK(refused(R"({"Port":{"p1":{"delete":null}}})") == "\"p1\" is not a UUID");
    CHECK(refused(R"({"Port":[]})") == "Port: the row updates are not an object");
    CHECK(refused(R"({"Port":{")" + unknown + R"(":{"insert":{"interfaces":["set",[]]}}}})") ==
          "Port.interfaces: 0 elements, the column takes 1..unlimited");
    CHECK(r.apply(json::parse("{" + good + "}")));
    CHECK(col(port(r, "p1"), "tag") == ints({11}));
}
