// SPDX-License-Identifier: GPL-2.0-or-later
// broker.toml: the documented example loads; every mistake is refused with file:line:col.
#include <catch2/catch.hpp>

#include "config.hpp"

using namespace alopex;
using namespace alopex::broker;

namespace {

std::optional<uid_t> fake_users(const std::string &name)
{
    static const std::pair<const char *, uid_t> users[] = {
        {"root", 0}, {"alopex-link", 901}, {"alopex-fw", 902}, {"alopex-slirp", 903},
        {"alopex-ovs", 904}, {"alopex-dns", 905}};
    for (auto &[n, u] : users)
        if (name == n)
            return u;
    return std::nullopt;
}

Result<Config> parse(std::string_view text) { return parse_config(text, "broker.toml", fake_users); }

std::string error_of(std::string_view text)
{
    auto r = parse(text);
    REQUIRE_FALSE(r);
    return r.error().message;
}

} // namespace

TEST_CASE("the documented example loads")
{
    auto c = parse(R"(
[ledger]
path = "/var/lib/alopex/broker/ledger.jsonl"
[limits]
max_contents = 1048576
[[device]]
glob = "/dev/ttyUSB*"
callers = ["alopex-slirp"]
[[file]]
id = "resolv.conf"
path = "/etc/resolv.conf"
callers = ["alopex-dns"]
mode = "0644"
[[block]]
id = "interfaces"
path = "/etc/network/interfaces"
tag = "ovs"
validator = "interfaces"
callers = ["alopex-ovs"]
[ovsdb]
socket = "/run/openvswitch/db.sock"
callers = ["alopex-ovs"]
[record]
callers = ["alopex-link", "alopex-fw", "alopex-slirp", "alopex-ovs", "alopex-dns"]
)");
    INFO((c ? "" : c.error().message));
    REQUIRE(c);
    CHECK(c->ledger_path == std::filesystem::path("/var/lib/alopex/broker/ledger.jsonl"));
    CHECK(c->max_contents == 1048576);
    REQUIRE(c->devices.size() == 1);
    CHECK(c->devices[0].glob == "/dev/ttyUSB*");
    CHECK(c->devices[0].callers == std::vector<uid_t>{903});
    REQUIRE(c->files.size() == 1);
    CHECK(c->files[0].mode == 0644);
    CHECK(c->files[0].callers == std::vector<uid_t>{905});
    REQUIRE(c->blocks.size() == 1);
    CHECK(c->blocks[0].path == "/etc/network/interfaces");
    CHECK(c->blocks[0].tag == "ovs");
    CHECK(c->blocks[0].validator == Validator::interfaces);
    CHECK(c->record_rate == default_record_rate);
    CHECK(c->record_burst == default_record_burst);
    REQUIRE(c->ovsdb);
    CHECK(c->ovsdb->socket == "/run/openvswitch/db.sock");
    CHECK(c->record_callers.size() == 5);
}

TEST_CASE("defaults: empty file, numeric callers, integer mode")
{
    auto empty = parse("");
    REQUIRE(empty);
    CHECK(empty->max_contents == default_max_contents);
    CHECK_FALSE(empty->ledger_path);
    CHECK(empty->devices.empty());
    CHECK_FALSE(empty->ovsdb);
    auto c = parse("[[file]]\nid = \"a\"\npath = \"/x/a\"\ncallers = [1234, \"4321\", \"root\"]\n"
                   "mode = 0o600\n[ovsdb]\ncallers = []\n");
    INFO((c ? "" : c.error().message));
    REQUIRE(c);
    CHECK(c->files[0].callers == std::vector<uid_t>{1234, 4321, 0});
    CHECK(c->files[0].mode == 0600);
    CHECK(c->ovsdb->socket == default_ovsdb_socket);
}

