// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl slirp ...`: argument parsing and the documents (golden files), without a bus.
#include <catch2/catch.hpp>

#include "render.hpp"
#include "slirp_cmd.hpp"

using namespace alopexctl;
using Op = SlirpRequest::Op;
namespace s1 = alopex::ipc::slirp1;
using namespace alopex::test;

namespace {

alopex::Result<SlirpRequest> parse(std::vector<std::string_view> w) { return parse_slirp_args(w); }

s1::LineInfo sample_line()
{
    s1::LineInfo l;
    l.where = *s1::instance_of("ttyGS0");
    l.instance = "ttyGS0";
    l.device = "/dev/ttyGS0";
    l.line_open = true;
    l.phase = "opened";
    l.local_address = "10.0.0.1";
    l.peer_address = "10.0.0.2";
    l.options = {{"send-mru", "1500"}, {"receive-mru", "1500"}, {"pfc", "both"}};
    l.echo_rtt_usec = 2345;
    l.counters = {{"frames-in", 42}, {"fcs-errors", 0}};
    l.connections = 1;
    l.port_maps = {{"tcp", "10.0.0.1", 22, "127.0.0.1:22"}, {"udp", "10.0.0.1", 123, "127.0.0.1:123"}};
    l.backends = {{"10.0.0.1", 22, "127.0.0.1:22", "up", 0, 5, 1}};
    l.mode = "both";
    l.dns_servers = {"10.0.0.1"};
    l.listeners = {{"127.0.0.1:2222", "127.0.0.1:2223", "peer:22", 3}, {"[::1]:8080", "[::1]:8080", "10.0.0.2:80", 0}};
    return l;
}

} // namespace

TEST_CASE("alopexctl slirp: subcommands, and bad arguments named")
{
    CHECK(parse({})->op == Op::status);
    CHECK(parse({"status"})->instance.empty());
    CHECK(parse({"status", "ttyGS0"})->instance == "ttyGS0");
    CHECK(parse({"connections"})->op == Op::connections);
    auto close = parse({"close", "ttyGS0", "17"});
    REQUIRE(close);
    CHECK(close->op == Op::close);
    CHECK(close->id == 17);
    CHECK(parse({"reload", "ttyGS0"})->op == Op::reload);
    auto msg = [](std::vector<std::string_view> w) {
        auto r = parse_slirp_args(w);
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK_THAT(msg({"close", "ttyGS0", "x1"}), Catch::Contains("not 'x1'"));
    CHECK_THAT(msg({"close", "ttyGS0"}), Catch::Contains("missing argument"));
    CHECK_THAT(msg({"status", "a", "b"}), Catch::Contains("'b'"));
    CHECK_THAT(msg({"reload"}), Catch::Contains("missing argument"));
    CHECK_THAT(msg({"frob"}), Catch::Contains("'frob'"));
    auto cap = parse({"capture", "link.pcap"});
    REQUIRE(cap);
    CHECK(cap->op == Op::capture);
    CHECK(cap->instance.empty());
    CHECK(cap->file == "link.pcap");
    CHECK(cap->seconds == 30);
    cap = parse({"capture", "ttyGS0", "-", "--for", "5m"});
    REQUIRE(cap);
    CHECK(cap->instance == "ttyGS0");
    CHECK(cap->file == "-");
    CHECK(cap->seconds == 300);
    CHECK_THAT(msg({"capture"}), Catch::Contains("missing argument"));
    CHECK_THAT(msg({"capture", "a", "b", "c"}), Catch::Contains("'c'"));
    CHECK_THAT(msg({"capture", "f", "--for", "2h"}), Catch::Contains("from 1s to 1h"));
    CHECK_THAT(msg({"capture", "f", "--for", "0"}), Catch::Contains("from 1s to 1h"));
    CHECK_THAT(msg({"capture", "f", "--for", "soon"}), Catch::Contains("--for"));
}

TEST_CASE("alopexctl slirp: instances on the bus by name")
{
    auto i = s1::instance_of("ttyGS0");
    REQUIRE(i);
    CHECK(i->service == "org.alopex.Slirp1.ttyGS0");
    CHECK(i->path == "/org/alopex/Slirp1/ttyGS0");
    auto odd = s1::instance_of("0-usb.1");
    REQUIRE(odd);
    CHECK(odd->path == "/org/alopex/Slirp1/_30_2dusb_2e1");
    CHECK(odd->service == "org.alopex.Slirp1._30_2dusb_2e1");
}

TEST_CASE("alopexctl slirp: status and connections in every rendering")
{
    check_golden("slirp-status.txt", all_renderings(slirp_status_document({sample_line()})));
    s1::ConnectionInfo c{7, "10.0.0.2", 40512, "10.0.0.1", 22, "127.0.0.1:22", "established", 3120, 4410, 1500000, 21000};
    check_golden("slirp-connections.txt", all_renderings(slirp_connections_document({{"ttyGS0", {c}}})));
}
