// SPDX-License-Identifier: GPL-2.0-or-later
// ovs-agentd's transactions, built from a copy of the database that Debian's
// ovsdb-server filled (ovsdb-samples/): guarded by a wait on the bridge's ports as the
// copy holds them, Interface and Port inserted with named-uuids and the agent's
// external_ids, next_cfg bumped and read back; detaching only the agent's own ports;
// Proxmox's VMIDs read from interface names.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "port_ops.hpp"
#include "samples.hpp"

using namespace alopex::ovs;
using namespace alopex::ovs::ovsdb;
using json = nlohmann::json;

namespace {

using ovs_test::copy;
using ovs_test::sample;
using ovs_test::uuid_of;


} // namespace

TEST_CASE("ovs port ops: VMIDs from Proxmox's interface names", "[ovs]")
{
    CHECK(vmid_of("veth105i0") == 105u);
    CHECK(vmid_of("tap100i12") == 100u);
    CHECK(vmid_of("vi999999999") == 999999999u);
    for (const char *no : {"veth105", "veth105i", "veth105ix", "tap99i0", "tap0100i0", "vi1000000000", "vi", "eth0",
                           "vethab12cd", "tapi0", "vi105a"})
        CHECK_FALSE(vmid_of(no));
}

TEST_CASE("ovs port ops: attach is one guarded transaction, the agent's ids recorded", "[ovs]")
{
    Replica r = copy();
    BridgeRef br0 = find_bridge(r, "br0");
    REQUIRE(br0.row);
    CHECK(bridge_ports(r, br0).size() == 3);
    auto ops = attach_ops(r, "br0", {{"veth105i0", "ct105", 105, 10, {}}, {"tap200i1", "", std::nullopt, {}, {7, 8}}});
    REQUIRE(ops);
    REQUIRE(ops->size() == 9);
    const json &wait = (*ops)[0];
    CHECK(wait["op"] == "wait");
    CHECK(wait["timeout"] == 0);
    CHECK(wait["where"] == json::parse(R"([["_uuid","==",["uuid",")" + br0.uuid.to_string() + R"("]]])"));
    CHECK(wait["rows"][0]["ports"][0] == "set");
    CHECK(wait["rows"][0]["ports"][1].size() == 3);
    CHECK((*ops)[1] == json::parse(R"({"op":"insert","table":"Interface","row":{"name":"veth105i0"},"uuid-name":"iface0"})"));
    CHECK((*ops)[2]["row"] == json::parse(R"({"name":"veth105i0","interfaces":["named-uuid","iface0"],"tag":10,
        "external_ids":["map",[["alopex-owner","ovs-agentd"],["alopex-container","ct105"],["alopex-vmid","105"]]]})"));
    CHECK((*ops)[4]["row"]["trunks"] == json::parse(R"(["set",[7,8]])"));
    CHECK((*ops)[5]["mutations"] ==
          json::parse(R"([["ports","insert",["set",[["named-uuid","port0"],["named-uuid","port1"]]]]])"));
    CHECK((*ops)[6]["mutations"] == json::parse(R"([["next_cfg","+=",1]])"));
    CHECK((*ops)[7]["op"] == "select");
    CHECK((*ops)[8]["comment"] == "alopex-ovs-agentd: br0: attach veth105i0 tap200i1");

    auto dup = attach_ops(r, "br0", {{"p1", "", {}, {}, {}}});
    REQUIRE_FALSE(dup);
    CHECK(dup.error().code == EEXIST);
    auto none = attach_ops(r, "ovsbr0", {{"x", "", {}, {}, {}}});
    REQUIRE_FALSE(none);
    CHECK(none.error().message == "no bridge ovsbr0");
    CHECK(next_cfg_of(sample("transact.insert_port.reply.json")["result"]) == 1);
    CHECK_FALSE(next_cfg_of(json::parse(R"([{},{"count":1}])")));
}

TEST_CASE("ovs port ops: detach only the agent's own ports", "[ovs]")
{
    Replica r = copy();
    // p1 carries alopex-owner=yes (someone else's value): not the agent's.
    auto foreign = detach_ops(r, "br0", {"p1"});
    REQUIRE_FALSE(foreign);
    CHECK(foreign.error().code == EPERM);
    CHECK(foreign.error().message == "p1 is not ovs-agentd's port (no alopex-owner=ovs-agentd): left alone");
    CHECK(detach_ops(r, "br0", {"nope"}).error().code == ENOENT);
    // A port the agent attached (as the server would report it).
    std::string br0 = uuid_of(r, "Bridge", "br0");
    json ports = json::array({"uuid", "11111111-2222-3333-4444-555555555555"});
    REQUIRE(r.apply(json::parse(R"({"Port":{"11111111-2222-3333-4444-555555555555":{"insert":{"name":"veth105i0",
        "interfaces":["uuid","11111111-2222-3333-4444-000000000000"],
        "external_ids":["map",[["alopex-owner","ovs-agentd"]]]}}},
        "Bridge":{")" + br0 + R"(":{"modify":{"ports":["uuid","11111111-2222-3333-4444-555555555555"]}}}})")));
    auto ops = detach_ops(r, "br0", {"veth105i0"});
    REQUIRE(ops);
    REQUIRE(ops->size() == 5);
    CHECK((*ops)[0]["rows"][0]["ports"][1].size() == 4);
    CHECK((*ops)[1]["mutations"] ==
          json::parse(R"([["ports","delete",["set",[["uuid","11111111-2222-3333-4444-555555555555"]]]]])"));
    CHECK((*ops)[4]["comment"] == "alopex-ovs-agentd: br0: detach veth105i0");
}
