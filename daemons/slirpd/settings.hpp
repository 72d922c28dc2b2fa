// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-slirp.toml(5): one PPP instance's settings. Every refusal is
// "file:line:col: message"; nothing here opens anything (load_settings() reads the file).
//
//   [line]                    # --instance only: the serial device, from the broker
//   device = "/dev/ttyGS0"
//   baud = 115200             # a standard rate, 50..4000000
//   flow_control = "none"     # or "hardware" (RTS/CTS)
//   rate = 115200             # bits/s to pace output to (10 a byte, as 8N1), 0: unpaced;
//                             # default: the baud rate on a device, unpaced on --pty/--stdio
//   [addresses]
//   local = "10.0.0.1"        # slirpd's own, virtual
//   peer = "10.0.0.2"         # what the peer is given
//   dns = ["10.0.0.1"]        # what the peer is offered as DNS (at most 2; [] offers none)
//   local_ipv6 = "fe80::1"    # with ipv6: slirpd's link-local address (the identifier
//                             # IPV6CP asks for); default fe80::1, random in client mode
//   [dns]
//   upstreams = ["192.0.2.53"]  # where the DNS proxy sends the peer's queries (port 53);
//                               # default: the nameservers of /etc/resolv.conf at start
//   [ppp]
//   mode = "host"             # PPP server, the peer's connections to host sockets;
//                             # "client": PPP client (dials, takes an address, learns DNS),
//                             # [listen] only; "both": host, and [listen] too
//   mru = 1500                # 128..1500
//   echo_interval = 30        # seconds, 0: no keepalive
//   echo_failures = 4         # 1..100
//   vj = true                 # VJ TCP/IP header compression both ways, when the peer agrees
//   deflate = true            # CCP with Deflate both ways when the peer agrees; default:
//                             # on when the line is paced (a slow line), else CCP rejected
//   ipv6 = false              # IPV6CP: link-local IPv6; TCP and UDP over IPv6 as maps say
//   [ports]                   # TCP: the peer's destination = a host socket
//   "10.0.0.1:22" = "127.0.0.1:22"
//   "10.0.0.1:80" = "unix:/run/kvmd/kvmd.sock"
//   "10.0.0.1:81" = ["127.0.0.1:8080", "127.0.0.1:8081"]   # backends, round robin
//   "[fe80::1]:22" = "127.0.0.1:22"   # with ipv6: the peer's IPv6 to an IPv4 socket
//   [socks5]                  # TCP to destinations no map covers, through a proxy
//   server = "127.0.0.1:1080"
//   username = "pikvm"        # RFC 1929; the password from a file or a credential:
//   password_file = "/etc/alopex/socks5.secret"   # or password_credential = "socks5"
//   [auth]                    # host, both: the peer authenticates (PAP, CHAP with MD5)
//   require = ["chap", "pap"] # in preference order
//   name = "alopex-slirpd"    # ours, in CHAP's Challenge (the server of the secrets)
//   secrets_file = "/etc/alopex/slirp/pikvm.secrets"   # mode 600; or secrets_credential
//   [backends]                # port maps with several backends
//   failures = 3              # connects failed in a row before one is skipped
//   skip = 30                 # seconds it is skipped, then tried again
//   [listen]                  # client, both: host ports carried to the other side
//   "8080" = "10.0.0.1:80"    # 127.0.0.1:8080 (a port taken: the next free one)
//   "0.0.0.0:2222" = "peer:22"  # peer: the other end's address (learned as a client)
//   [udp_ports]               # UDP, the same way (no unix: targets)
//   "10.0.0.1:5353" = "127.0.0.1:53"
//   [limits]
//   connections = 4096        # TCP connections at once (1..65536)
//   connections_per_port = 1024
//   idle_timeout = 7440       # seconds without data before a TCP connection is reset
//   buffer = 131072           # bytes each way per TCP connection (4096..4194304)
//   udp_flows = 256           # UDP flows (host sockets) at once
//   udp_idle_timeout = 60     # seconds
//   new_per_peer = 0          # new TCP connections from one peer address per window; 0: no limit
//   new_per_port = 0          # new TCP connections to one mapped address:port per window
//   rate_window = 60          # seconds
//   lockout = 300             # seconds a peer or port over its limit is refused
//
// Unmapped destinations are refused: the peer reaches nothing on the host implicitly.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/net.hpp"
#include "link.hpp"

