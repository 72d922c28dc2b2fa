// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-slirp.toml -> Settings. Every refusal is "file:line:col: message".
#include "settings.hpp"

#include <sys/socket.h>
#include <termios.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "alopex/config.hpp"
#include "alopex/net.hpp"
#include "settings_parts.hpp"
#include "wire.hpp"

namespace alopex::slirp {

namespace {

using config::Node;
using config::Table;

// A unicast IPv4 address usable as a virtual one: not 0.0.0.0/8, loopback, multicast,
// broadcast or 240/4 (the peer would not route to it).
bool is_virtual(const net::Address &a)
{
    auto b = a.bytes();
    return a.is_v4() && b[0] != 0 && !a.is_loopback() && !a.is_multicast() && !a.is_broadcast() && b[0] < 240;
}

// A unicast IPv6 address the peer can send to over the link: not ::, ::1, multicast or
// IPv4-mapped.
bool is_virtual6(const net::Address &a)
{
    return a.is_v6() && !a.is_unspecified() && !a.is_loopback() && !a.is_multicast() && !a.is_v4_mapped();
}

Result<net::Address> virtual_address(const Node &n, std::string_view what)
{
    ALOPEX_TRY(text, n.as_string());
    auto a = net::Address::parse(text, AF_INET, what);
    if (!a)
        return n.failf("{}", a.error().message);
    if (!is_virtual(*a))
        return n.failf("'{}': {} cannot be a virtual address (not 0/8, loopback, multicast or 240/4)", what,
                       text);
    return *a;
}

Result<void> parse_addresses(const Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("addresses"));
    if (!t)
        return {};
    ALOPEX_TRY_VOID(t->require_known_keys({"local", "peer", "dns", "local_ipv6"}));
    if (auto n = t->get("local_ipv6")) {
        ALOPEX_TRY(text, n->as_string());
        auto a = net::Address::parse(text, AF_INET6, "local_ipv6");
        if (!a)
            return n->failf("{}", a.error().message);
        auto b = a->bytes();
        uint64_t id = wire::be32(b.data() + 8) * (uint64_t{1} << 32) + wire::be32(b.data() + 12);
        if (!a->is_link_local() || wire::be32(b.data()) != 0xFE800000 || wire::be32(b.data() + 4) != 0 || id == 0)
            return n->failf("'local_ipv6': '{}' must be fe80::ID, a link-local address with an interface "
                            "identifier other than 0 (IPV6CP negotiates only the identifier)",
                            text);
        s.link.ipv6cp.local_id = id;
    }
    auto &ipcp = s.link.ipcp;
    if (s.mode == Role::Client && t->get("dns"))
        return t->get("dns")->failf("'dns' is offered by a server: mode = \"client\" learns its DNS servers");
    if (auto n = t->get("local")) {
        ALOPEX_TRY(a, virtual_address(*n, "local"));
        ipcp.local = a;
    }
    if (auto n = t->get("peer")) {
        ALOPEX_TRY(a, virtual_address(*n, "peer"));
        ipcp.peer = a;
    }
    if (s.mode == Role::Client)
        return {};   // what to ask for, and what to answer a server without an address
    if (ipcp.local == ipcp.peer)
        return t->get(t->get("peer") ? "peer" : "local")->failf("'local' and 'peer' must differ");
    ALOPEX_TRY(dns, t->optional_array("dns"));
    if (dns) {
        if (dns->size() > 2)
            return dns->at(2).failf("'dns': at most 2 servers can be offered (IPCP has a primary and a secondary)");
        ipcp.dns1 = ipcp.dns2 = {};
        for (size_t i = 0; i < dns->size(); ++i) {
            ALOPEX_TRY(a, virtual_address(dns->at(i), "dns"));
            (i == 0 ? ipcp.dns1 : ipcp.dns2) = a;
        }
    } else {
        ipcp.dns1 = ipcp.local;   // slirpd itself (its DNS proxy)
    }
    return {};
}

Result<void> parse_ppp(const Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("ppp"));
    if (!t)
        return {};
    ALOPEX_TRY_VOID(
        t->require_known_keys({"mode", "mru", "echo_interval", "echo_failures", "vj", "deflate", "ipv6"}));
    ALOPEX_TRY(ipv6, t->optional_boolean("ipv6"));
    s.link.ipv6cp.enabled = ipv6.value_or(false);
    ALOPEX_TRY(mode, t->optional_string("mode"));
    if (mode) {
        if (*mode == "host")
            s.mode = Role::Host;
        else if (*mode == "client")
            s.mode = Role::Client;
        else if (*mode == "both")
            s.mode = Role::Both;
        else
            return t->get("mode")->failf("'mode' must be \"host\", \"client\" or \"both\", not '{}'", *mode);
    }
    if (s.mode == Role::Client) {   // the server gives these
        s.link.ipcp.client = true;
        s.link.ipcp.local = net::Address::v4(0);
        s.link.ipcp.peer = s.link.ipcp.dns1 = s.link.ipcp.dns2 = {};
        s.link.ipv6cp.local_id = 0;   // random: a server keeps the well-known fe80::1
    }
    ALOPEX_TRY(mru, t->integer_in("mru", ppp::default_mru, ppp::min_mru, ppp::default_mru));
    ALOPEX_TRY(interval, t->integer_in("echo_interval", 30, 0, 3600));
    ALOPEX_TRY(failures, t->integer_in("echo_failures", 4, 1, 100));
    ALOPEX_TRY(vj, t->optional_boolean("vj"));
    s.link.ipcp.vj = vj.value_or(true);
    ALOPEX_TRY(deflate, t->optional_boolean("deflate"));
    s.deflate = deflate;
    s.link.lcp.mru = static_cast<uint16_t>(mru);
    s.link.echo_interval_usec = static_cast<uint64_t>(interval) * 1'000'000;
    s.link.echo_failures = static_cast<unsigned>(failures);
    return {};
}

