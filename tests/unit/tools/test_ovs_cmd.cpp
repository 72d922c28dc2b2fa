// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl ovs ...`: argument parsing and the documents (golden files), without a bus.
#include <catch2/catch.hpp>

#include "ovs_cmd.hpp"
#include "render.hpp"

using namespace alopexctl;
using Op = OvsRequest::Op;
namespace pa = alopex::ipc::portagent1;
using namespace alopex::test;

namespace {

alopex::Result<OvsRequest> parse(std::vector<std::string_view> w) { return parse_ovs_args(w); }

std::string msg(std::vector<std::string_view> w)
{
    auto r = parse_ovs_args(w);
    REQUIRE_FALSE(r);
    return r.error().message;
}

} // namespace

TEST_CASE("alopexctl ovs: subcommands, and bad arguments named")
{
    CHECK(parse({})->op == Op::ports);
    CHECK(parse({"plan"})->op == Op::plan);
    auto attach = parse({"attach", "veth100i0", "tap200i1"});
    REQUIRE(attach);
    CHECK(attach->names == std::vector<std::string>{"veth100i0", "tap200i1"});
    auto name = parse({"name", "my-container", "0"});
    REQUIRE(name);
    CHECK((name->op == Op::name && name->container == "my-container" && name->index == 0));
    auto create = parse({"create-interface", "veth-123-eth0", "container-123", "100"});
    REQUIRE(create);
    CHECK((create->raw == "veth-123-eth0" && create->container == "container-123" && create->vmid == 100));
    CHECK(parse({"remove-interface", "vi100"})->names == std::vector<std::string>{"vi100"});
    CHECK(parse({"detach", "vi100"})->op == Op::detach);
    CHECK(parse({"reload"})->op == Op::reload);
    auto up = parse({"uplink", "ovsbr0", "eno1", "120"});
    REQUIRE(up);
    CHECK((up->op == Op::uplink && up->bridge == "ovsbr0" && up->raw == "eno1" && up->timeout_s == 120));
    CHECK(parse({"uplink", "ovsbr0", "eno1"})->timeout_s == 60);
    CHECK_THAT(msg({"uplink", "ovsbr0"}), Catch::Contains("missing argument"));
    CHECK_THAT(msg({"uplink", "ovsbr0", "eno1", "99999"}), Catch::Contains("SECONDS"));
    CHECK_THAT(msg({"attach"}), Catch::Contains("missing argument"));
    CHECK_THAT(msg({"attach", "a/b"}), Catch::Contains("not an interface name: 'a/b'"));
    CHECK_THAT(msg({"attach", "sixteen-bytes-xx"}), Catch::Contains("'sixteen-bytes-xx'"));
    CHECK_THAT(msg({"name", "c", "-1"}), Catch::Contains("not '-1'"));
    CHECK_THAT(msg({"create-interface", "v0", "c", "1000000000"}), Catch::Contains("VMID"));
    CHECK_THAT(msg({"detach", "a", "b"}), Catch::Contains("unexpected argument 'b'"));
    CHECK_THAT(msg({"plan", "x"}), Catch::Contains("'x'"));
}

TEST_CASE("alopexctl ovs: the documents in every rendering")
{
    std::vector<pa::PortInfo> ports = {
        {"tap300i0", false, 3, -1, {}, "", 0, ""},
        {"veth100i0", true, 7, 10, {20, 30}, "ct100", 100, ""},
        {"veth9", true, -1, -1, {}, "", 0, "could not open network device veth9 (No such device)"},
    };
    check_golden("ovs-ports.txt", all_renderings(ovs_ports_document(ports)));
    check_golden("ovs-attach.txt",
                 all_renderings(ovs_attach_document({{"vi100", 5, ""}, {"nosuch0", -1, "timed out"}})));
    check_golden("ovs-plan.txt", all_renderings(ovs_plan_document({{"attach", "veth7", "tag=10"},
                                                                   {"detach", "veth8", "its link is gone"}})));
    CHECK(people(ovs_plan_document({})) == "(nothing to do)\n");
}
