// SPDX-License-Identifier: GPL-2.0-or-later
// The Broker's operations without the bus: allowed calls act and are recorded in the
// ledger; refused or bad ones change nothing (no file touched, no ledger record).
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "alopex/ledger.hpp"
#include "broker.hpp"
#include "broker_fixture.hpp"

using namespace alopex;
using namespace alopex::broker;
using alopex::test::Fixture;

TEST_CASE("allowed operations act and are recorded")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    REQUIRE(b.open_ledger());

    REQUIRE(b.write_file(f.me, "resolv.conf", "nameserver ::1\n"));
    CHECK(f.slurp("resolv.conf") == "nameserver ::1\n");
    REQUIRE(b.write_file(f.me, "unbound", "server:\n  serve-expired: yes\n"));
    CHECK(f.slurp("unbound.conf") == "server:\n  serve-expired: yes\n");
    REQUIRE(b.write_block(f.me, "interfaces", "ovs", "auto vi1"));
    CHECK(f.slurp("interfaces") ==
          "auto lo\n# BEGIN ovs\nauto vi1\n# END ovs\n# BEGIN other\nkept\n# END other\n");
    auto dev = b.open_device(f.me, "/dev/null");
    REQUIRE(dev);
    CHECK(dev->get() >= 0);
    REQUIRE(b.record(f.me, "test.ok", "details here"));
    CHECK(f.ledger_records() == 8);

    auto recs = ledger::read_file(f.dir / "state" / "ledger.jsonl");
    REQUIRE(recs);
    CHECK((*recs)[0].action == "broker.WriteManagedFile.intent");
    CHECK((*recs)[1].action == "broker.WriteManagedFile");
    CHECK((*recs)[1].details.starts_with("id=resolv.conf path="));
    CHECK((*recs)[1].details.find("bytes=15 sha256=") != std::string::npos);
    CHECK((*recs)[1].actor == Broker::actor_name(f.me));
    CHECK((*recs)[3].details.starts_with("id=unbound path="));
    CHECK((*recs)[4].action == "broker.WriteManagedBlock.intent");
    CHECK((*recs)[5].action == "broker.WriteManagedBlock");
    CHECK((*recs)[6].action == "broker.OpenDevice");
    CHECK((*recs)[6].details == "path=/dev/null");
    CHECK((*recs)[7].action == "test.ok");
    CHECK((*recs)[7].details == "details here");
}

TEST_CASE("refused and bad calls change nothing")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    const std::string iface = f.slurp("interfaces");
    auto name = [](const auto &r) {
        REQUIRE_FALSE(r);
        return r.error().bus_name;
    };
    CHECK(name(b.write_file(f.other, "resolv.conf", "x")) == bus_error::NotAuthorized);
    CHECK(name(b.write_file(f.me, "nope", "x")) == bus_error::NotAuthorized);
    CHECK(name(b.write_file(f.me, "resolv.conf", std::string(65, 'x'))) == bus_error::TooLarge);
    // A [[file]] with a validator: what it refuses is never written.
    CHECK(name(b.write_file(f.me, "unbound", "include: /etc/shadow\n")) == bus_error::InvalidArgument);
    CHECK_FALSE(std::filesystem::exists(f.dir / "unbound.conf"));
    CHECK(name(b.write_block(f.me, "interfaces", "bad tag", "x")) == bus_error::InvalidArgument);
    CHECK(name(b.write_block(f.me, "interfaces", "other", "auto x")) ==
          bus_error::InvalidArgument);
    CHECK(name(b.write_block(f.me, "interfaces", "ovs", "# END ovs\n")) ==
          bus_error::InvalidArgument);
    CHECK(name(b.write_block(f.me, "interfaces", "ovs", "# BEGIN other\n")) ==
          bus_error::InvalidArgument);
    CHECK(name(b.write_block(f.me, "interfaces", "ovs", "iface vi1 inet manual\n  up id\n")) ==
          bus_error::InvalidArgument);
    CHECK(name(b.write_block(f.other, "interfaces", "ovs", "x")) == bus_error::NotAuthorized);
    CHECK(name(b.write_block(f.me, "nope", "ovs", "x")) == bus_error::NotAuthorized);
    CHECK(name(b.open_device(f.me, "/dev/zero")) == bus_error::NotAuthorized);
    CHECK(name(b.open_device(f.me, "/dev/../dev/null")) == bus_error::PathNotAllowed);
    CHECK(name(b.open_device(f.other, "/dev/null")) == bus_error::NotAuthorized);
    CHECK(name(b.open_device(f.me, (f.dir / "regular").string())) == bus_error::WrongFileType);
    CHECK(name(b.open_ovsdb(f.other)) == bus_error::NotAuthorized);
    CHECK(name(b.open_ovsdb(f.me)) == bus_error::IOError); // nobody listening
    CHECK(name(b.record(f.other, "a", "b")) == bus_error::NotAuthorized);
    CHECK(name(b.record(f.me, "bad action", "b")) == bus_error::InvalidArgument);
    CHECK(name(b.record(f.me, "broker.WriteManagedFile", "id=resolv.conf")) ==
          bus_error::InvalidArgument);

    CHECK_FALSE(std::filesystem::exists(f.dir / "resolv.conf"));
    CHECK(f.slurp("interfaces") == iface);
    CHECK(f.ledger_records() == 0);
}

