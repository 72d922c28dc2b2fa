// SPDX-License-Identifier: GPL-2.0-or-later
// Addresses and networks: "192.0.2.0/24", "2001:db8::1", "[2001:db8::5]:80"; interface
// name patterns.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

#include "config.hpp"
#include "internal.hpp"

namespace alopex::fwd::config {

namespace {

// Decimal without sign or leading zeros, at most `max`.
bool parse_small(std::string_view s, unsigned max, unsigned &out)
{
    if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0'))
        return false;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > max)
        return false;
    out = v;
    return true;
}

bool host_bits_clear(const Cidr &c)
{
    unsigned bits = c.family == AF_INET ? 32 : 128;
    for (unsigned i = c.prefix; i < bits; ++i)
        if (c.addr[i / 8] & (0x80 >> (i % 8)))
            return false;
    return true;
}

Cidr masked(Cidr c)
{
    unsigned bits = c.family == AF_INET ? 32 : 128;
    for (unsigned i = c.prefix; i < bits; ++i)
        c.addr[i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
    return c;
}

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

std::optional<Cidr> parse_address(std::string_view text)
{
    if (text.empty() || text.size() > 45 || text.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
        return std::nullopt;
    std::string s(text);
    Cidr c;
    if (inet_pton(AF_INET, s.c_str(), c.addr.data()) == 1) {
        c.family = AF_INET;
        c.prefix = 32;
        return c;
    }
    if (inet_pton(AF_INET6, s.c_str(), c.addr.data()) == 1) {
        c.family = AF_INET6;
        c.prefix = 128;
        return c;
    }
    return std::nullopt;
}

} // namespace

Result<Cidr> parse_cidr(std::string_view text)
{
    auto slash = text.find('/');
    auto addr_text = text.substr(0, slash);
    auto c = parse_address(addr_text);
    if (!c)
        return failf(EINVAL, "{}: not an IPv4 or IPv6 address or network", shown(text));
    if (slash == std::string_view::npos)
        return *c;
    unsigned max = c->family == AF_INET ? 32 : 128, len = 0;
    if (!parse_small(text.substr(slash + 1), max, len))
        return failf(EINVAL, "{}: bad prefix length (0..{})", shown(text), max);
    c->prefix = static_cast<uint8_t>(len);
    if (!host_bits_clear(*c))
        return failf(EINVAL, "{}: host bits set (the network is {})", shown(text),
                     to_string(masked(*c)));
    return *c;
}

std::string to_string(const Cidr &c)
{
    char buf[INET6_ADDRSTRLEN] = "?";
    if (c.family != AF_INET && c.family != AF_INET6)
        return "?";
    inet_ntop(c.family, c.addr.data(), buf, sizeof buf);
    unsigned bits = c.family == AF_INET ? 32 : 128;
    if (c.prefix == bits)
        return buf;
    return fmt::format("{}/{}", buf, c.prefix);
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
        auto a = parse_address(addr);
        if (!a || a->family != AF_INET6)
            return std::unexpected(fmt::format("{}: not an IPv6 address in brackets", shown(text)));
        hp.host = *a;
    } else {
        auto colon = text.find(':');
        if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
            addr = text.substr(0, colon);
            port = text.substr(colon + 1);
            has_port = true;
        }
        auto a = parse_address(addr);
        if (!a) {
            if (addr.find('/') != std::string_view::npos)
                return std::unexpected(fmt::format("{}: a host address, not a network", shown(text)));
            return std::unexpected(fmt::format("{}: not an address or address:port", shown(text)));
        }
        if (has_port && a->family != AF_INET)
            return std::unexpected(fmt::format("{}: not an address or address:port", shown(text)));
        hp.host = *a;
    }
    bool zero = std::all_of(hp.host.addr.begin(), hp.host.addr.end(), [](uint8_t b) { return b == 0; });
    bool multicast = hp.host.family == AF_INET ? (hp.host.addr[0] & 0xf0) == 0xe0 : hp.host.addr[0] == 0xff;
    bool broadcast = hp.host.family == AF_INET &&
                     std::all_of(hp.host.addr.begin(), hp.host.addr.begin() + 4, [](uint8_t b) { return b == 0xff; });
    if (zero || multicast || broadcast)
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

std::string format_host_port(const Cidr &host, std::optional<uint16_t> port)
{
    std::string a = to_string(host);
    if (!port)
        return a;
    if (host.family == AF_INET6)
        return fmt::format("[{}]:{}", a, *port);
    return fmt::format("{}:{}", a, *port);
}

bool contains(const Cidr &outer, const Cidr &inner)
{
    if (outer.family != inner.family || outer.prefix > inner.prefix)
        return false;
    Cidr x = inner;
    x.prefix = outer.prefix;
    return masked(x).addr == outer.addr;
}

std::vector<Cidr> normalize_cidrs(std::vector<Cidr> v)
{
    // Sorted by (family, address, prefix): a network that covers another comes first, and
    // networks nest or are disjoint, so only the last one kept can cover the next.
    std::sort(v.begin(), v.end());
    std::vector<Cidr> out;
    for (auto &c : v)
        if (out.empty() || !contains(out.back(), c))
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
