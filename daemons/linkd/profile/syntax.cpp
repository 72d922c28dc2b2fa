// SPDX-License-Identifier: GPL-2.0-or-later
#include "syntax.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

namespace alopex::linkd::profile {

namespace {

bool name_byte_ok(unsigned char c)
{
    // Printable ASCII except space, '/' and ':' (the kernel refuses '/', ':' and
    // whitespace; we also refuse control and non-ASCII bytes).
    return c > 0x20 && c < 0x7f && c != '/' && c != ':';
}

bool parse_len(std::string_view s, unsigned max, unsigned &out)
{
    if (s.empty() || s.size() > 3)
        return false;
    if (s.size() > 1 && s[0] == '0')
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

int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

bool valid_ifname(std::string_view name)
{
    if (name.empty() || name.size() > 15 || name == "." || name == "..")
        return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return name_byte_ok(static_cast<unsigned char>(c)); });
}

bool is_glob(std::string_view s)
{
    return s.find_first_of("*?[\\") != std::string_view::npos;
}

Result<> check_name_glob(std::string_view glob)
{
    if (glob.empty())
        return fail(EINVAL, "must not be empty");
    if (glob.size() > 64)
        return fail(EINVAL, "is too long (at most 64 bytes)");
    for (char c : glob)
        if (!name_byte_ok(static_cast<unsigned char>(c)))
            return fail(EINVAL, "may only hold printable ASCII without spaces, '/' or ':'");
    if (!is_glob(glob)) {
        if (!valid_ifname(glob))
            return fail(EINVAL, "is not a valid interface name (1..15 bytes, not '.' or '..')");
        return {};
    }
    for (size_t i = 0; i < glob.size(); ++i) {
        char c = glob[i];
        if (c == '\\') {
            if (i + 1 >= glob.size())
                return fail(EINVAL, "ends with a lone backslash");
            ++i;
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < glob.size() && (glob[j] == '!' || glob[j] == '^'))
                ++j;
            if (j < glob.size() && glob[j] == ']') // a leading ']' is a member
                ++j;
            while (j < glob.size() && glob[j] != ']')
                ++j;
            if (j >= glob.size())
                return fail(EINVAL, "has a '[' without a closing ']'");
            if (j == i + 1 || (j == i + 2 && (glob[i + 1] == '!' || glob[i + 1] == '^')))
                return fail(EINVAL, "has an empty bracket expression");
            i = j;
        }
    }
    return {};
}

Result<Ip> parse_ip(std::string_view text, uint8_t family)
{
    if (text.empty() || text.size() > 45)
        return fail(EINVAL, "is not an IP address");
    std::string s(text);
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN];
    if ((family == 0 || family == AF_INET) && inet_pton(AF_INET, s.c_str(), buf) == 1) {
        inet_ntop(AF_INET, buf, out, sizeof out);
        return Ip{AF_INET, out};
    }
    if ((family == 0 || family == AF_INET6) && inet_pton(AF_INET6, s.c_str(), buf) == 1) {
        inet_ntop(AF_INET6, buf, out, sizeof out);
        return Ip{AF_INET6, out};
    }
    if (family == AF_INET)
        return fail(EINVAL, "is not an IPv4 address");
    if (family == AF_INET6)
        return fail(EINVAL, "is not an IPv6 address");
    return fail(EINVAL, "is not an IP address");
}

Result<Prefix> parse_prefix(std::string_view text, uint8_t family, bool network, bool allow_zero)
{
    auto slash = text.find('/');
    if (slash == std::string_view::npos || text.find('/', slash + 1) != std::string_view::npos)
        return fail(EINVAL, "must be address/prefix-length");
    auto ip = parse_ip(text.substr(0, slash), family);
    if (!ip)
        return std::unexpected(ip.error());
    unsigned max = ip->family == AF_INET ? 32 : 128;
    unsigned len = 0;
    if (!parse_len(text.substr(slash + 1), max, len))
        return failf(EINVAL, "has a bad prefix length (0..{})", max);
    if (len == 0 && !allow_zero)
        return failf(EINVAL, "has a bad prefix length (1..{})", max);
    if (network) {
        unsigned char buf[16];
        std::string a(ip->address);
        inet_pton(ip->family, a.c_str(), buf);
        size_t bytes = max / 8;
        for (size_t i = 0; i < bytes; ++i) {
            unsigned first = static_cast<unsigned>(i) * 8;
            unsigned char mask = 0;
            if (first >= len)
                mask = 0xff;
            else if (first + 8 > len)
                mask = static_cast<unsigned char>(0xff >> (len - first));
            if (buf[i] & mask)
                return failf(EINVAL, "has host bits set (not a network address for /{})", len);
        }
    }
    return Prefix{ip->family, ip->address, static_cast<uint8_t>(len)};
}

Result<Mac> parse_mac(std::string_view text)
{
    Mac m{};
    if (text.size() != 17)
        return fail(EINVAL, "must be a MAC address like 02:00:00:00:00:01");
    for (size_t i = 0; i < 6; ++i) {
        int hi = hexval(text[i * 3]), lo = hexval(text[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':'))
            return fail(EINVAL, "must be a MAC address like 02:00:00:00:00:01");
        m[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    return m;
}

std::string format_mac(const Mac &mac)
{
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2],
                       mac[3], mac[4], mac[5]);
}

bool assignable_mac(const Mac &mac)
{
    if (mac[0] & 1)
        return false; // multicast/broadcast
    return std::any_of(mac.begin(), mac.end(), [](uint8_t b) { return b != 0; });
}

bool valid_domain(std::string_view name)
{
    if (!name.empty() && name.back() == '.')
        name.remove_suffix(1);
    if (name.empty() || name.size() > 253)
        return false;
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('.', start);
        if (end == std::string_view::npos)
            end = name.size();
        auto label = name.substr(start, end - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
            if (!ok)
                return false;
        }
        start = end + 1;
    }
    return true;
}

bool valid_zone(std::string_view name)
{
    if (name.empty() || name.size() > 64)
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

std::string to_string(const Prefix &p)
{
    return fmt::format("{}/{}", p.address, p.prefixlen);
}

} // namespace alopex::linkd::profile
