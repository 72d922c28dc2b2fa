// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-ovs-agent.toml(5): the seed's keys (an nm-monitor config.toml is accepted),
// defaults, and every refusal at file:line:col; and the /etc/network/interfaces block,
// compared with golden files and passed through the broker's own "interfaces" validator.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "block.hpp"
#include "block_validator.hpp"
#include "port_ops.hpp"
#include "samples.hpp"
#include "settings.hpp"

using namespace alopex::ovs;
using json = nlohmann::json;

namespace {

std::string refusal(const std::string &text)
{
    auto s = parse_settings(text, "ovs-agent.toml");
    REQUIRE_FALSE(s);
    return s.error().message;
}

// The golden file `name`; ALOPEX_REGENERATE_GOLDEN=1 writes it instead.
void golden(const std::string &name, const std::string &text)
{
    std::string path = std::string(ALOPEX_OVS_GOLDEN) + "/" + name;
    if (const char *r = std::getenv("ALOPEX_REGENERATE_GOLDEN"); r && std::string(r) == "1") {
        std::ofstream(path, std::ios::binary) << text;
        return;
    }
    std::ifstream f(path, std::ios::binary);
    REQUIRE(f);
    std::stringstream s;
    s << f.rdbuf();
    CHECK(text == s.str());
    auto ok = alopex::broker::validate_block(alopex::broker::Validator::interfaces, text);
    CHECK(ok);
}

} // namespace

