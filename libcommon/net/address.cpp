// SPDX-License-Identifier: GPL-2.0-or-later
// net::Address and net::Prefix: inet_pton/inet_ntop behind a strict front door, and the
// bit arithmetic of prefixes. The only place in the tree that calls inet_pton/inet_ntop.
#include "alopex/net.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace alopex::net {

namespace {

std::unexpected<Error> invalid(std::string_view what, std::string message)
{
    std::string m = what.empty() ? std::move(message) : fmt::format("{}: {}", what, message);
    return std::unexpected<Error>(Error{EINVAL, std::move(m), bus_error::InvalidArgument});
}

const char *kind_name(int family)
{
    return family == AF_INET ? "an IPv4" : family == AF_INET6 ? "an IPv6" : "an IPv4 or IPv6";
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// A dotted quad whose parts are all decimal, one of them with a leading zero ("010.0.0.1"):
// inet_pton refuses it, and a hint says why (inet_aton would read it as octal).
bool leading_zero_quad(std::string_view s)
{
    if (s.empty() || s.find_first_not_of("0123456789.") != std::string_view::npos)
        return false;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = std::min(s.find('.', start), s.size());
        if (end - start > 1 && s[start] == '0')
            return true;
        start = end + 1;
    }
    return false;
}

// inet_pton of `family` on text known to be at most max_text bytes without NUL.
bool pton(int family, std::string_view text, uint8_t *out)
{
    char buf[Address::max_text + 1];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    return inet_pton(family, buf, out) == 1;
}

// Why `text` is not an address of `family` (0: either), as a parenthesized hint or "".
std::string hint(std::string_view text, int family)
{
    if (text.empty())
        return " (it is empty)";
    if (text.size() > Address::max_text)
        return fmt::format(" (longer than {} bytes)", Address::max_text);
    if (text.find('\0') != std::string_view::npos)
        return " (it contains a NUL byte)";
    if (is_space(text.front()) || is_space(text.back()))
        return " (leading or trailing whitespace)";
    uint8_t scratch[16];
    if (family == AF_INET && pton(AF_INET6, text, scratch))
        return " (it is an IPv6 address)";
    if (family == AF_INET6 && pton(AF_INET, text, scratch))
        return " (it is an IPv4 address)";
    if (text.find('%') != std::string_view::npos)
        return " (a zone index is not allowed)";
    if (text.find('/') != std::string_view::npos)
        return " (a prefix length is not allowed here)";
    if (leading_zero_quad(text))
        return " (no leading zeros in a dotted quad)";
    return {};
}

// The address, or nothing (no message: callers word their own).
std::optional<Address> try_parse(std::string_view text, int family)
{
    if (text.empty() || text.size() > Address::max_text || text.find('\0') != std::string_view::npos)
        return std::nullopt;
    uint8_t b[16] = {};
    if (family != AF_INET6 && pton(AF_INET, text, b))
        return Address::from_bytes(AF_INET, std::span<const uint8_t>(b, 4)).value();
    if (family != AF_INET && pton(AF_INET6, text, b))
        return Address::from_bytes(AF_INET6, std::span<const uint8_t>(b, 16)).value();
    return std::nullopt;
}

// Decimal without sign or leading zeros, at most `max`.
std::optional<unsigned> parse_length(std::string_view s, unsigned max)
{
    if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0'))
        return std::nullopt;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > max)
        return std::nullopt;
    return v;
}

} // namespace

std::string quoted(std::string_view text)
{
    std::string out = "'";
    for (size_t i = 0; i < text.size() && i < 64; ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
            out += static_cast<char>(c);
        else
            out += fmt::format("\\x{:02x}", c);
    }
    if (text.size() > 64)
        out += "...";
    return out + "'";
}

// ---- Address ----

Result<Address> Address::parse(std::string_view text, std::string_view what)
{
    return parse(text, 0, what);
}

Result<Address> Address::parse(std::string_view text, int family, std::string_view what)
{
    if (family != 0 && family != AF_INET && family != AF_INET6)
        return invalid(what, fmt::format("address family {} is neither AF_INET nor AF_INET6", family));
    if (auto a = try_parse(text, family))
        return *a;
    return invalid(what, fmt::format("{} is not {} address{}", quoted(text), kind_name(family), hint(text, family)));
}

Result<Address> Address::from_bytes(int family, std::span<const uint8_t> bytes, std::string_view what)
{
    size_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
    if (want == 0)
        return invalid(what, fmt::format("address family {} is neither AF_INET nor AF_INET6", family));
    if (bytes.size() != want)
        return invalid(what, fmt::format("{} bytes are not an {} address ({} bytes)", bytes.size(),
                                         family == AF_INET ? "IPv4" : "IPv6", want));
    Address a;
    a.family_ = static_cast<uint8_t>(family);
    std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
    return a;
}

Result<Address> Address::from_bytes(int family, std::span<const std::byte> bytes, std::string_view what)
{
    return from_bytes(family, std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()),
                      what);
}