namespace alopex::slirp {

// Where a mapped connection goes on the host: an IPv4/IPv6 address and port, or a unix socket.
struct HostTarget {
    net::Endpoint inet;
    std::string unix_path;   // non-empty: a unix stream socket
    bool is_unix() const noexcept { return !unix_path.empty(); }
    std::string to_string() const;
};

struct PortMap {
    net::Address address;   // the peer's destination (a virtual address, IPv4 or IPv6)
    uint16_t port = 0;
    HostTarget target;
    // TCP: more backends after `target`, taken round robin with a circuit breaker
    // (backend_pool.hpp); failover to the next when one cannot be reached.
    std::vector<HostTarget> more_targets;
    std::vector<HostTarget> targets() const
    {
        std::vector<HostTarget> all{target};
        all.insert(all.end(), more_targets.begin(), more_targets.end());
        return all;
    }
    std::string targets_text() const;   // "127.0.0.1:8080, 127.0.0.1:8081"
};

// [listen]: a host port whose connections go across the link to address:port on the
// other side.
struct Listen {
    net::Endpoint bind;      // where on the host (127.0.0.1 when only a port is given)
    net::Address address;    // the other side's address, IPv4 or IPv6; empty: the peer's
    uint16_t port = 0;
    std::string target_text() const;   // "10.0.0.1:80", "[fe80::1]:80", "peer:22"
    bool operator==(const Listen &) const = default;
};

// host: the PPP server, the peer's connections to host sockets; client: the PPP client,
// host ports ([listen]) to the other side; both: the server, both ways.
enum class Role : uint8_t { Host, Client, Both };
std::string_view to_string(Role m);

// The circuit breaker of port maps with several backends: one that failed `failures`
// connects in a row is skipped for `skip_usec`, then tried again.
struct BackendPolicy {
    unsigned failures = 3;
    uint64_t skip_usec = 30'000'000;
};

struct Limits {
    size_t connections = 4096;
    size_t connections_per_port = 1024;
    uint64_t idle_timeout_usec = 7440'000'000;
    uint32_t buffer = 128 * 1024;
    size_t udp_flows = 256;
    uint64_t udp_idle_timeout_usec = 60'000'000;
    unsigned new_per_peer = 0, new_per_port = 0;   // 0: no rate limit
    uint64_t rate_window_usec = 60'000'000, lockout_usec = 300'000'000;
};

struct LineSettings {
    std::string device;        // empty: none configured
    unsigned baud = 115200;
    bool hardware_flow = false;
    std::optional<unsigned> rate;   // bits/s; nullopt: as the line is (see pace_octets())
};

// The octets per second to pace to: `rate` when set, else the baud rate when the line is
// the serial device, else 0 (a pty or stdio is as fast as its reader).
uint64_t pace_octets(const LineSettings &line, bool on_device);

// [socks5]: the peer's TCP to destinations other than slirpd's own address that no port
// map covers goes through this proxy (otherwise: refused).
struct Socks5Settings {
    net::Endpoint server;
    std::string username;                  // empty: no authentication offered
    std::string password_file;             // absolute path, or
    std::string password_credential;       // a name in $CREDENTIALS_DIRECTORY
    bool operator==(const Socks5Settings &) const = default;
};

// The file of systemd credential `name` ($CREDENTIALS_DIRECTORY/name, LoadCredential=);
// without the directory an error naming the setting `key`.
Result<std::string> credential_path(std::string_view key, const std::string &name);

// The password of [socks5] (its file's first line), read when the daemon starts.
Result<std::string> read_socks5_password(const Socks5Settings &s);

// [auth]: the peer must authenticate with one of `protocols` (ppp::proto_chap, proto_pap)
// against the secrets of a file or a credential (secrets.hpp); empty: no authentication.
struct AuthSettings {
    std::vector<uint16_t> protocols;
    std::string name = "alopex-slirpd";
    std::string secrets_file, secrets_credential;
    bool operator==(const AuthSettings &) const = default;
};

struct Settings {
    std::string source;        // the file, "" for defaults
    Role mode = Role::Host;
    LineSettings line;
    ppp::LinkConfig link;      // addresses, DNS, MRU, echo keepalive
    std::optional<bool> deflate;   // nullopt: on when the line is paced
    // The DNS proxy's upstreams (port 53); nullopt: /etc/resolv.conf's, read at start.
    std::optional<std::vector<net::Address>> dns_upstreams;
    std::vector<PortMap> tcp_ports, udp_ports;
    std::vector<Listen> listens;
    BackendPolicy backends;
    std::optional<Socks5Settings> socks5;
    AuthSettings auth;
    Limits limits;
};

// The termios speed constant of a standard baud rate, or 0 when there is none.
unsigned baud_constant(unsigned baud);

// The nameserver lines of a resolv.conf, at most 3 (as the resolver reads them); lines
// it would not take (a bad address, trailing words) are skipped.
std::vector<net::Address> parse_resolv_conf(std::string_view text);

// The defaults: 10.0.0.1 and 10.0.0.2, DNS 10.0.0.1, MRU 1500, echoes every 30 s, 4 missed.
Settings default_settings();

Result<Settings> parse_settings(std::string_view text, std::string file);
// The file must be there (--config names it).
Result<Settings> load_settings(const std::filesystem::path &p);

} // namespace alopex::slirp
