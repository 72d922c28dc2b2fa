// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-slirp.toml(5): defaults, a full file, and every refusal with its file:line:col.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "serial.hpp"
#include "secrets.hpp"
#include "settings.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

using namespace alopex;
using namespace alopex::slirp;

namespace {

std::string refusal(const char *text)
{
    auto s = parse_settings(text, "slirp.toml");
    REQUIRE_FALSE(s);
    return s.error().message;
}

} // namespace

TEST_CASE("slirp settings: defaults, and a file with everything", "[slirp][settings]")
{
    auto d = default_settings();
    CHECK(d.link.ipcp.local == net::Address::v4(0x0A000001));
    CHECK(d.link.ipcp.peer == net::Address::v4(0x0A000002));
    CHECK(d.link.ipcp.dns1 == d.link.ipcp.local);
    CHECK(d.link.ipcp.dns2.empty());
    CHECK(d.link.echo_interval_usec == 30'000'000);
    auto empty = parse_settings("", "slirp.toml");
    REQUIRE(empty);
    CHECK(empty->link.ipcp.dns1 == d.link.ipcp.local);

    auto s = parse_settings("[addresses]\nlocal = \"192.168.7.1\"\npeer = \"192.168.7.2\"\n"
                            "dns = [\"192.168.7.1\", \"9.9.9.9\"]\n[ppp]\nmru = 576\necho_interval = 0\n"
                            "echo_failures = 10\nvj = false\n",
                            "slirp.toml");
    REQUIRE(s);
    CHECK(s->source == "slirp.toml");
    CHECK(s->link.ipcp.local == net::Address::v4(0xC0A80701));
    CHECK(s->link.ipcp.peer == net::Address::v4(0xC0A80702));
    CHECK(s->link.ipcp.dns2 == net::Address::v4(0x09090909));
    CHECK(s->link.lcp.mru == 576);
    CHECK(s->link.echo_interval_usec == 0);
    CHECK(s->link.echo_failures == 10);
    CHECK_FALSE(s->link.ipcp.vj);
    CHECK(parse_settings("", "slirp.toml")->link.ipcp.vj);   // on unless turned off
    auto none = parse_settings("[addresses]\ndns = []\n", "slirp.toml");
    REQUIRE(none);
    CHECK(none->link.ipcp.dns1.empty());
}

TEST_CASE("slirp settings: refusals name the file, line and column", "[slirp][settings]")
{
    CHECK_THAT(refusal("[addresses]\nlocal = \"127.0.0.1\"\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[addresses]\nlocal = \"127.0.0.1\"\n"), Catch::Contains("cannot be a virtual address"));
    CHECK_THAT(refusal("[addresses]\npeer = \"10.0.0.1\"\n"), Catch::Contains("must differ"));
    CHECK_THAT(refusal("[addresses]\npeer = \"fe80::1\"\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[addresses]\ndns = [\"10.0.0.1\", \"10.0.0.3\", \"10.0.0.4\"]\n"),
               Catch::Contains("at most 2"));
    CHECK_THAT(refusal("[addresses]\ndns = \"10.0.0.1\"\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[ppp]\nmru = 64\n"), Catch::Contains("'mru' must be 128..1500, not 64"));
    CHECK_THAT(refusal("[ppp]\necho_interval = -1\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[ppp]\necho_failures = 0\n"), Catch::Contains("echo_failures"));
    CHECK_THAT(refusal("[ppp]\nmagic = 1\n"), Catch::Contains("magic"));
    CHECK_THAT(refusal("[ppp]\nvj = \"yes\"\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[serial]\ndevice = \"/dev/ttyGS0\"\n"), Catch::Contains("serial"));
    CHECK_THAT(refusal("[addresses\n"), Catch::StartsWith("slirp.toml:1:"));
}