std::string Address::to_string() const
{
    if (empty())
        return {};
    char buf[INET6_ADDRSTRLEN];
    if (!inet_ntop(family_, bytes_.data(), buf, sizeof buf))
        return "?";   // cannot happen: the buffer fits every address
    return buf;
}

bool Address::is_unspecified() const noexcept
{
    return !empty() && std::all_of(bytes_.begin(), bytes_.end(), [](uint8_t b) { return b == 0; });
}

bool Address::is_loopback() const noexcept
{
    if (is_v4())
        return bytes_[0] == 127;
    if (is_v6())
        return bytes_[15] == 1 && std::all_of(bytes_.begin(), bytes_.begin() + 15, [](uint8_t b) { return b == 0; });
    return false;
}

bool Address::is_link_local() const noexcept
{
    if (is_v4())
        return bytes_[0] == 169 && bytes_[1] == 254;
    if (is_v6())
        return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
    return false;
}

bool Address::is_multicast() const noexcept
{
    if (is_v4())
        return (bytes_[0] & 0xf0) == 0xe0;
    if (is_v6())
        return bytes_[0] == 0xff;
    return false;
}

bool Address::is_broadcast() const noexcept
{
    return is_v4() && bytes_[0] == 0xff && bytes_[1] == 0xff && bytes_[2] == 0xff && bytes_[3] == 0xff;
}

bool Address::is_v4_mapped() const noexcept
{
    return is_v6() && std::all_of(bytes_.begin(), bytes_.begin() + 10, [](uint8_t b) { return b == 0; }) &&
           bytes_[10] == 0xff && bytes_[11] == 0xff;
}

// ---- Prefix ----

Result<Prefix> Prefix::parse(std::string_view text, std::string_view what, PrefixRules rules)
{
    if (rules.family != 0 && rules.family != AF_INET && rules.family != AF_INET6)
        return invalid(what, fmt::format("address family {} is neither AF_INET nor AF_INET6", rules.family));
    auto slash = text.find('/');
    auto addr_text = text.substr(0, slash);
    auto a = try_parse(addr_text, rules.family);
    if (!a) {
        const char *noun = rules.network ? "network" : "prefix";
        return invalid(what, fmt::format("{} is not {} {}{}{}", quoted(text), kind_name(rules.family),
                                         rules.bare ? "address or " : "", noun, hint(addr_text, rules.family)));
    }
    if (slash == std::string_view::npos) {
        if (rules.bare)
            return host(*a);
        return invalid(what, fmt::format("{} has no prefix length (expected address/length, like {})", quoted(text),
                                         a->is_v4() ? "192.0.2.0/24" : "2001:db8::/64"));
    }
    unsigned max = a->bits(), min = rules.zero_length ? 0u : 1u;
    auto len = parse_length(text.substr(slash + 1), max);
    if (!len || *len < min)
        return invalid(what, fmt::format("{} has a bad prefix length ({}..{})", quoted(text), min, max));
    Prefix p(*a, *len);
    if (rules.network && !p.is_network())
        return invalid(what, fmt::format("{} has host bits set (the network is {})", quoted(text), p.network()));
    return p;
}

Result<Prefix> Prefix::parse_network(std::string_view text, std::string_view what, PrefixRules rules)
{
    rules.network = true;
    return parse(text, what, rules);
}

Prefix Prefix::network() const noexcept
{
    Prefix p = *this;
    for (unsigned bit = length_; bit < address_.bits(); ++bit)
        p.address_.bytes_[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
    return p;
}

Address Prefix::last() const noexcept
{
    Address a = address_;
    for (unsigned bit = length_; bit < a.bits(); ++bit)
        a.bytes_[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
    return a;
}

bool Prefix::contains(const Address &a) const noexcept
{
    return !empty() && a.family() == family() && Prefix(a, length_).network().address_ == network().address_;
}

bool Prefix::contains(const Prefix &p) const noexcept
{
    return p.length_ >= length_ && contains(p.address_);
}

std::string Prefix::to_string() const
{
    if (empty())
        return {};
    return fmt::format("{}/{}", address_.to_string(), length_);
}

} // namespace alopex::net

namespace {
size_t hash_bytes(const void *p, size_t n) noexcept
{
    return std::hash<std::string_view>{}(std::string_view(static_cast<const char *>(p), n));
}
} // namespace

size_t std::hash<alopex::net::Address>::operator()(const alopex::net::Address &a) const noexcept
{
    uint8_t key[17];
    key[0] = static_cast<uint8_t>(a.family());
    std::memcpy(key + 1, a.data(), 16);
    return hash_bytes(key, sizeof key);
}

size_t std::hash<alopex::net::Prefix>::operator()(const alopex::net::Prefix &p) const noexcept
{
    uint8_t key[18];
    key[0] = static_cast<uint8_t>(p.family());
    std::memcpy(key + 1, p.address().data(), 16);
    key[17] = static_cast<uint8_t>(p.length());
    return hash_bytes(key, sizeof key);
}

size_t std::hash<alopex::net::Mac>::operator()(const alopex::net::Mac &m) const noexcept
{
    return hash_bytes(m.data(), m.size()) ^ m.size();
}