Result<void> parse_dns(const Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("dns"));
    if (!t)
        return {};
    ALOPEX_TRY_VOID(t->require_known_keys({"upstreams"}));
    ALOPEX_TRY(list, t->optional_array("upstreams"));
    if (!list)
        return {};
    if (list->size() > 3)
        return list->at(3).failf("'upstreams': at most 3");
    std::vector<net::Address> out;
    for (size_t i = 0; i < list->size(); ++i) {
        Node n = list->at(i);
        ALOPEX_TRY(text, n.as_string());
        auto a = net::Address::parse(text, "upstreams");
        if (!a)
            return n.failf("{}", a.error().message);
        if (a->is_unspecified() || a->is_multicast())
            return n.failf("'upstreams': {} cannot answer queries", text);
        out.push_back(*a);
    }
    s.dns_upstreams = std::move(out);
    return {};
}

// "10.0.0.1:22" or "[fe80::1]:22": a virtual address and a port, the peer's destination
// (a map's key; IPv6 with ipv6 = true only).
Result<net::Endpoint> peer_destination(const Node &n, std::string_view key, const Settings &s)
{
    auto e = net::parse_endpoint(key);
    if (!e)
        return n.failf("'{}': {}", key, e.error().message);
    if (e->address.is_v6() && !is_virtual6(e->address))
        return n.failf("'{}': the peer's destination cannot be ::, ::1, multicast or IPv4-mapped", key);
    if (e->address.is_v6() && !s.link.ipv6cp.enabled)
        return n.failf("'{}': an IPv6 destination needs ipv6 = true in [ppp]", key);
    if (e->address.is_v4() && !is_virtual(e->address))
        return n.failf("'{}': the peer's destination must be a virtual IPv4 address, or an IPv6 one", key);
    return *e;
}

