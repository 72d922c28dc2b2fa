// SPDX-License-Identifier: GPL-2.0-or-later
// ovs-agentd's plan (links with the configured prefixes attached, its own ports whose
// links went detached, everything else left alone) on a copy Debian's ovsdb-server
// filled, and the confirmation of a change: cur_cfg reaching the transaction's
// next_cfg, then each interface's ofport, or its error, or the deadline.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "reconcile.hpp"
#include "samples.hpp"

using namespace alopex::ovs;
using namespace alopex::ovs::ovsdb;
using json = nlohmann::json;

namespace {

using ovs_test::copy;
using ovs_test::sample;
using ovs_test::uuid_of;


std::string uuid(int n)
{
    return fmt::format("00000000-0000-0000-0000-{:012}", n);
}

// Inserts a Port (with its Interface) named `name` on the bridge `bridge_uuid`.
void add_port(Replica &r, const std::string &bridge_uuid, const std::string &name, int n, bool ours)
{
    json ids = ours ? json::parse(R"(["map",[["alopex-owner","ovs-agentd"]]])") : json::parse(R"(["map",[]])");
    json u = {{"Interface", {{uuid(n + 1), {{"insert", {{"name", name}}}}}}},
              {"Port", {{uuid(n), {{"insert", {{"name", name}, {"interfaces", json::array({"uuid", uuid(n + 1)})},
                                                {"external_ids", ids}}}}}}},
              {"Bridge", {{bridge_uuid, {{"modify", {{"ports", json::array({"uuid", uuid(n)})}}}}}}}};
    auto c = r.apply(u);
    REQUIRE(c);
}

} // namespace

TEST_CASE("ovs plan: attach matching links, detach the agent's gone ones, leave the rest", "[ovs]")
{
    Replica r = copy();
    std::string br0 = uuid_of(r, "Bridge", "br0");
    add_port(r, br0, "veth200i0", 10, true);    // the agent's, its link gone
    add_port(r, br0, "veth201i0", 20, true);    // the agent's, its link still there
    add_port(r, br0, "tap300i0", 30, false);    // Proxmox's own, its link gone
    REQUIRE(r.apply(json::parse(R"({"Bridge":{")" + uuid(40) + R"(":{"insert":{"name":"vmbr1"}}}})")));
    add_port(r, uuid(40), "tap400i0", 50, false);   // on another bridge
    std::set<std::string> links = {"veth105i0", "vethX", "tap400i0", "veth201i0", "p2", "eth0", "vi123"};
    Plan p = plan(r, "br0", links, {"veth", "tap", "vi"});
    REQUIRE(p.attach.size() == 3);
    CHECK(p.attach[0] == PortSpec{"veth105i0", "", 105u, std::nullopt, {}});
    CHECK(p.attach[1].name == "vethX");
    CHECK_FALSE(p.attach[1].vmid);
    CHECK(p.attach[2] == PortSpec{"vi123", "", 123u, std::nullopt, {}});
    CHECK(p.detach == std::vector<std::string>{"veth200i0"});
    CHECK(p.elsewhere == std::vector<std::string>{"tap400i0"});
    CHECK_FALSE(p.empty());
    // The plan's transaction: both ways in one.
    auto ops = change_ops(r, "br0", p.attach, p.detach);
    REQUIRE(ops);
    const json &mutate = (*ops)[7];
    CHECK(mutate["mutations"].size() == 2);
    CHECK(mutate["mutations"][1] == json::parse(R"(["ports","delete",["set",[["uuid",")" + uuid(10) + R"("]]]])"));
    CHECK((*ops).back()["comment"] == "alopex-ovs-agentd: br0: attach veth105i0 vethX vi123; detach veth200i0");
    // Nothing to do: an empty plan.
    CHECK(plan(r, "br0", {"veth201i0", "veth200i0", "tap300i0"}, {"veth"}).empty());
}

TEST_CASE("ovs plan: requests attach any link with its container, exclusion detaches and holds off", "[ovs]")
{
    Replica r = copy();
    std::string br0 = uuid_of(r, "Bridge", "br0");
    add_port(r, br0, "veth201i0", 20, true);    // the agent's, to be excluded
    add_port(r, br0, "p9", 30, true);           // the agent's, attached on request once: stays with its link
    add_port(r, br0, "tap300i0", 40, false);    // Proxmox's own: never detached, excluded or not
    Requests req;
    req.attach.emplace("eth5", PortSpec{"eth5", "ct-5", 105u, std::nullopt, {}});   // no prefix, asked for
    req.attach.emplace("gone0", PortSpec{"gone0", "", std::nullopt, std::nullopt, {}});   // no such link (yet)
    req.exclude = {"veth201i0", "veth7", "tap300i0"};
    std::set<std::string> links = {"eth5", "veth201i0", "veth7", "veth8", "p9", "tap300i0"};
    Plan p = plan(r, "br0", links, {"veth", "tap"}, {{"eth5", {12, {}}}}, req);
    REQUIRE(p.attach.size() == 2);
    CHECK(p.attach[0] == PortSpec{"eth5", "ct-5", 105u, 12, {}});
    CHECK(p.attach[1].name == "veth8");   // veth7 excluded
    CHECK(p.detach == std::vector<std::string>{"veth201i0"});
    // Without the requests, p9 (the agent's, its link there) is kept, eth5 is left alone.
    Plan plain = plan(r, "br0", links, {"veth", "tap"});
    CHECK(plain.detach.empty());
    REQUIRE(plain.attach.size() == 2);
    CHECK(plain.attach[0].name == "veth7");
    CHECK(plain.attach[1].name == "veth8");
}

