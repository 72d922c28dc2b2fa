// SPDX-License-Identifier: GPL-2.0-or-later
// linkd profiles: /etc/alopex/links/*.toml, one profile per file, documented in
// alopex.link(5). A file is either a link profile (a [match] section: which existing
// links it configures) or a netdev profile (a [netdev] section: a device linkd creates
// and owns), never both. Both kinds carry the same settings sections ([link], [ipv4],
// [ipv6], [dns], [[route]]); in a netdev file they configure the created device itself.
//
// Loading is all-or-nothing: one bad file fails the whole directory with
// "file:line:col: message", so the caller keeps its last good set (config::LastGood).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/net.hpp"
#include "rtnl.hpp"
#include "syntax.hpp"

namespace alopex::linkd::profile {

enum class Scope : uint8_t { Global, Link, Host }; // RT_SCOPE_UNIVERSE / LINK / HOST

struct RouteConfig {
    net::Prefix to;               // a network (host bits zero); 0.0.0.0/0 or ::/0 = default
    net::Address via;             // gateway, same family as `to`; empty = directly connected
    uint32_t metric = 0;          // as written; the plan maps IPv6 0 to the kernel's 1024
    uint32_t table = 254;         // 1..2^32-2 except 253 (default) and 255 (local)
    Scope scope = Scope::Global;  // default: link without `via`, global with it
    bool onlink = false;          // needs `via`
    std::optional<uint32_t> mtu;  // RTAX_MTU
    bool operator==(const RouteConfig &) const = default;
};

// What a profile wants for one link. Everything unset leaves the kernel's value alone.
struct Settings {
    bool up = true;                       // [link] up; a matched link is brought up by default
    std::optional<uint32_t> mtu;          // [link] mtu, 68..65535 (1280.. with IPv6 configured)
    std::optional<net::Mac> mac;          // [link] mac (unicast, non-zero)
    std::string zone;                     // [link] zone for fwd; "" = none
    std::string controller;               // [link] controller: bridge/bond name; "" = none
    bool dhcp4 = false;                   // [ipv4] dhcp
    std::optional<bool> slaac;            // [ipv6] slaac; unset = leave the sysctls alone
    std::vector<net::Prefix> addresses;   // [ipv4] then [ipv6] addresses, in file order
    net::Address gateway4;                // [ipv4] gateway; empty = none
    net::Address gateway6;                // [ipv6] gateway; empty = none
    std::vector<net::Address> dns_servers; // [dns] servers
    std::vector<std::string> dns_domains; // [dns] domains, trailing dot stripped
    std::vector<RouteConfig> routes;      // [[route]]
    bool operator==(const Settings &) const = default;
};

struct Match {
    std::string name;       // interface name or fnmatch glob; "" = any name
    std::optional<net::Mac> mac; // current MAC; unset = any
    bool operator==(const Match &) const = default;
};

struct LinkProfile {
    std::string file;       // the path as loaded (messages name it)
    Match match;
    Settings settings;
    bool operator==(const LinkProfile &) const = default;
};

struct NetdevProfile {
    std::string file;
    std::string name;
    rtnl::NetdevKind kind = rtnl::NetdevKind::Bridge;
    std::optional<bool> stp;      // bridge
    uint16_t vlan_id = 0;         // vlan: 1..4094
    std::string parent;           // vlan: the parent link's name
    std::string peer;             // veth: the peer's name
    std::string mode;             // bond: canonical mode name, default "balance-rr"
    std::optional<uint32_t> mtu;  // [netdev] mtu: set at creation
    std::optional<net::Mac> mac;  // [netdev] mac: set at creation
    Settings settings;            // the file's [link]/[ipv4]/... for the device itself
    bool operator==(const NetdevProfile &) const = default;
};

struct Profiles {
    std::vector<LinkProfile> links;      // in file-name order
    std::vector<NetdevProfile> netdevs;  // in file-name order
    bool operator==(const Profiles &) const = default;
};

std::string_view to_string(rtnl::NetdevKind k);   // "bridge", "vlan", "veth", "bond"
std::string_view to_string(Scope s);              // "global", "link", "host"
// The canonical bond mode for a name or its number ("4" -> "802.3ad"); nullopt if unknown.
std::optional<std::string_view> canonical_bond_mode(std::string_view mode);

// Parses one file's text into `out` (appends one link or netdev profile). `file` names it
// in messages. Checks within the file only; see validate().
Result<> parse_file(std::string_view text, std::string file, Profiles &out);

// Checks across files: duplicate netdev names (a veth peer counts as a name), a
// controller that names a vlan or veth netdev, a vlan whose parent is itself. Messages
// name both files where two are involved.
Result<> validate(const Profiles &p);

// Parses several (file name, text) pairs in the given order, then validate(). For tests
// and the fuzzer; load_directory() sorts before calling the same code.
Result<Profiles> parse_files(const std::vector<std::pair<std::string, std::string>> &files);

// One file, then validate().
Result<Profiles> load_file(const std::filesystem::path &p);

// Every regular file (or symlink to one) named *.toml directly in `dir`, not starting
// with '.', in byte order of file names. A missing directory is an empty set; any
// unreadable or invalid file fails the whole load. At most 4096 files.
Result<Profiles> load_directory(const std::filesystem::path &dir);

} // namespace alopex::linkd::profile