TEST_CASE("slirp settings: [dns] upstreams, and the nameservers of resolv.conf", "[slirp][settings]")
{
    auto s = parse_settings("[dns]\nupstreams = [\"127.0.0.1\", \"::1\"]\n", "slirp.toml");
    REQUIRE(s);
    REQUIRE(s->dns_upstreams);
    CHECK(*s->dns_upstreams == std::vector<net::Address>{net::Address::v4(0x7F000001), *net::Address::parse("::1")});
    CHECK_FALSE(parse_settings("", "slirp.toml")->dns_upstreams);   // resolv.conf's, at start
    CHECK_THAT(refusal("[dns]\nupstreams = [\"0.0.0.0\"]\n"), Catch::Contains("cannot answer"));
    CHECK_THAT(refusal("[dns]\nupstreams = [\"resolver.example\"]\n"), Catch::StartsWith("slirp.toml:2:"));
    CHECK_THAT(refusal("[dns]\nupstreams = [\"1.1.1.1\", \"1.0.0.1\", \"8.8.8.8\", \"9.9.9.9\"]\n"),
               Catch::Contains("at most 3"));

    auto r = parse_resolv_conf("# generated\nsearch example.com\nnameserver 192.0.2.53\n"
                               "nameserver\tfe80::1%eth0\n  nameserver 2001:db8::53  \n"
                               "nameserver 192.0.2.54 extra\nnameserver 0.0.0.0\nnameserver 192.0.2.55\n"
                               "nameserver 192.0.2.56\n");
    CHECK(r == std::vector<net::Address>{net::Address::v4(0xC0000235), *net::Address::parse("2001:db8::53"),
                                         net::Address::v4(0xC0000237)});
    CHECK(parse_resolv_conf("").empty());
    CHECK(parse_resolv_conf("nameserver").empty());
}

TEST_CASE("slirp settings: port maps (TCP to inet and unix sockets, UDP) and limits", "[slirp][settings]")
{
    auto s = parse_settings("[ports]\n\"10.0.0.1:22\" = \"127.0.0.1:2222\"\n\"10.0.0.1:80\" = \"unix:/run/kvmd.sock\"\n"
                            "\"10.0.0.9:8080\" = \"[::1]:8080\"\n[udp_ports]\n\"10.0.0.1:5353\" = \"127.0.0.1:53\"\n"
                            "[limits]\nconnections = 100\nconnections_per_port = 10\nidle_timeout = 600\n"
                            "buffer = 65536\nudp_flows = 8\nudp_idle_timeout = 30\n",
                            "slirp.toml");
    REQUIRE(s);
    REQUIRE(s->tcp_ports.size() == 3);
    bool ssh = false, kvmd = false, v6 = false;
    for (const auto &m : s->tcp_ports) {
        if (m.port == 22) {
            ssh = m.address == net::Address::v4(0x0A000001) && m.target.inet.address == net::Address::v4(0x7F000001) &&
                  m.target.inet.port == 2222;
            CHECK(m.target.to_string() == "127.0.0.1:2222");
        }
        if (m.port == 80)
            kvmd = m.target.is_unix() && m.target.unix_path == "/run/kvmd.sock";
        if (m.port == 8080) {
            v6 = m.address == net::Address::v4(0x0A000009) && m.target.inet.address.is_v6();
            CHECK(m.target.to_string() == "[::1]:8080");
        }
    }
    CHECK(ssh);
    CHECK(kvmd);
    CHECK(v6);
    REQUIRE(s->udp_ports.size() == 1);
    CHECK(s->udp_ports[0].port == 5353);
    CHECK(s->limits.connections == 100);
    CHECK(s->limits.connections_per_port == 10);
    CHECK(s->limits.idle_timeout_usec == 600'000'000);
    CHECK(s->limits.buffer == 65536);
    CHECK(s->limits.udp_flows == 8);
    CHECK(s->limits.udp_idle_timeout_usec == 30'000'000);
    auto d = default_settings();
    CHECK(d.tcp_ports.empty());   // nothing is reachable unless mapped
    CHECK(d.limits.connections == 4096);
}

