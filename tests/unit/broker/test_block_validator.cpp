// SPDX-License-Identifier: GPL-2.0-or-later
// The interfaces validator: what ovs-agentd writes passes; every way to run a command as
// root through ifupdown (hooks, eval'ed ovs_extra, source, continuation lines, options
// attached to somebody else's stanza, option-like words) is refused, naming the line.
#include <catch2/catch.hpp>

#include "block_validator.hpp"
#include "managed_block.hpp"
#include "validator_test.hpp"

using namespace alopex;
using namespace alopex::broker;

namespace {
Result<void> check(std::string_view text) { return validate_block(Validator::interfaces, text); }

std::string refusal(std::string_view text) { return test::refusal(Validator::interfaces, text); }
} // namespace

TEST_CASE("validators are named in broker.toml")
{
    CHECK(validator_from_string("interfaces") == Validator::interfaces);
    CHECK_FALSE(validator_from_string("Interfaces"));
    CHECK_FALSE(validator_from_string(""));
    CHECK(to_string(Validator::interfaces) == "interfaces");
}

TEST_CASE("the stanzas ovs-agentd writes pass")
{
    CHECK(check(""));
    CHECK(check("\n\n"));
    CHECK(check("# ports of vmbr0, managed by alopex-ovs-agentd\n"
                "auto vi100 vi101\n"
                "allow-vmbr0 vi100\n"
                "iface vi100 inet manual\n"
                "\tovs_type OVSPort\n"
                "    ovs_bridge vmbr0\n"
                "    ovs_options tag=100 vlan_mode=access other_config:x=y,z\n"
                "    ovs_mtu 9000\n"
                "\n"
                "  # an indented comment\n"
                "iface vi101 inet6 manual\r\n"
                "  ovs_type OVSIntPort\r\n"
                "  ovs_bridge vmbr0\r\n"
                "allow-ovs vmbr0\n"
                "iface vmbr0 inet manual\n"
                "  ovs_type OVSBridge\n"
                "  ovs_ports vi100 vi101\n"
                "iface bond0 inet manual\n"
                "  ovs_bonds eth1 eth2\n"
                "  ovs_type OVSBond\n"
                "  ovs_patch_peer p1\n"
                "  ovs_tunnel_type vxlan\n"
                "  ovs_tunnel_options options:remote_ip=192.0.2.1\n"
                "iface last inet manual")); // no final newline
}

TEST_CASE("hooks and includes that run or load anything are refused")
{
    const std::string iface = "iface vi100 inet manual\n";
    for (const char *hook : {"up", "down", "pre-up", "post-up", "pre-down", "post-down"}) {
        INFO(hook);
        auto m = refusal(iface + "    " + hook + " rm -rf /\n");
        CHECK(m.find("line 2") != std::string::npos);
        CHECK(m.find(std::string("'") + hook + "'") != std::string::npos);
    }
    // ifupdown.sh eval's ovs_extra: "$(...)" in it is a root shell.
    CHECK(refusal(iface + "  ovs_extra set bridge vmbr0 x=$(touch /pwned)\n")
              .find("'ovs_extra'") != std::string::npos);
    for (const char *top : {"source /tmp/evil", "source-directory /tmp", "mapping eth0",
                            "rename eth0=x", "no-scripts vi100", "up rm -rf /",
                            "script /tmp/x", "map x"}) {
        INFO(top);
        refusal(top);
    }
}

TEST_CASE("option lines outside an iface stanza of the block are refused")
{
    // The block's first lines would attach to the stanza before the block.
    refusal("  ovs_type OVSPort\n");
    refusal("# comment\n\n  ovs_bridge vmbr0\n");
    // After auto/allow- the option would belong to no stanza of ours either.
    refusal("iface a inet manual\nauto a\n  ovs_type OVSPort\n");
}

TEST_CASE("values with shell, glob or option syntax are refused")
{
    const std::string iface = "iface vi100 inet manual\n";
    for (const char *v : {"vmbr0;reboot", "$(id)", "`id`", "a|b", "a&b", "a>b", "*", "x?",
                          "[ab]", "'q'", "\"q\"", "a\\\\b", "-i/tmp/evil", "--interfaces=/x",
                          "~root", "a#b", "{a,b}", "!x"}) {
        INFO(v);
        refusal(iface + "  ovs_ports " + v + "\n");
    }
    refusal(iface + "  ovs_type\n"); // no value
}

TEST_CASE("stanza lines are exact")
{
    for (const char *l : {"iface vi100", "iface vi100 inet", "iface vi100 inet static",
                          "iface vi100 inet dhcp", "iface vi100 ipx manual",
                          "iface vi100 inet manual extra", "iface -x inet manual",
                          "iface a/b inet manual", "iface abcdefghijklmnop inet manual",
                          "auto", "auto -a", "auto a;b", "allow- x", "allow-a/b x",
                          "allow-hotplug", " iface vi100 inet manual", "\tauto x"}) {
        INFO(l);
        refusal(l);
    }
}

TEST_CASE("continuations, control characters and over-long lines are refused")
{
    refusal("iface a inet manual\n  ovs_type OVSPort \\\n");
    refusal("# a comment that continues \\\n");
    refusal(std::string("auto a\x01\n"));
    refusal(std::string("# nul \0 byte\n", 13));
    refusal("auto a\rb\n"); // CR only at the end of a line
    refusal("auto " + std::string(2000, 'a') + "\n");
    CHECK(refusal("auto a\nauto b\nup x\n").find("line 3:") != std::string::npos);
}

TEST_CASE("marker lines of any tag are refused in any block")
{
    for (const char *c : {"# BEGIN ovs\n", "# END other\n", "#BEGIN x\n", "  # end x\n",
                          "# BEGIN\n", "#\tEND\tx\r\n", "# begin ovs\n"}) {
        INFO(c);
        auto r = check_no_markers(c);
        REQUIRE_FALSE(r);
        CHECK(r.error().bus_name == bus_error::InvalidArgument);
        CHECK(r.error().message.starts_with("contents:"));
    }
    CHECK(check_no_markers("# Beginning of the ports\n# ENDING\nauto x # BEGIN y\n"));
}
