// SPDX-License-Identifier: GPL-2.0-or-later
// Addresses and networks: "192.0.2.0/24", "2001:db8::1", "[2001:db8::5]:80"; interface
// name patterns.
#include <sys/socket.h>

#include <algorithm>

#include "config.hpp"
#include "internal.hpp"

namespace alopex::fwd::config {

namespace {

// Printable text for messages (the input may hold anything).
std::string shown(std::string_view s)
{
    std::string out;
    for (unsigned char c : s.substr(0, 64)) {
        if (c >= 0x20 && c < 0x7f)
            out += static_cast<char>(c);
        else
            out += fmt::format("\\x{:02x}", c);
    }
    if (s.size() > 64)
        out += "...";
    return out;
}

} // namespace

Result<net::Prefix> parse_cidr(std::string_view text)
{
    return net::Prefix::parse_network(text, "", {.bare = true});
}

std::string to_string(const net::Prefix &c)
{
    return c.is_host() ? c.address().to_string() : c.to_string();
}

bool valid_interface_pattern(std::string_view p)
{
    auto byte_ok = [](unsigned char c) { return c > 0x20 && c < 0x7f && c != '/' && c != ':'; };
    if (p.empty() || p.size() > 64 || p == "." || p == "..")
        return false;
    if (!std::all_of(p.begin(), p.end(), [&](char c) { return byte_ok(static_cast<unsigned char>(c)); }))
        return false;
    bool glob = p.find_first_of("*?[\\") != std::string_view::npos;
    if (!glob)
        return p.size() <= 15;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\') {
            if (++i >= p.size())
                return false;
        } else if (p[i] == '[') {
            size_t j = i + 1;
            if (j < p.size() && (p[j] == '!' || p[j] == '^'))
                ++j;
            size_t members = j;
            if (j < p.size() && p[j] == ']')
                ++j;
            while (j < p.size() && p[j] != ']')
                ++j;
            if (j >= p.size() || j == members)
                return false;
            i = j;
        }
    }
    return true;
}

namespace detail {

std::expected<HostPort, std::string> parse_host_port(std::string_view text)
{
    HostPort hp;
    std::string_view addr = text, port;
    bool has_port = false;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return std::unexpected(fmt::format("{}: missing ']'", shown(text)));
        addr = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                return std::unexpected(fmt::format("{}: expected ':port' after ']'", shown(text)));
            port = rest.substr(1);
            has_port = true;
        }
        auto a = net::Address::parse(addr, AF_INET6, "");
        if (!a)
            return std::unexpected(fmt::format("{}: not an IPv6 address in brackets", shown(text)));
        hp.host = *a;
    } else {
        auto colon = text.find(':');
        if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
            addr = text.substr(0, colon);
            port = text.substr(colon + 1);
            has_port = true;
        }
        auto a = net::Address::parse(addr, has_port ? AF_INET : 0, "");
        if (!a) {
            if (addr.find('/') != std::string_view::npos)
                return std::unexpected(fmt::format("{}: a host address, not a network", shown(text)));
            return std::unexpected(fmt::format("{}: not an address or address:port", shown(text)));
        }
        hp.host = *a;
    }
    if (hp.host.is_unspecified() || hp.host.is_multicast() || hp.host.is_broadcast())
        return std::unexpected(fmt::format("{}: not a unicast host address", shown(text)));
    if (has_port) {
        auto p = parse_decimal(port, 65535);
        if (!p || *p < 1)
            return std::unexpected(fmt::format("{}: port '{}' is not a port (1..65535)", shown(text),
                                               shown(port)));
        hp.port = static_cast<uint16_t>(*p);
    }
    return hp;
}

std::string format_host_port(const net::Address &host, std::optional<uint16_t> port)
{
    std::string a = host.to_string();
    if (!port)
        return a;
    if (host.is_v6())
        return fmt::format("[{}]:{}", a, *port);
    return fmt::format("{}:{}", a, *port);
}

std::vector<net::Prefix> normalize_cidrs(std::vector<net::Prefix> v)
{
    // Sorted by (family, address, prefix): a network that covers another comes first, and
    // networks nest or are disjoint, so only the last one kept can cover the next.
    std::sort(v.begin(), v.end());
    std::vector<net::Prefix> out;
    for (auto &c : v)
        if (out.empty() || !out.back().contains(c))
            out.push_back(c);
    return out;
}

std::vector<PortRange> normalize_ports(std::vector<PortRange> v)
{
    std::sort(v.begin(), v.end());
    std::vector<PortRange> out;
    for (auto &r : v) {
        if (!out.empty() && static_cast<uint32_t>(r.first) <= static_cast<uint32_t>(out.back().last) + 1) {
            out.back().last = std::max(out.back().last, r.last);
            continue;
        }
        out.push_back(r);
    }
    return out;
}

} // namespace detail

} // namespace alopex::fwd::config