// "127.0.0.1:22", "[::1]:22" or "unix:/run/x.sock" (stream only).
Result<HostTarget> host_target(const Node &n, bool allow_unix)
{
    ALOPEX_TRY(text, n.as_string());
    HostTarget t;
    if (text.starts_with("unix:")) {
        t.unix_path = text.substr(5);
        if (!allow_unix)
            return n.failf("'{}': unix sockets are for TCP maps only", text);
        if (!t.unix_path.starts_with('/') || t.unix_path.size() >= 108 ||
            t.unix_path.find('\0') != std::string::npos)
            return n.failf("'{}': the socket path must be absolute and under 108 bytes", text);
        return t;
    }
    auto e = net::parse_endpoint(text);
    if (!e)
        return n.failf("'{}': {}", text, e.error().message);
    if (e->address.is_unspecified() || e->address.is_multicast())
        return n.failf("'{}' cannot be connected to", text);
    t.inet = *e;
    return t;
}

Result<void> parse_ports(const Table &root, std::string_view section, bool tcp, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table(section));
    if (!t)
        return {};
    auto &out = tcp ? s.tcp_ports : s.udp_ports;
    for (const auto &[key, node] : t->entries()) {
        ALOPEX_TRY(dest, peer_destination(node, key, s));
        if (dest.address == s.link.ipcp.peer)
            return node.failf("'{}' is the peer's own address: its packets never cross the link", key);
        PortMap m{dest.address, dest.port, {}, {}};
        if (node.kind() == config::Kind::array) {
            ALOPEX_TRY(list, node.as_array());
            if (!tcp)
                return node.failf("'{}': several backends are for TCP maps only", key);
            if (list.size() == 0 || list.size() > 16)
                return node.failf("'{}': from 1 to 16 backends, not {}", key, list.size());
            for (size_t i = 0; i < list.size(); ++i) {
                ALOPEX_TRY(target, host_target(list.at(i), tcp));
                (i == 0 ? m.target : m.more_targets.emplace_back()) = std::move(target);
            }
        } else {
            ALOPEX_TRY(target, host_target(node, tcp));
            m.target = std::move(target);
        }
        out.push_back(std::move(m));
    }
    return {};
}

// [listen] "[address:]port" = "address:port" or "peer:port".
Result<void> parse_listen(const Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("listen"));
    if (!t)
        return {};
    if (s.mode == Role::Host && !t->entries().empty())
        return t->entries().front().second.failf("[listen] carries host ports to the other side: it needs "
                                                 "mode = \"client\" or \"both\" in [ppp]");
    for (const auto &[key, node] : t->entries()) {
        Listen l;
        if (!key.empty() && key.find_first_not_of("0123456789") == std::string::npos && key.size() <= 5) {
            l.bind = {net::Address::v4(0x7F000001), static_cast<uint16_t>(std::stoul(key))};
            if (std::stoul(key) > 65535)
                l.bind.port = 0;
        } else {
            auto e = net::parse_endpoint(key);
            if (!e)
                return node.failf("'{}': {}", key, e.error().message);
            if (e->address.is_multicast())
                return node.failf("'{}': cannot listen on a multicast address", key);
            l.bind = *e;
        }
        if (l.bind.port == 0)
            return node.failf("'{}': a port 1..65535 to listen on", key);
        ALOPEX_TRY(text, node.as_string());
        std::string_view target = text;
        if (target.starts_with("peer:")) {
            auto port = net::parse_endpoint("0.0.0.0" + std::string(target.substr(4)));
            if (!port || port->port == 0)
                return node.failf("'{}': 'peer:' needs a port 1..65535", text);
            l.port = port->port;
        } else {
            auto e = net::parse_endpoint(target);
            if (!e || !(is_virtual(e->address) || is_virtual6(e->address)) || e->port == 0)
                return node.failf("'{}': the other side's destination must be an address and port "
                                  "(\"10.0.0.1:80\", \"[fe80::1]:80\"), or peer:PORT", text);
            if (e->address.is_v6() && !s.link.ipv6cp.enabled)
                return node.failf("'{}': an IPv6 destination needs ipv6 = true in [ppp]", text);
            l.address = e->address;
            l.port = e->port;
            if (s.mode != Role::Client && e->address == s.link.ipcp.local)
                return node.failf("'{}' is slirpd's own address: a connection there never crosses the link", text);
        }
        for (const Listen &other : s.listens)
            if (other.bind == l.bind)
                return node.failf("'{}': {} is listened on already", key, l.bind.to_string());
        s.listens.push_back(std::move(l));
    }
    return {};
}

