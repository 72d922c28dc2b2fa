// SPDX-License-Identifier: GPL-2.0-or-later
// Names the agent gives: naming_template rendered as nm-monitor renders it (the seed's
// own documented results: "vi_{container}" with "container-123" is vi_container_51),
// and vi<VMID> with collision suffixes, never over 15 bytes.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "naming.hpp"

using namespace alopex::ovs;

TEST_CASE("ovs naming: templates rendered as the seed renders them", "[ovs][naming]")
{
    CHECK(render_name("vi_{container}", "container-123", 0) == "vi_container_51");
    CHECK(render_name("vi{container}", "container-123", 0) == "vicontainer_123");   // 15: as is
    CHECK(render_name("veth-{container}-eth{index}", "9000i1", 0) == "veth_9000i1_ee6");
    CHECK(render_name("veth-{container}-eth{index}", "my-container", 0) == "veth_my_contada");
    CHECK(render_name("vi{container}", "CT\xc3\xa9" "a", 2) == "vict_a");   // é: one '_'
    CHECK(render_name("{container}-{index}-{index}", "a", 7) == "a_7_7");
    CHECK(render_name("x{container}", "", 0) == "x");
    for (const char *c : {"a-very-long-container-name", "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", "UPPER.case/and spaces"})
        CHECK(render_name("vi_{container}_{index}", c, 12).size() <= 15);
}

TEST_CASE("ovs naming: vi<VMID>, then _1, _2 ... while taken, never over 15 bytes", "[ovs][naming]")
{
    std::set<std::string> taken;
    auto is_taken = [&](const std::string &n) { return taken.contains(n); };
    CHECK(vi_name(100, is_taken) == "vi100");
    taken = {"vi100", "vi100_1"};
    CHECK(vi_name(100, is_taken) == "vi100_2");
    auto all = [](const std::string &) { return true; };
    CHECK_FALSE(vi_name(999999999, all));
    taken.clear();
    for (int i = 1; i <= 99; ++i)
        taken.insert("vi999999999_" + std::to_string(i));
    taken.insert("vi999999999");
    CHECK(vi_name(999999999, is_taken) == "vi999999999_100");   // 15 bytes
}