TEST_CASE("slirp settings: bad port maps and limits are refused at file:line:col", "[slirp][settings]")
{
    CHECK(refusal("[ports]\n\"10.0.0.1\" = \"127.0.0.1:22\"\n") ==
          "slirp.toml:2:14: '10.0.0.1': a port is required: \"192.0.2.1:443\" or \"[2001:db8::1]:443\"");
    CHECK(refusal("[ports]\n\"10.0.0.1:0\" = \"127.0.0.1:22\"\n") ==
          "slirp.toml:2:16: '10.0.0.1:0': port 0 is outside 1..65535");
    CHECK(refusal("[ports]\n\"10.0.0.1:99999\" = \"127.0.0.1:22\"\n") ==
          "slirp.toml:2:20: '10.0.0.1:99999': port 99999 is outside 1..65535");
    CHECK(refusal("[ports]\n\"127.0.0.1:22\" = \"127.0.0.1:22\"\n") ==
          "slirp.toml:2:18: '127.0.0.1:22': the peer's destination must be a virtual IPv4 address, or an IPv6 "
          "one");
    CHECK(refusal("[ports]\n\"10.0.0.2:22\" = \"127.0.0.1:22\"\n") ==
          "slirp.toml:2:17: '10.0.0.2:22' is the peer's own address: its packets never cross the link");
    CHECK(refusal("[ports]\n\"10.0.0.1:22\" = \"localhost:22\"\n").find("host names are not accepted") != std::string::npos);
    CHECK(refusal("[ports]\n\"10.0.0.1:22\" = \"::1:22\"\n") ==
          "slirp.toml:2:17: '::1:22': write an IPv6 endpoint in brackets: \"[2001:db8::1]:443\"");
    CHECK(refusal("[ports]\n\"10.0.0.1:22\" = \"0.0.0.0:22\"\n") == "slirp.toml:2:17: '0.0.0.0:22' cannot be connected to");
    CHECK(refusal("[ports]\n\"10.0.0.1:22\" = \"unix:run/x\"\n") ==
          "slirp.toml:2:17: 'unix:run/x': the socket path must be absolute and under 108 bytes");
    CHECK(refusal("[udp_ports]\n\"10.0.0.1:53\" = \"unix:/run/x\"\n") ==
          "slirp.toml:2:17: 'unix:/run/x': unix sockets are for TCP maps only");
    CHECK(refusal("[ports]\n\"10.0.0.1:22\" = 22\n").starts_with("slirp.toml:2:17: "));
    CHECK(refusal("[limits]\nconnections = 0\n") == "slirp.toml:2:15: 'connections' must be 1..65536, not 0");
    CHECK(refusal("[limits]\nconnections = 10\nconnections_per_port = 11\n") ==
          "slirp.toml:3:24: 'connections_per_port' must be 1..10, not 11");
    CHECK(refusal("[limits]\nbuffer = 100\n") == "slirp.toml:2:10: 'buffer' must be 4096..4194304, not 100");
    CHECK(refusal("[limits]\nsockets = 1\n").starts_with("slirp.toml:2:1: "));
}

TEST_CASE("slirp settings: the serial line", "[slirp][settings]")
{
    auto d = default_settings();
    CHECK(d.line.device.empty());
    CHECK(d.line.baud == 115200);
    CHECK_FALSE(d.line.hardware_flow);
    auto s = parse_settings("[line]\ndevice = \"/dev/ttyGS0\"\nbaud = 921600\nflow_control = \"hardware\"\n", "slirp.toml");
    REQUIRE(s);
    CHECK(s->line.device == "/dev/ttyGS0");
    CHECK(s->line.baud == 921600);
    CHECK(s->line.hardware_flow);
    CHECK(refusal("[line]\ndevice = \"ttyGS0\"\n") == "slirp.toml:2:10: 'device' must be a device node under /dev, not 'ttyGS0'");
    CHECK(refusal("[line]\ndevice = \"/dev/../etc/passwd\"\n").starts_with("slirp.toml:2:10: 'device' must be"));
    CHECK(refusal("[line]\nbaud = 100000\n") ==
          "slirp.toml:2:8: 'baud' must be a standard rate (9600, 115200, 921600, ...), not 100000");
    CHECK(refusal("[line]\nflow_control = \"xon\"\n") ==
          "slirp.toml:2:16: 'flow_control' must be \"none\" or \"hardware\", not 'xon'");
}

TEST_CASE("slirp settings: new-connection rate limits", "[slirp][settings]")
{
    auto d = default_settings();
    CHECK(d.limits.new_per_peer == 0);
    CHECK(d.limits.new_per_port == 0);
    auto s = parse_settings("[limits]\nnew_per_port = 5\nnew_per_peer = 30\nrate_window = 120\nlockout = 600\n",
                            "slirp.toml");
    REQUIRE(s);
    CHECK(s->limits.new_per_port == 5);
    CHECK(s->limits.new_per_peer == 30);
    CHECK(s->limits.rate_window_usec == 120'000'000);
    CHECK(s->limits.lockout_usec == 600'000'000);
    CHECK(refusal("[limits]\nnew_per_port = -1\n").starts_with("slirp.toml:2:16: 'new_per_port'"));
    CHECK(refusal("[limits]\nrate_window = 0\n").starts_with("slirp.toml:2:15: 'rate_window'"));
    CHECK(refusal("[limits]\nlockout = 1e9\n").starts_with("slirp.toml:2:"));
}

