// SPDX-License-Identifier: GPL-2.0-or-later
// SLAAC sysctls against a fake /proc/sys/net/ipv6/conf tree.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "sysctl.hpp"

namespace fs = std::filesystem;

namespace {

struct Tree {
    fs::path root;
    Tree()
    {
        char tmpl[] = "/tmp/alopex-sysctl-XXXXXX";
        root = mkdtemp(tmpl);
        fs::create_directories(root / "eth0");
        put("accept_ra", "1");
        put("autoconf", "1");
        put("forwarding", "0");
    }
    ~Tree() { fs::remove_all(root); }
    void put(const char *k, const char *v) { std::ofstream(root / "eth0" / k) << v << "\n"; }
    std::string get(const char *k)
    {
        std::string v;
        std::ifstream(root / "eth0" / k) >> v;
        return v;
    }
};

} // namespace

TEST_CASE("slaac sysctls: off, on, on with forwarding; nothing written when already right")
{
    Tree t;
    auto r = alopex::linkd::set_slaac("eth0", true, t.root);
    REQUIRE(r);
    CHECK_FALSE(*r);   // already 1/1
    r = alopex::linkd::set_slaac("eth0", false, t.root);
    REQUIRE(r);
    CHECK(*r);
    CHECK(t.get("accept_ra") == "0");
    CHECK(t.get("autoconf") == "0");
    t.put("forwarding", "1");
    r = alopex::linkd::set_slaac("eth0", true, t.root);
    REQUIRE(r);
    CHECK(t.get("accept_ra") == "2");
    CHECK(t.get("autoconf") == "1");
}

TEST_CASE("slaac sysctls: bad names and missing links are errors")
{
    Tree t;
    CHECK_FALSE(alopex::linkd::set_slaac("../eth0", true, t.root));
    CHECK_FALSE(alopex::linkd::set_slaac("..", true, t.root));
    CHECK_FALSE(alopex::linkd::set_slaac("", true, t.root));
    auto r = alopex::linkd::set_slaac("eth9", true, t.root);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("eth9") != std::string::npos);
}