TEST_CASE("ovs plan: VLANs from [ports] at attach, and set on the agent's ports that differ", "[ovs]")
{
    Replica r = copy();
    std::string br0 = uuid_of(r, "Bridge", "br0");
    add_port(r, br0, "veth201i0", 20, true);    // the agent's, untagged
    add_port(r, br0, "veth202i0", 30, true);    // the agent's, untagged, as configured below
    std::map<std::string, VlanSettings, std::less<>> vlans = {
        {"veth105i0", {7, {}}}, {"veth201i0", {5, {}}}, {"veth202i0", {{}, {}}}, {"p2", {9, {}}}};
    Plan p = plan(r, "br0", {"veth105i0", "veth201i0", "veth202i0", "p2"}, {"veth"}, vlans);
    REQUIRE(p.attach.size() == 1);
    CHECK(p.attach[0].tag == 7);
    // veth201i0 differs; veth202i0 is as configured (no tag, no trunks); p2 is not the agent's.
    REQUIRE(p.retag.size() == 1);
    CHECK(p.retag[0].name == "veth201i0");
    CHECK(p.retag[0].tag == 5);
    auto ops = change_ops(r, "br0", {}, {}, p.retag);
    REQUIRE(ops);
    CHECK((*ops)[1] == json::parse(R"({"op":"update","table":"Port","where":[["_uuid","==",["uuid",")" + uuid(20) +
                                   R"("]]],"row":{"tag":["set",[5]],"trunks":["set",[]]}})"));
    CHECK(ops->back()["comment"] == "alopex-ovs-agentd: br0: retag veth201i0");
    CHECK(change_ops(r, "br0", {}, {}, {{"p2", "", {}, 9, {}}}).error().code == EPERM);
    // Applied (as the server reports it), the plan is empty.
    REQUIRE(r.apply(json::parse(R"({"Port":{")" + uuid(20) + R"(":{"modify":{"tag":5}}}})")));
    CHECK(plan(r, "br0", {"veth201i0", "veth202i0"}, {"veth"}, vlans).empty());
}

TEST_CASE("ovs confirmations: cur_cfg, then an ofport or an error; the deadline", "[ovs]")
{
    Replica r = copy();
    std::string ovs = r.rows("Open_vSwitch").begin()->first.to_string();
    std::string p1 = uuid_of(r, "Interface", "p1"), p2 = uuid_of(r, "Interface", "p2");
    Confirmations c;
    std::vector<Outcome> done;
    c.expect(3, {"p1", "p2"}, 10'000'000, [&](Outcome o) { done.push_back(std::move(o)); });
    c.expect(9, {"p1"}, 5'000'000, [&](Outcome o) { done.push_back(std::move(o)); });
    CHECK(c.next_deadline() == 5'000'000);
    auto update = [&](const std::string &text) {
        REQUIRE(r.apply(json::parse(text)));
        c.check(r);
    };
    update(R"({"Open_vSwitch":{")" + ovs + R"(":{"modify":{"cur_cfg":2}}}})");
    CHECK(done.empty());   // not applied yet
    update(R"({"Open_vSwitch":{")" + ovs + R"(":{"modify":{"cur_cfg":3}}},"Interface":{")" + p1 +
           R"(":{"modify":{"ofport":1}}}})");
    CHECK(done.empty());   // applied, p2 not opened yet
    update(R"({"Interface":{")" + p2 +
           R"j(":{"modify":{"ofport":-1,"error":"could not open network device p2 (No such device)"}}}})j");
    REQUIRE(done.size() == 1);
    CHECK(done[0].attached == std::vector<std::pair<std::string, int64_t>>{{"p1", 1}});
    REQUIRE(done[0].failed.size() == 1);
    CHECK(done[0].failed[0] ==
          std::pair<std::string, std::string>{"p2", "could not open network device p2 (No such device)"});
    CHECK_FALSE(done[0].timed_out);
    CHECK(c.waiting() == 1);
    c.advance(4'999'999);
    CHECK(done.size() == 1);
    c.advance(5'000'000);   // cfg 9 never came
    REQUIRE(done.size() == 2);
    CHECK(done[1].timed_out);
    CHECK(done[1].failed[0].second == "ovs-vswitchd did not apply the change in time");
    CHECK(c.waiting() == 0);
    CHECK(c.next_deadline() == UINT64_MAX);
}