// What mode = "client" does not have: the peer's connections to the host are a server's.
Result<void> check_client(const Table &root, const Settings &s)
{
    if (s.mode != Role::Client)
        return {};
    for (const char *section : {"ports", "udp_ports", "socks5", "dns", "auth"})
        if (auto n = root.get(section))
            return n->failf("[{}] serves the peer's connections: it needs mode = \"host\" or \"both\" in [ppp]",
                            section);
    return {};
}

Result<void> parse_limits(const Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("limits"));
    if (!t)
        return {};
    ALOPEX_TRY_VOID(t->require_known_keys(
        {"connections", "connections_per_port", "idle_timeout", "buffer", "udp_flows", "udp_idle_timeout",
         "new_per_peer", "new_per_port", "rate_window", "lockout"}));
    auto &l = s.limits;
    ALOPEX_TRY(conns, t->integer_in("connections", 4096, 1, 65536));
    ALOPEX_TRY(per_port, t->integer_in("connections_per_port", std::min<int64_t>(1024, conns), 1, conns));
    ALOPEX_TRY(idle, t->integer_in("idle_timeout", 7440, 10, 7 * 86400));
    ALOPEX_TRY(buffer, t->integer_in("buffer", 128 * 1024, 4096, 4 << 20));
    ALOPEX_TRY(flows, t->integer_in("udp_flows", 256, 1, 65536));
    ALOPEX_TRY(udp_idle, t->integer_in("udp_idle_timeout", 60, 1, 86400));
    l.connections = static_cast<size_t>(conns);
    l.connections_per_port = static_cast<size_t>(per_port);
    l.idle_timeout_usec = static_cast<uint64_t>(idle) * 1'000'000;
    l.buffer = static_cast<uint32_t>(buffer);
    l.udp_flows = static_cast<size_t>(flows);
    l.udp_idle_timeout_usec = static_cast<uint64_t>(udp_idle) * 1'000'000;
    ALOPEX_TRY(per_peer, t->integer_in("new_per_peer", 0, 0, 100000));
    ALOPEX_TRY(new_port, t->integer_in("new_per_port", 0, 0, 100000));
    ALOPEX_TRY(window, t->integer_in("rate_window", 60, 1, 86400));
    ALOPEX_TRY(lockout, t->integer_in("lockout", 300, 1, 7 * 86400));
    l.new_per_peer = static_cast<unsigned>(per_peer);
    l.new_per_port = static_cast<unsigned>(new_port);
    l.rate_window_usec = static_cast<uint64_t>(window) * 1'000'000;
    l.lockout_usec = static_cast<uint64_t>(lockout) * 1'000'000;
    return {};
}

Result<void> parse_socks5(const Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("socks5"));
    if (!t)
        return {};
    ALOPEX_TRY_VOID(t->require_known_keys({"server", "username", "password_file", "password_credential"}));
    ALOPEX_TRY(server, t->required_string("server"));
    auto e = net::parse_endpoint(server);
    if (!e || e->address.is_unspecified() || e->address.is_multicast())
        return t->get("server")->failf("'server' must be an address and port to connect to, not '{}'", server);
    Socks5Settings out{*e, "", "", ""};
    ALOPEX_TRY(user, t->optional_string("username"));
    ALOPEX_TRY(file, t->optional_string("password_file"));
    ALOPEX_TRY(cred, t->optional_string("password_credential"));
    if (user) {
        if (user->empty() || user->size() > 255)
            return t->get("username")->failf("'username' must be 1 to 255 octets (RFC 1929)");
        if (!file == !cred)
            return t->get("username")->failf("a username needs exactly one of 'password_file' and "
                                             "'password_credential' (never the password itself)");
        out.username = *user;
    } else if (file || cred) {
        return t->get(file ? "password_file" : "password_credential")->failf("a password needs a 'username'");
    }
    ALOPEX_TRY_VOID(
        detail::secret_source(*t, "password_file", "password_credential", out.password_file, out.password_credential));
    s.socks5 = std::move(out);
    return {};
}

