// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-ovs-hook's decisions: its command line, the OCI state (hostile input refused with
// what is wrong) and which links are a Proxmox guest's.
#include <catch2/catch.hpp>

#include <string>

#include "hook.hpp"

using namespace alopex::ovs_hook;

namespace {
alopex::Result<Invocation> parse(std::vector<std::string_view> w) { return parse_command_line(w); }
} // namespace

TEST_CASE("alopex-ovs-hook: Proxmox phases and oci; bad arguments named")
{
    auto post = parse({"100", "post-start"});
    REQUIRE(post);
    CHECK((post->kind == Invocation::Kind::proxmox && post->vmid == 100 && post->attach));
    for (auto phase : {"pre-start", "pre-stop", "post-stop"})
        CHECK_FALSE(parse({"100", phase})->attach);
    CHECK(parse({"oci"})->kind == Invocation::Kind::oci);
    CHECK_THAT(parse({"99", "post-start"}).error().message, Catch::Contains("VMID"));
    CHECK_THAT(parse({"1x", "post-start"}).error().message, Catch::Contains("'1x'"));
    CHECK_THAT(parse({"100", "started"}).error().message, Catch::Contains("PHASE"));
    CHECK_THAT(parse({}).error().message, Catch::Contains("usage"));
    CHECK_FALSE(parse({"oci", "x"}));
}

TEST_CASE("alopex-ovs-hook: the OCI state, hostile input refused")
{
    auto s = parse_oci_state(R"({"ociVersion":"1.0.2","id":"abc","status":"running","pid":4242,"bundle":"/b"})");
    REQUIRE(s);
    CHECK((s->id == "abc" && s->status == "running" && s->pid == 4242));
    CHECK(parse_oci_state(R"({"id":"abc","status":"stopped"})")->pid == 0);
    CHECK_THAT(parse_oci_state("not json").error().message, Catch::Contains("not a JSON object"));
    CHECK_THAT(parse_oci_state("[1]").error().message, Catch::Contains("not a JSON object"));
    CHECK_THAT(parse_oci_state(R"({"status":"running","pid":1})").error().message, Catch::Contains("\"id\""));
    CHECK_THAT(parse_oci_state(R"({"id":"a","status":"running"})").error().message, Catch::Contains("pid"));
    CHECK_THAT(parse_oci_state(R"({"id":"a","status":"running","pid":-5})").error().message, Catch::Contains("pid"));
    CHECK_THAT(parse_oci_state(R"({"id":"a","status":"running","pid":"7"})").error().message, Catch::Contains("pid"));
    CHECK_THAT(parse_oci_state(R"({"id":1,"status":"running","pid":7})").error().message, Catch::Contains("\"id\""));
    CHECK_THAT(parse_oci_state(std::string(2 << 20, ' ')).error().message, Catch::Contains("over"));
    CHECK_FALSE(parse_oci_state(std::string("{\"id\":\"a\0b\",", 13)));
}

TEST_CASE("alopex-ovs-hook: a Proxmox guest's interfaces")
{
    std::vector<std::string> links = {"veth100i0", "tap100i1", "vi100", "vi100_2", "veth1000i0", "tap10i0",
                                      "veth100i",  "veth100ix", "vi1000", "vi100_", "eth0", "veth100i12"};
    CHECK(guest_links(100, links) ==
          std::vector<std::string>{"tap100i1", "veth100i0", "veth100i12", "vi100", "vi100_2"});
    CHECK(guest_links(999, links).empty());
}