TEST_CASE("slirp settings: the pace of the line, and Deflate", "[slirp][settings]")
{
    auto d = default_settings();
    CHECK_FALSE(d.line.rate);
    CHECK(pace_octets(d.line, false) == 0);        // a pty or stdio: unpaced
    CHECK(pace_octets(d.line, true) == 11520);     // the device: its baud, 10 bits an octet
    CHECK_FALSE(d.deflate);
    auto s = parse_settings("[line]\nrate = 9600\n[ppp]\ndeflate = false\n", "slirp.toml");
    REQUIRE(s);
    CHECK(pace_octets(s->line, false) == 960);
    CHECK(pace_octets(s->line, true) == 960);
    CHECK(s->deflate == false);
    auto off = parse_settings("[line]\nbaud = 9600\nrate = 0\n", "slirp.toml");
    REQUIRE(off);
    CHECK(pace_octets(off->line, true) == 0);
    CHECK(refusal("[line]\nrate = 100\n") ==
          "slirp.toml:2:8: 'rate' must be 0 (unpaced) or bits/s from 300 to 100000000, not 100");
    CHECK(refusal("[line]\nrate = -1\n").starts_with("slirp.toml:2:8: 'rate' must be"));
    CHECK(refusal("[line]\nrate = \"fast\"\n").starts_with("slirp.toml:2:"));
    CHECK(refusal("[ppp]\ndeflate = 1\n").starts_with("slirp.toml:2:"));
}

TEST_CASE("slirp serial line: raw 8N1, the baud rate, RTS/CTS or none, on a pty", "[slirp][settings]")
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    REQUIRE(master >= 0);
    REQUIRE(grantpt(master) == 0);
    REQUIRE(unlockpt(master) == 0);
    int fd = open(ptsname(master), O_RDWR | O_NOCTTY);
    REQUIRE(fd >= 0);
    REQUIRE(configure_serial(fd, {"/dev/x", 921600, true, {}}));
    termios t{};
    REQUIRE(tcgetattr(fd, &t) == 0);
    CHECK(cfgetospeed(&t) == B921600);
    CHECK(cfgetispeed(&t) == B921600);
    CHECK((t.c_cflag & CRTSCTS) != 0);
    CHECK((t.c_cflag & CLOCAL) != 0);
    CHECK((t.c_cflag & CSIZE) == CS8);
    CHECK((t.c_cflag & (PARENB | CSTOPB | HUPCL)) == 0);
    CHECK((t.c_lflag & (ICANON | ECHO | ISIG)) == 0);
    CHECK((t.c_iflag & (IXON | IXOFF | ICRNL)) == 0);
    CHECK((t.c_oflag & OPOST) == 0);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    REQUIRE(configure_serial(fd, {"/dev/x", 115200, false, {}}));
    REQUIRE(tcgetattr(fd, &t) == 0);
    CHECK(cfgetospeed(&t) == B115200);
    CHECK((t.c_cflag & CRTSCTS) == 0);
    // Not a tty: refused, named.
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    auto r = configure_serial(pipefd[0], {});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with("not a serial line"));
    for (int f : {fd, master, pipefd[0], pipefd[1]})
        close(f);
}

TEST_CASE("slirp settings: mode client and both, [listen]", "[slirp][settings]")
{
    CHECK(default_settings().mode == Role::Host);
    auto c = parse_settings("[ppp]\nmode = \"client\"\n[listen]\n\"8080\" = \"10.0.0.1:80\"\n"
                            "\"0.0.0.0:2222\" = \"peer:22\"\n\"[::1]:8443\" = \"192.168.7.1:443\"\n",
                            "slirp.toml");
    REQUIRE(c);
    CHECK(c->mode == Role::Client);
    CHECK(c->link.ipcp.client);
    CHECK(c->link.ipcp.local == net::Address::v4(0));   // any: the server gives it
    CHECK(c->link.ipcp.peer.empty());
    CHECK(c->link.ipcp.dns1.empty());
    REQUIRE(c->listens.size() == 3);
    CHECK(c->listens[0].bind.to_string() == "127.0.0.1:8080");
    CHECK(c->listens[0].target_text() == "10.0.0.1:80");
    CHECK(c->listens[1].bind.to_string() == "0.0.0.0:2222");
    CHECK(c->listens[1].address.empty());
    CHECK(c->listens[1].target_text() == "peer:22");
    CHECK(c->listens[2].bind.to_string() == "[::1]:8443");
    auto asked = parse_settings("[ppp]\nmode = \"client\"\n[addresses]\nlocal = \"192.168.7.2\"\n", "slirp.toml");
    REQUIRE(asked);
    CHECK(asked->link.ipcp.local == net::Address::v4(0xC0A80702));

    auto both = parse_settings("[ppp]\nmode = \"both\"\n[listen]\n\"2222\" = \"peer:22\"\n"
                               "[ports]\n\"10.0.0.1:80\" = \"127.0.0.1:8080\"\n", "slirp.toml");
    REQUIRE(both);
    CHECK(both->mode == Role::Both);
    CHECK_FALSE(both->link.ipcp.client);
    CHECK(both->link.ipcp.peer == net::Address::v4(0x0A000002));
    CHECK(both->listens.size() == 1);
    CHECK(both->tcp_ports.size() == 1);
}