TEST_CASE("ovs settings: defaults, the seed's config.toml, everything", "[ovs][settings]")
{
    auto d = parse_settings("", "ovs-agent.toml");
    REQUIRE(d);
    CHECK(d->bridge == "ovsbr0");
    CHECK(d->prefixes == std::vector<std::string>{"veth", "tap", "vi"});
    CHECK(d->debounce_usec == 0);
    CHECK(d->block_tag == "ovs-port-agent");
    CHECK_FALSE(d->create_bridge);
    // The seed's example config.toml, as nm-monitor shipped it.
    auto seed = parse_settings("bridge_name = \"vmbr0\"\ninterfaces_path = \"/etc/network/interfaces\"\n"
                               "include_prefixes = [\"veth\", \"tap\"]\ndebounce_ms = 500\n"
                               "managed_block_tag = \"ovs-port-agent\"\nnaming_template = \"veth-{container}-eth{index}\"\n"
                               "enable_rename = true\nledger_path = \"/var/lib/ovs-port-agent/ledger.jsonl\"\n",
                               "config.toml");
    REQUIRE(seed);
    CHECK(seed->bridge == "vmbr0");
    CHECK(seed->prefixes == std::vector<std::string>{"veth", "tap"});
    CHECK(seed->debounce_usec == 500'000);
    CHECK(seed->enable_rename);
    REQUIRE(seed->notices.size() == 2);
    CHECK(seed->notices[0].starts_with("config.toml:2:19: interfaces_path is the broker's"));
    CHECK(seed->notices[1].starts_with("config.toml:8:15: ledger_path is not used"));
    auto all = parse_settings("container_name_cmd = \"/usr/sbin/pct config {vmid}\"\n[bridge]\ncreate = true\n"
                              "datapath_type = \"netdev\"\n[ports.veth101i0]\ntag = 10\n[ports.tap102i0]\n"
                              "trunks = [20, 30]\n",
                              "ovs-agent.toml");
    REQUIRE(all);
    CHECK(all->container_name_cmd == std::vector<std::string>{"/usr/sbin/pct", "config", "{vmid}"});
    CHECK(all->create_bridge);
    CHECK(all->datapath_type == "netdev");
    CHECK(all->vlans.at("veth101i0") == VlanSettings{10, {}});
    CHECK(all->vlans.at("tap102i0") == VlanSettings{{}, {20, 30}});
    CHECK_FALSE(all->flows);
    auto flows = parse_settings("[flows]\nenable = true\nlocal = [\"10.55.0.0/24\", \"fd55::/64\"]\n", "f.toml");
    REQUIRE(flows);
    CHECK(flows->flows);
    REQUIRE(flows->local.size() == 2);
    CHECK(flows->local[1].to_string() == "fd55::/64");
}

TEST_CASE("ovs settings: refusals name the file, line and column", "[ovs][settings]")
{
    CHECK(refusal("bridgename = \"x\"\n").starts_with("ovs-agent.toml:1:1: unknown key 'bridgename'"));
    CHECK(refusal("bridge_name = \"a-very-long-bridge-name\"\n") ==
          "ovs-agent.toml:1:15: 'bridge_name' is not an interface name (1 to 15 bytes): 'a-very-long-bridge-name'");
    CHECK(refusal("include_prefixes = [\"ve th\"]\n") ==
          "ovs-agent.toml:1:21: 've th' cannot begin an interface name (1 to 15 bytes, no '/', ':' or spaces)");
    CHECK(refusal("debounce_ms = -1\n") == "ovs-agent.toml:1:15: 'debounce_ms' must be 0..10000, not -1");
    CHECK(refusal("managed_block_tag = \"a b\"\n") ==
          "ovs-agent.toml:1:21: 'managed_block_tag' must be 1 to 64 of [A-Za-z0-9._:@-]");
    CHECK(refusal("naming_template = \"vi\"\n") == "ovs-agent.toml:1:19: 'naming_template' needs {container} or {index}: 'vi'");
    CHECK(refusal("container_name_cmd = \"pct config\"\n") ==
          "ovs-agent.toml:1:22: 'container_name_cmd' must start with an absolute path (it runs without a shell)");
    CHECK(refusal("[bridge]\ndatapath_type = \"dpdk\"\n") ==
          "ovs-agent.toml:2:17: 'datapath_type' must be \"system\" or \"netdev\", not 'dpdk'");
    CHECK(refusal("[ports.veth1]\ntag = 4096\n") == "ovs-agent.toml:2:7: 'tag' must be a VLAN 0..4095, not 4096");
    CHECK(refusal("[ports.veth1]\ntrunks = [1, -2]\n") == "ovs-agent.toml:2:14: 'trunks' must be a VLAN 0..4095, not -2");
    CHECK(refusal("[ports.veth1]\nmode = 1\n").starts_with("ovs-agent.toml:2:1: unknown key 'mode'"));
    CHECK(refusal("[flows]\nlocal = [\"10.55.0.1/24\"]\n").starts_with("ovs-agent.toml:2:10: 'local': "));
    CHECK(refusal("[flows]\nlocal = [\"10.55.0.0/24\", \"10.55.0.0/24\"]\n") ==
          "ovs-agent.toml:2:26: 'local': 10.55.0.0/24 is given twice");
    CHECK(refusal("[flows]\nlocal = [\"nonsense\"]\n").starts_with("ovs-agent.toml:2:10: 'local': "));
    CHECK(refusal("[flows]\nenable = 1\n").starts_with("ovs-agent.toml:2:"));
    CHECK(valid_ifname("vi100"));
    CHECK_FALSE(valid_ifname(""));
    CHECK_FALSE(valid_ifname("a/b"));
    CHECK_FALSE(valid_ifname("1234567890123456"));
}

TEST_CASE("ovs block: the agent's ports, ifupdown2 style, golden and valid for the broker", "[ovs][block]")
{
    golden("block-empty.txt", render_block("ovsbr0", {}));
    golden("block-ports.txt", render_block("vmbr0", {{"veth101i0", 10, {}}, {"tap102i0", {}, {20, 30}},
                                                     {"vi103", 0, {7}}, {"veth100i1", {}, {}}}));
    // From a copy of the database: only the agent's ports (p1, p2 and br0's own are not).
    auto copied = ovs_test::copy();
    auto *r = &copied;
    CHECK(block_ports(*r, "br0").empty());
    std::string br0 = find_bridge(*r, "br0").uuid.to_string();
    REQUIRE(r->apply(json::parse(R"({"Port":{"00000000-0000-0000-0000-000000000009":{"insert":{"name":"veth101i0",
        "interfaces":["uuid","00000000-0000-0000-0000-000000000008"],"tag":5,"trunks":["set",[1,2]],
        "external_ids":["map",[["alopex-owner","ovs-agentd"]]]}}},
        "Bridge":{")" + br0 + R"(":{"modify":{"ports":["uuid","00000000-0000-0000-0000-000000000009"]}}}})")));
    CHECK(block_ports(*r, "br0") == std::vector<BlockPort>{{"veth101i0", 5, {1, 2}}});
}
