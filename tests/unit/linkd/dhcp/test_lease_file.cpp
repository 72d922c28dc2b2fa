// SPDX-License-Identifier: GPL-2.0-or-later
// The lease state file as hostile input (numbers out of range, repeated keys, oversized
// text), and how it is written (write_file_atomic: mode 0600, no temporary file left,
// also when the rename fails).
#include <sys/stat.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "io.hpp"

using namespace dhcp_test;
namespace fs = std::filesystem;

namespace {

Lease sample()
{
    Lease l;
    l.address = offered, l.prefixlen = 24, l.server_id = server;
    l.routers = {server};
    l.domain = "example.net";
    l.lease_s = 120, l.t1_s = 60, l.t2_s = 105;
    l.acquired_usec = 50 * S;
    return l;
}

std::string with(std::string text, const std::string &from, const std::string &to)
{
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return text;
}

struct TempDir {
    fs::path path;
    TempDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "linkd-lease-XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()));
        path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::set<std::string> entries() const
    {
        std::set<std::string> out;
        for (const auto &e : fs::directory_iterator(path))
            out.insert(e.path().filename().string());
        return out;
    }
};

} // namespace

TEST_CASE("Lease file: self-written numbers out of range make the file invalid")
{
    const std::string good = format_lease(sample(), 0);
    REQUIRE(parse_lease(good, 0));
    const std::string acquired = "acquired_realtime_usec=50000000";
    REQUIRE(good.find(acquired) != std::string::npos);
    // Times that would overflow the client's deadlines (acquired + lease) or its clock.
    for (const char *v : {"-1", "9223372036854775807", "-9223372036854775808", "253402300800000000",
                          "9223372036854775808", "1e9", " 5", "5 ", "+5", "0x10", ""})
        CHECK_FALSE(parse_lease(with(good, acquired, std::string("acquired_realtime_usec=") + v), 0));
    CHECK(parse_lease(with(good, acquired, "acquired_realtime_usec=253402300799999999"), 0));
    // A clock offset that would move the acquisition out of range of the client's clock.
    CHECK_FALSE(parse_lease(good, INT64_MIN));
    CHECK_FALSE(parse_lease(good, INT64_MAX));
    CHECK_FALSE(parse_lease(with(good, acquired, "acquired_realtime_usec=253402300799999999"), -1'000'000));
    // Lease times: 32 bits, 0 < T1 <= T2 <= lease; an infinite lease has infinite T1/T2.
    CHECK_FALSE(parse_lease(with(good, "lease=120", "lease=4294967296"), 0));
    CHECK_FALSE(parse_lease(with(good, "lease=120", "lease=-120"), 0));
    CHECK_FALSE(parse_lease(with(good, "t2=105", "t2=121"), 0));
    CHECK_FALSE(parse_lease(with(good, "t1=60", "t1=106"), 0));
    CHECK_FALSE(parse_lease(with(good, "lease=120", "lease=4294967295"), 0));
    auto inf = with(with(with(good, "lease=120", "lease=4294967295"), "t1=60", "t1=4294967295"), "t2=105",
                    "t2=4294967295");
    auto l = parse_lease(inf, 0);
    REQUIRE(l);
    CHECK(l->infinite());
    CHECK(l->expiry_at() == INT64_MAX);
    CHECK_FALSE(parse_lease(with(good, "prefixlen=24", "prefixlen=4294967320"), 0));
    CHECK_FALSE(parse_lease(with(good, "mtu=", "mtu=65536"), 0));
    CHECK_FALSE(parse_lease(with(good, "mtu=", "mtu=67"), 0));
}

TEST_CASE("Lease file: every deadline of a parsed lease is reachable without overflow")
{
    // The extremes the parser accepts, with the extreme clock offsets that still pass.
    const std::string text =
        with(with(format_lease(sample(), 0), "acquired_realtime_usec=50000000",
                  "acquired_realtime_usec=253402300799999999"),
             "lease=120", "lease=4294967294");
    for (int64_t off : {int64_t{0}, int64_t{-1}, int64_t{253'402'300'799'999'999}}) {
        auto l = parse_lease(text, off);
        if (!l)
            continue;
        CHECK(l->expiry_at() > l->acquired_usec);
        CHECK(l->t2_at() >= l->t1_at());
    }
}

TEST_CASE("Lease file: repeated keys, foreign text and oversized input are refused")
{
    const std::string good = format_lease(sample(), 0);
    CHECK_FALSE(parse_lease(good + "routers=192.0.2.1\n", 0));          // given twice
    CHECK_FALSE(parse_lease(good + "lease=120\n", 0));
    CHECK_FALSE(parse_lease(with(good, "domain=example.net", "domain=a b"), 0));
    CHECK_FALSE(parse_lease(with(good, "domain=example.net", "domain=" + std::string(256, 'a')), 0));
    CHECK(parse_lease(with(good, "domain=example.net", "domain=" + std::string(255, 'a')), 0));
    CHECK_FALSE(parse_lease(with(good, "domain=example.net", std::string("domain=a\0b", 10)), 0));
    CHECK_FALSE(parse_lease(good + std::string(max_lease_file, '#'), 0));
    CHECK_FALSE(parse_lease(std::string(max_lease_file + 1, '\n'), 0));
    CHECK_FALSE(parse_lease("=\n", 0));
    CHECK_FALSE(parse_lease("\n\n#\n", 0));
    CHECK_FALSE(parse_lease(with(good, "routers=192.0.2.1", "routers=192.0.2.1 999.1.1.1"), 0));
    CHECK_FALSE(parse_lease(with(good, "routes=", "routes=0.0.0.0/0"), 0));
    CHECK_FALSE(parse_lease(with(good, "routes=", "routes=10.0.0.0/99,1.2.3.4"), 0));
}

TEST_CASE("Lease file: written 0600 through a temporary file that never stays behind")
{
    TempDir dir;
    fs::path file = dir.path / "dhcp4-eth0.lease";
    Lease l = sample();
    REQUIRE(write_lease_file(file, l));
    struct stat st{};
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    auto back = read_lease_file(file);
    REQUIRE(back);
    REQUIRE(*back);
    CHECK((*back)->address == l.address);
    CHECK(dir.entries() == std::set<std::string>{"dhcp4-eth0.lease"});

    // The rename fails (a non-empty directory holds the name): the error names the path
    // and the temporary file is removed.
    fs::path blocked = dir.path / "dhcp4-eth1.lease";
    fs::create_directory(blocked);
    std::ofstream(blocked / "keep") << "x";
    auto r = write_lease_file(blocked, l);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("dhcp4-eth1.lease"));
    CHECK(dir.entries() == std::set<std::string>{"dhcp4-eth0.lease", "dhcp4-eth1.lease"});

    REQUIRE(remove_lease_file(file));
    auto gone = read_lease_file(file);
    REQUIRE(gone);
    CHECK_FALSE(gone->has_value());
}