TEST_CASE("slirp settings: mode and [listen] refusals at file:line:col", "[slirp][settings]")
{
    CHECK(refusal("[ppp]\nmode = \"server\"\n") ==
          "slirp.toml:2:8: 'mode' must be \"host\", \"client\" or \"both\", not 'server'");
    CHECK(refusal("[listen]\n\"8080\" = \"10.0.0.1:80\"\n") ==
          "slirp.toml:2:10: [listen] carries host ports to the other side: it needs mode = \"client\" or \"both\" "
          "in [ppp]");
    CHECK(refusal("[ppp]\nmode = \"client\"\n[ports]\n\"10.0.0.1:22\" = \"127.0.0.1:22\"\n") ==
          "slirp.toml:3:1: [ports] serves the peer's connections: it needs mode = \"host\" or \"both\" in [ppp]");
    CHECK(refusal("[ppp]\nmode = \"client\"\n[addresses]\ndns = [\"10.0.0.1\"]\n") ==
          "slirp.toml:4:7: 'dns' is offered by a server: mode = \"client\" learns its DNS servers");
    const char *client = "[ppp]\nmode = \"client\"\n[listen]\n";
    auto with = [&](const char *entry) { return refusal((std::string(client) + entry).c_str()); };
    CHECK(with("\"0\" = \"10.0.0.1:80\"\n") == "slirp.toml:4:7: '0': a port 1..65535 to listen on");
    CHECK(with("\"99999\" = \"10.0.0.1:80\"\n") == "slirp.toml:4:11: '99999': a port 1..65535 to listen on");
    CHECK(with("\"224.0.0.1:80\" = \"10.0.0.1:80\"\n") ==
          "slirp.toml:4:18: '224.0.0.1:80': cannot listen on a multicast address");
    CHECK(with("\"8080\" = \"127.0.0.1:80\"\n") ==
          "slirp.toml:4:10: '127.0.0.1:80': the other side's destination must be an address and port "
          "(\"10.0.0.1:80\", \"[fe80::1]:80\"), or peer:PORT");
    CHECK(with("\"8080\" = \"peer:0\"\n") == "slirp.toml:4:10: 'peer:0': 'peer:' needs a port 1..65535");
    CHECK(with("\"8080\" = \"peer\"\n").starts_with("slirp.toml:4:10: 'peer': the other side's destination"));
    CHECK(with("\"8080\" = \"peer:1\"\n\"127.0.0.1:8080\" = \"peer:2\"\n") ==
          "slirp.toml:5:20: '127.0.0.1:8080': 127.0.0.1:8080 is listened on already");
    CHECK(refusal("[ppp]\nmode = \"both\"\n[listen]\n\"8080\" = \"10.0.0.1:80\"\n") ==
          "slirp.toml:4:10: '10.0.0.1:80' is slirpd's own address: a connection there never crosses the link");
}