TEST_CASE("mistakes are refused with file:line:col")
{
    CHECK(error_of("[limits]\nmax_contents = \"big\"\n") ==
          "broker.toml:2:16: 'limits.max_contents' must be an integer, not string");
    CHECK(error_of("[limits]\nmax_contents = 16777217\n") ==
          "broker.toml:2:16: 'limits.max_contents' must be between 1 and 16777216 bytes");
    CHECK(error_of("[limits]\nmax_contents = 0\n").starts_with("broker.toml:2:16:"));
    CHECK(error_of("[limit]\n") == "broker.toml:1:2: unknown key 'limit' in the top level");
    CHECK(error_of("[[file]]\nid = \"a\"\npath = \"/a\"\ncallers = []\nowner = 1\n") ==
          "broker.toml:5:1: unknown key 'owner' in [file[0]]");
    CHECK(error_of("[[file]]\nid = \"a\"\ncallers = []\n") ==
          "broker.toml:1:1: missing required key 'path' in [file[0]]");
    CHECK(error_of("[[device]]\nglob = \"/dev/tty*\"\ncallers = [\"nosuchuser\"]\n") ==
          "broker.toml:3:12: unknown user 'nosuchuser'");
    CHECK(error_of("[[device]]\nglob = \"/dev/tty*\"\ncallers = [-1]\n") ==
          "broker.toml:3:12: uid -1 is out of range");
    CHECK(error_of("[[device]]\nglob = \"/dev/tty*\"\ncallers = [true]\n")
              .starts_with("broker.toml:3:12: 'device[0].callers[0]' must be a user name or a uid"));
    CHECK(error_of("[[device]]\nglob = \"dev/tty*\"\ncallers = []\n")
              .starts_with("broker.toml:2:8: 'glob' must be an absolute"));
    CHECK(error_of("[[device]]\nglob = \"/dev/../tty*\"\ncallers = []\n")
              .starts_with("broker.toml:2:8:"));
    CHECK(error_of("[[file]]\nid = \"a b\"\npath = \"/a\"\ncallers = []\n")
              .starts_with("broker.toml:2:6: 'id' must be"));
    CHECK(error_of("[[file]]\nid = \"a\"\npath = \"/a/../b\"\ncallers = []\n")
              .starts_with("broker.toml:3:8: 'file[0].path' must be a normalized path"));
    CHECK(error_of("[[file]]\nid = \"a\"\npath = \"rel\"\ncallers = []\n")
              .starts_with("broker.toml:3:8: 'file[0].path' must be an absolute path"));
    CHECK(error_of("[[file]]\nid = \"a\"\npath = \"/a\"\ncallers = []\nmode = \"0999\"\n")
              .starts_with("broker.toml:5:8: 'mode' must be an octal"));
    CHECK(error_of("[[file]]\nid = \"a\"\npath = \"/a\"\ncallers = []\n"
                   "[[file]]\nid = \"a\"\npath = \"/b\"\ncallers = []\n") ==
          "broker.toml:6:6: duplicate file id 'a'");
    CHECK(error_of("file = \"x\"\n") == "broker.toml:1:8: 'file' must be an array, not string");
    CHECK(error_of("file = [1]\n") == "broker.toml:1:9: 'file[0]' must be a table, not integer");
    CHECK(error_of("[record]\ncallers = \"root\"\n")
              .starts_with("broker.toml:2:11: 'record.callers' must be an array"));
    CHECK(error_of("[record]\n") == "broker.toml:1:1: missing required key 'callers' in [record]");
    CHECK(error_of("[ledger]\npath = \"ledger.jsonl\"\n").starts_with("broker.toml:2:8:"));
    CHECK(error_of("[ovsdb]\nsocket = \"/" + std::string(120, 'a') + "\"\ncallers = []\n")
              .starts_with("broker.toml:2:10:"));
    CHECK(error_of("[[device]\n").starts_with("broker.toml:1:"));
}

TEST_CASE("blocks declare their tag and validator; Record limits are bounded")
{
    const std::string head = "[[block]]\nid = \"i\"\npath = \"/etc/network/interfaces\"\n";
    CHECK(error_of(head + "validator = \"interfaces\"\ncallers = []\n") ==
          "broker.toml:1:1: missing required key 'tag' in [block[0]]");
    CHECK(error_of(head + "tag = \"ovs\"\ncallers = []\n") ==
          "broker.toml:1:1: missing required key 'validator' in [block[0]]");
    CHECK(error_of(head + "tag = \"ovs\"\nvalidator = \"none\"\ncallers = []\n") ==
          "broker.toml:5:13: unknown validator 'none' (known: interfaces, unbound)");
    CHECK(error_of(head + "tag = \"o v s\"\nvalidator = \"interfaces\"\ncallers = []\n")
              .starts_with("broker.toml:4:7: 'tag' must be"));
    // Two ids on one block would let one caller write the other's.
    CHECK(error_of(head + "tag = \"ovs\"\nvalidator = \"interfaces\"\ncallers = []\n" +
                   "[[block]]\nid = \"j\"\npath = \"/etc/network/interfaces\"\n" +
                   "tag = \"ovs\"\nvalidator = \"interfaces\"\ncallers = []\n") ==
          "broker.toml:10:7: block tag 'ovs' in /etc/network/interfaces is already another "
          "block's");
    auto two = parse(head + "tag = \"ovs\"\nvalidator = \"interfaces\"\ncallers = []\n" +
                     "[[block]]\nid = \"j\"\npath = \"/etc/network/interfaces\"\n" +
                     "tag = \"ovs2\"\nvalidator = \"interfaces\"\ncallers = []\n");
    INFO((two ? "" : two.error().message));
    REQUIRE(two);
    CHECK(two->blocks.size() == 2);

    auto lim = parse("[limits]\nrecord_rate = 5\nrecord_burst = 10\n");
    REQUIRE(lim);
    CHECK(lim->record_rate == 5);
    CHECK(lim->record_burst == 10);
    CHECK(error_of("[limits]\nrecord_rate = 0\n") ==
          "broker.toml:2:15: 'limits.record_rate' must be between 1 and 65536");
    CHECK(error_of("[limits]\nrecord_burst = 65537\n") ==
          "broker.toml:2:16: 'limits.record_burst' must be between 1 and 65536");
}

TEST_CASE("user names resolve through NSS at load")
{
    CHECK(resolve_user_nss("root") == std::optional<uid_t>(0));
    CHECK_FALSE(resolve_user_nss("no-such-user-alopex-test"));
}

TEST_CASE("a file may declare a validator; an unknown one is refused")
{
    auto ok = parse("[[file]]\nid = \"u\"\npath = \"/etc/unbound/unbound.conf.d/alopex.conf\"\ncallers = []\n"
                    "validator = \"unbound\"\n");
    REQUIRE(ok);
    REQUIRE(ok->files.size() == 1);
    CHECK(ok->files[0].validator == Validator::unbound);
    auto bad = parse("[[file]]\nid = \"u\"\npath = \"/x\"\ncallers = []\nvalidator = \"shell\"\n");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "broker.toml:5:13: unknown validator 'shell' (known: interfaces, unbound)");
}