Result<void> parse_backends(const Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("backends"));
    if (!t)
        return {};
    ALOPEX_TRY_VOID(t->require_known_keys({"failures", "skip"}));
    ALOPEX_TRY(failures, t->integer_in("failures", 3, 1, 1000));
    ALOPEX_TRY(skip, t->integer_in("skip", 30, 1, 86400));
    s.backends = {static_cast<unsigned>(failures), static_cast<uint64_t>(skip) * 1'000'000};
    return {};
}

Result<void> parse_line(const Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("line"));
    if (!t)
        return {};
    ALOPEX_TRY_VOID(t->require_known_keys({"device", "baud", "flow_control", "rate"}));
    ALOPEX_TRY(device, t->optional_string("device"));
    if (device) {
        if (!device->starts_with("/dev/") || device->find("/../") != std::string::npos ||
            device->find('\0') != std::string::npos)
            return t->get("device")->failf("'device' must be a device node under /dev, not '{}'", *device);
        s.line.device = *device;
    }
    ALOPEX_TRY(baud, t->optional_integer("baud"));
    if (baud) {
        if (*baud <= 0 || *baud > 4000000 || baud_constant(static_cast<unsigned>(*baud)) == 0)
            return t->get("baud")->failf("'baud' must be a standard rate (9600, 115200, 921600, ...), not {}", *baud);
        s.line.baud = static_cast<unsigned>(*baud);
    }
    ALOPEX_TRY(flow, t->optional_string("flow_control"));
    if (flow) {
        if (*flow != "none" && *flow != "hardware")
            return t->get("flow_control")->failf("'flow_control' must be \"none\" or \"hardware\", not '{}'", *flow);
        s.line.hardware_flow = *flow == "hardware";
    }
    ALOPEX_TRY(rate, t->optional_integer("rate"));
    if (rate) {
        if (*rate != 0 && (*rate < 300 || *rate > 100'000'000))
            return t->get("rate")->failf("'rate' must be 0 (unpaced) or bits/s from 300 to 100000000, not {}", *rate);
        s.line.rate = static_cast<unsigned>(*rate);
    }
    return {};
}


Result<Settings> from_document(const config::Document &doc)
{
    Table root = doc.root();
    ALOPEX_TRY_VOID(
        root.require_known_keys({"line", "addresses", "dns", "ppp", "ports", "udp_ports", "listen", "backends",
                                 "socks5", "auth", "limits"}));
    Settings s = default_settings();
    s.source = doc.file();
    ALOPEX_TRY_VOID(parse_line(root, s));
    ALOPEX_TRY_VOID(parse_ppp(root, s));
    ALOPEX_TRY_VOID(check_client(root, s));
    ALOPEX_TRY_VOID(parse_addresses(root, s));
    ALOPEX_TRY_VOID(parse_dns(root, s));
    ALOPEX_TRY_VOID(parse_listen(root, s));
    ALOPEX_TRY_VOID(parse_ports(root, "ports", true, s));
    ALOPEX_TRY_VOID(parse_ports(root, "udp_ports", false, s));
    ALOPEX_TRY_VOID(parse_backends(root, s));
    ALOPEX_TRY_VOID(parse_socks5(root, s));
    ALOPEX_TRY_VOID(detail::parse_auth(root, s));
    ALOPEX_TRY_VOID(parse_limits(root, s));
    return s;
}

} // namespace