TEST_CASE("slirp settings: [auth], and the secrets in pppd's format", "[slirp][settings][auth]")
{
    auto s = parse_settings("[auth]\nrequire = [\"chap\", \"pap\"]\nname = \"kvm-host\"\n"
                            "secrets_file = \"/etc/alopex/slirp/kvm.secrets\"\n", "slirp.toml");
    REQUIRE(s);
    CHECK(s->auth.protocols == std::vector<uint16_t>{ppp::proto_chap, ppp::proto_pap});
    CHECK(s->auth.name == "kvm-host");
    CHECK(s->auth.secrets_file == "/etc/alopex/slirp/kvm.secrets");
    CHECK(default_settings().auth.protocols.empty());
    CHECK(refusal("[auth]\nrequire = [\"mschap\"]\nsecrets_credential = \"x\"\n") ==
          "slirp.toml:2:12: 'require': \"chap\" (CHAP with MD5) or \"pap\", not 'mschap'");
    CHECK(refusal("[auth]\nrequire = [\"pap\", \"pap\"]\nsecrets_credential = \"x\"\n") ==
          "slirp.toml:2:19: 'require': 'pap' twice");
    CHECK(refusal("[auth]\nrequire = [\"pap\"]\n") ==
          "slirp.toml:2:11: 'require' needs exactly one of 'secrets_file' and 'secrets_credential'");
    CHECK(refusal("[auth]\nrequire = [\"pap\"]\nsecrets_file = \"x\"\n") ==
          "slirp.toml:3:16: 'secrets_file' must be an absolute path");
    CHECK(refusal("[auth]\nsecrets_file = \"/x\"\n") ==
          "slirp.toml:2:16: secrets without 'require': say which protocols the peer must authenticate with");
    CHECK(refusal("[auth]\nrequire = [\"pap\"]\nsecrets_credential = \"../x\"\n") ==
          "slirp.toml:3:22: 'secrets_credential' must be a credential's name");
    CHECK(refusal("[auth]\nname = \"a b\"\n") ==
          "slirp.toml:2:8: 'name' must be 1 to 255 octets without blanks, quotes or '#'");
    CHECK(refusal("[auth]\npassword = \"x\"\n").starts_with("slirp.toml:2:1: "));
    CHECK(refusal("[ppp]\nmode = \"client\"\n[auth]\nrequire = [\"pap\"]\nsecrets_credential = \"x\"\n") ==
          "slirp.toml:3:1: [auth] serves the peer's connections: it needs mode = \"host\" or \"both\" in [ppp]");

    auto secrets = parse_secrets("# client server secret addresses\npikvm * s3cret *\n"
                                 "\"with space\" alopex-slirpd 'a \"quoted\" one' # comment\n"
                                 "other other-server x\n  \n\\* * star\\\\\n",
                                 "pap-secrets", "alopex-slirpd");
    REQUIRE(secrets);
    CHECK(*secrets == Secrets{{"pikvm", "s3cret"}, {"with space", "a \"quoted\" one"}, {"*", "star\\"}});
    auto bad = [](const char *text) {
        auto r = parse_secrets(text, "chap-secrets", "alopex-slirpd");
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK(bad("pikvm *\n") == "chap-secrets:1: a secret is 'client server secret', not 2 words");
    CHECK(bad("\n\npikvm * \"open\n") == "chap-secrets:3: a quote is not closed");
    CHECK(bad("pikvm * s3cret 10.0.0.2\n") ==
          "chap-secrets:1: word 4 (an address) is not taken: slirpd gives the peer its configured address; leave "
          "addresses out or write * (a secret with blanks goes in quotes)");
    CHECK(bad("pikvm * @/etc/ppp/other\n") == "chap-secrets:1: secrets read from another file (@...) are not taken");
    CHECK(bad("pikvm * a\npikvm alopex-slirpd b\n") == "chap-secrets:2: a second secret for 'pikvm'");
    CHECK(bad("\"\" * a\n") == "chap-secrets:1: a name and a secret are 1 to 255 octets");
}

TEST_CASE("slirp secrets: a file open to others is refused, a private one read", "[slirp][settings][auth]")
{
    char dir[] = "/tmp/slirp-secrets-XXXXXX";
    REQUIRE(mkdtemp(dir));
    std::string path = std::string(dir) + "/secrets";
    {
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
        REQUIRE(fd >= 0);
        std::string text = "pikvm * s3cret\n";
        REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
        close(fd);
    }
    auto open_to_all = read_secrets(path, "", "alopex-slirpd");
    REQUIRE_FALSE(open_to_all);
    CHECK(open_to_all.error().message.find("open to the group or others (mode 0644): chmod 600") != std::string::npos);
    REQUIRE(chmod(path.c_str(), 0600) == 0);
    auto ok = read_secrets(path, "", "alopex-slirpd");
    REQUIRE(ok);
    CHECK(*ok == Secrets{{"pikvm", "s3cret"}});
    CHECK_FALSE(read_secrets(std::string(dir) + "/none", "", "alopex-slirpd"));
    unsetenv("CREDENTIALS_DIRECTORY");
    auto no_creds = read_secrets("", "ppp", "alopex-slirpd");
    REQUIRE_FALSE(no_creds);
    CHECK(no_creds.error().message == "[auth] secrets_credential 'ppp': no $CREDENTIALS_DIRECTORY (LoadCredential=)");
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    auto cred = read_secrets("", "secrets", "alopex-slirpd");
    REQUIRE(cred);
    CHECK(cred->at("pikvm") == "s3cret");
    unsetenv("CREDENTIALS_DIRECTORY");
    unlink(path.c_str());
    rmdir(dir);
}

TEST_CASE("slirp settings: IPv6 maps, [listen] to IPv6, local_ipv6, and their refusals", "[slirp][settings][ipv6]")
{
    CHECK(default_settings().link.ipv6cp.local_id == 1);   // fe80::1
    auto s = parse_settings("[ppp]\nipv6 = true\n[addresses]\nlocal_ipv6 = \"fe80::a:b\"\n"
                            "[ports]\n\"[fe80::1]:22\" = \"127.0.0.1:22\"\n\"10.0.0.1:80\" = \"[::1]:80\"\n"
                            "[udp_ports]\n\"[fd00::5]:53\" = \"127.0.0.1:53\"\n",
                            "slirp.toml");
    REQUIRE(s);
    CHECK(s->link.ipv6cp.enabled);
    CHECK(s->link.ipv6cp.local_id == 0xA000B);
    REQUIRE(s->tcp_ports.size() == 2);
    CHECK(s->tcp_ports[0].address == *net::Address::parse("fe80::1"));
    CHECK(s->tcp_ports[0].port == 22);
    CHECK(s->tcp_ports[1].target.inet.address.is_v6());
    REQUIRE(s->udp_ports.size() == 1);
    CHECK(s->udp_ports[0].address == *net::Address::parse("fd00::5"));
    auto client = parse_settings("[ppp]\nmode = \"client\"\nipv6 = true\n[listen]\n\"8080\" = \"[fe80::1]:80\"\n",
                                 "slirp.toml");
    REQUIRE(client);
    CHECK(client->link.ipv6cp.local_id == 0);   // random
    CHECK(client->listens[0].address == *net::Address::parse("fe80::1"));
    CHECK(client->listens[0].target_text() == "[fe80::1]:80");

    CHECK(refusal("[ports]\n\"[fe80::1]:22\" = \"127.0.0.1:22\"\n") ==
          "slirp.toml:2:18: '[fe80::1]:22': an IPv6 destination needs ipv6 = true in [ppp]");
    CHECK(refusal("[ppp]\nipv6 = true\n[ports]\n\"[::1]:22\" = \"127.0.0.1:22\"\n") ==
          "slirp.toml:4:14: '[::1]:22': the peer's destination cannot be ::, ::1, multicast or IPv4-mapped");
    CHECK(refusal("[ppp]\nipv6 = true\n[ports]\n\"[ff02::1]:22\" = \"127.0.0.1:22\"\n") ==
          "slirp.toml:4:18: '[ff02::1]:22': the peer's destination cannot be ::, ::1, multicast or IPv4-mapped");
    CHECK(refusal("[ppp]\nmode = \"client\"\n[listen]\n\"8080\" = \"[fe80::1]:80\"\n") ==
          "slirp.toml:4:10: '[fe80::1]:80': an IPv6 destination needs ipv6 = true in [ppp]");
    CHECK(refusal("[addresses]\nlocal_ipv6 = \"fd00::1\"\n") ==
          "slirp.toml:2:14: 'local_ipv6': 'fd00::1' must be fe80::ID, a link-local address with an interface "
          "identifier other than 0 (IPV6CP negotiates only the identifier)");
    CHECK(refusal("[addresses]\nlocal_ipv6 = \"fe80::\"\n").starts_with("slirp.toml:2:14: 'local_ipv6': 'fe80::'"));
    CHECK(refusal("[addresses]\nlocal_ipv6 = \"fe80:1::1\"\n").starts_with("slirp.toml:2:14: 'local_ipv6'"));
    CHECK(refusal("[addresses]\nlocal_ipv6 = \"10.0.0.1\"\n").starts_with("slirp.toml:2:14: local_ipv6: "));
}