// A listening AF_UNIX stream socket at `path` (what ovsdb-server or ovs-vswitchd offer).
static Fd unix_listener(const std::filesystem::path &path)
{
    Fd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::string p = path.string();
    REQUIRE(p.size() < sizeof sa.sun_path);
    memcpy(sa.sun_path, p.c_str(), p.size());
    REQUIRE(bind(listener.get(), reinterpret_cast<sockaddr *>(&sa), sizeof sa) == 0);
    REQUIRE(listen(listener.get(), 4) == 0);
    return listener;
}

// `fd` is connected to `listener`: what is written on it arrives at the accepted end.
static void check_connected(const Fd &fd, const Fd &listener)
{
    Fd peer(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    REQUIRE(peer);
    REQUIRE(write(fd.get(), "ping", 4) == 4);
    char buf[8] = {};
    REQUIRE(read(peer.get(), buf, sizeof buf) == 4);
    CHECK(std::string(buf, 4) == "ping");
}

TEST_CASE("OpenOvsdb hands out a connected socket")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    Fd listener = unix_listener(f.dir / "db.sock");
    auto fd = b.open_ovsdb(f.me);
    REQUIRE(fd);
    check_connected(*fd, listener);
    CHECK(f.ledger_records() == 1);
}

TEST_CASE("OpenOvsBridge connects to BRIDGE.mgmt beside the ovsdb socket; names are checked first")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    Fd listener = unix_listener(f.dir / "br0.mgmt");
    for (const char *bad : {"", ".", "..", "../br0", "br0/x", "0123456789abcdef", "br 0"}) {
        auto r = b.open_ovs_bridge(f.me, bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().bus_name == bus_error::InvalidArgument);
    }
    CHECK(f.ledger_records() == 0);
    auto fd = b.open_ovs_bridge(f.me, "br0");
    REQUIRE(fd);
    check_connected(*fd, listener);
    CHECK(f.ledger_records() == 1);
    CHECK(b.open_ovs_bridge(f.me, "nosuch").error().bus_name == bus_error::IOError);
}

TEST_CASE("a broken ledger refuses every mutation before anything changes")
{
    Fixture f;
    // A complete last line that is not a record: tampering, not a torn write.
    std::ofstream(f.dir / "state" / "ledger.jsonl") << "{\"seq\":1,\"broken\n";
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    CHECK_FALSE(b.open_ledger());
    auto w = b.write_file(f.me, "resolv.conf", "x");
    REQUIRE_FALSE(w);
    CHECK(w.error().bus_name == bus_error::IOError);
    CHECK_FALSE(std::filesystem::exists(f.dir / "resolv.conf"));
    auto d = b.open_device(f.me, "/dev/null");
    REQUIRE_FALSE(d);
    CHECK(d.error().bus_name == bus_error::IOError);
    CHECK_FALSE(b.record(f.me, "a", "b"));
    CHECK(f.slurp("state/ledger.jsonl") == "{\"seq\":1,\"broken\n");
    b.ping(f.me); // read-only calls still work
    CHECK(b.version(f.me) == ALOPEX_VERSION_FOR_TEST);
}

TEST_CASE("a failed reload keeps the last good table")
{
    Fixture f;
    Broker b(f.dir / "broker.toml", f.dir / "state");
    REQUIRE(b.reload());
    f.write_config("bogus = 1\n");
    auto r = b.reload();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with((f.dir / "broker.toml").string() + ":"));
    CHECK(b.write_file(f.me, "resolv.conf", "still allowed\n"));
    // A good reload takes effect, including a new ledger path.
    std::filesystem::create_directory(f.dir / "l2");
    f.write_config("[ledger]\npath = \"" + (f.dir / "l2" / "x.jsonl").string() + "\"\n");
    REQUIRE(b.reload());
    CHECK(b.ledger_path() == f.dir / "l2" / "x.jsonl");
    REQUIRE(b.record(f.me, "a", "b"));
    auto v = ledger::verify_file(f.dir / "l2" / "x.jsonl");
    REQUIRE(v);
    CHECK(v->records == 1);
}

TEST_CASE("a missing broker.toml is an error")
{
    Fixture f;
    Broker b(f.dir / "nope.toml", f.dir / "state");
    auto r = b.reload();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("nope.toml: cannot open: No such file or directory") != std::string::npos);
    CHECK_FALSE(b.has_config());
    auto w = b.write_file(f.me, "resolv.conf", "x");
    REQUIRE_FALSE(w);
}

TEST_CASE("actors are user names or uid:N")
{
    CHECK(Broker::actor_name(0) == "root");
    CHECK(Broker::actor_name(4294967000u) == "uid:4294967000");
}