std::vector<net::Address> parse_resolv_conf(std::string_view text)
{
    std::vector<net::Address> out;
    while (!text.empty() && out.size() < 3) {
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        auto word = [&line]() {
            size_t b = line.find_first_not_of(" \t\r");
            if (b == std::string_view::npos)
                return std::string_view{};
            size_t e = line.find_first_of(" \t\r", b);
            std::string_view w = line.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
            line = e == std::string_view::npos ? std::string_view{} : line.substr(e);
            return w;
        };
        if (word() != "nameserver")
            continue;
        std::string_view addr = word();
        if (addr.empty() || !word().empty())
            continue;
        if (auto a = net::Address::parse(addr); a && !a->is_unspecified())
            out.push_back(*a);
    }
    return out;
}

uint64_t pace_octets(const LineSettings &line, bool on_device)
{
    if (line.rate)
        return *line.rate / 10;
    return on_device ? line.baud / 10 : 0;
}

unsigned baud_constant(unsigned baud)
{
    static constexpr std::pair<unsigned, unsigned> rates[] = {
        {50, B50}, {75, B75}, {110, B110}, {134, B134}, {150, B150}, {200, B200}, {300, B300}, {600, B600},
        {1200, B1200}, {1800, B1800}, {2400, B2400}, {4800, B4800}, {9600, B9600}, {19200, B19200},
        {38400, B38400}, {57600, B57600}, {115200, B115200}, {230400, B230400}, {460800, B460800},
        {500000, B500000}, {576000, B576000}, {921600, B921600}, {1000000, B1000000}, {1152000, B1152000},
        {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
        {3500000, B3500000}, {4000000, B4000000}};
    for (auto [r, c] : rates)
        if (r == baud)
            return c;
    return 0;
}

std::string HostTarget::to_string() const
{
    if (is_unix())
        return "unix:" + unix_path;
    return inet.to_string();
}

Result<std::string> credential_path(std::string_view key, const std::string &name)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    if (!dir)
        return failf(ENOENT, "{} '{}': no $CREDENTIALS_DIRECTORY (LoadCredential=)", key, name);
    return std::string(dir) + "/" + name;
}

Result<std::string> read_socks5_password(const Socks5Settings &s)
{
    std::string path = s.password_file;
    if (path.empty()) {
        ALOPEX_TRY(p, credential_path("[socks5] password_credential", s.password_credential));
        path = std::move(p);
    }
    std::ifstream f(path);
    std::string line;
    if (!f || !std::getline(f, line))
        return failf(EACCES, "[socks5] password: cannot read {}", path);
    if (line.empty() || line.size() > 255)
        return failf(EINVAL, "[socks5] password in {}: 1 to 255 octets on its first line (RFC 1929)", path);
    return line;
}

std::string Listen::target_text() const
{
    if (address.empty())
        return fmt::format("peer:{}", port);
    return net::Endpoint{address, port}.to_string();
}

std::string_view to_string(Role m)
{
    switch (m) {
    case Role::Host: return "host";
    case Role::Client: return "client";
    case Role::Both: return "both";
    }
    return "?";
}

std::string PortMap::targets_text() const
{
    std::string out = target.to_string();
    for (const auto &t : more_targets)
        out += ", " + t.to_string();
    return out;
}

Settings default_settings()
{
    Settings s;
    s.link.ipcp.dns1 = s.link.ipcp.local;
    s.link.ipv6cp.local_id = 1;   // fe80::1, as a router's
    return s;
}

Result<Settings> parse_settings(std::string_view text, std::string file)
{
    return config::parse_with<Settings>(text, std::move(file), from_document);
}

Result<Settings> load_settings(const std::filesystem::path &p)
{
    ALOPEX_TRY(doc, config::Document::load(p));
    return from_document(doc);
}

} // namespace alopex::slirp
