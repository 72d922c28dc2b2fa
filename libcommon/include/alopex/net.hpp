// SPDX-License-Identifier: GPL-2.0-or-later
// Address types shared by every daemon, from the rtnetlink parser up to the D-Bus and
// config boundaries: net::Address (IPv4 or IPv6), net::Prefix (an address and a prefix
// length) and net::Mac (a link-layer address). Small, trivially copyable, ordered and
// hashable values; text only at the edges (parse() in, to_string() or fmt out).
//
// Parsing is strict: an address is what inet_pton(3) accepts and nothing else — dotted
// quads of four decimal parts without leading zeros, RFC 4291 IPv6 text (hex digits of
// either case, one "::", a trailing dotted quad) — with no surrounding whitespace, no
// zone index ("%eth0"), no embedded NUL and at most 45 bytes. Printing is inet_ntop's
// canonical text (RFC 5952 for IPv6: lowercase, longest zero run as "::").
//
// Every parse error is an org.alopex.Error.InvalidArgument whose message starts with the
// `what` it was given and quotes the text: "ipv4.gateway: '300.1.1.1' is not an IPv4
// address". Pure: no sockets, no logging.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <sys/socket.h>

#include <fmt/format.h>

#include "alopex/error.hpp"

namespace alopex::net {

// The value of a hexadecimal digit of either case, or -1.
constexpr int hex_digit(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

class Address {
public:
    static constexpr size_t max_size = 16;   // bytes
    static constexpr size_t max_text = 45;   // INET6_ADDRSTRLEN - 1

    // The empty address: no family, no bytes ("no gateway", "no address").
    constexpr Address() = default;

    // inet_pton's text of either family, or of `family` only (AF_INET, AF_INET6; 0 =
    // either). The error names `what`.
    static Result<Address> parse(std::string_view text, std::string_view what = "address");
    static Result<Address> parse(std::string_view text, int family, std::string_view what);
    // Network-order bytes: 4 for AF_INET, 16 for AF_INET6; anything else is an error.
    static Result<Address> from_bytes(int family, std::span<const uint8_t> bytes,
                                      std::string_view what = "address");
    static Result<Address> from_bytes(int family, std::span<const std::byte> bytes,
                                      std::string_view what = "address");
    // 0.0.0.0 or :: (the empty address for any other family).
    static constexpr Address any(int family)
    {
        Address a;
        if (family == AF_INET || family == AF_INET6)
            a.family_ = static_cast<uint8_t>(family);
        return a;
    }
    // An IPv4 address from a host-order number (0xc0000201 is 192.0.2.1).
    static constexpr Address v4(uint32_t host_order)
    {
        Address a;
        a.family_ = AF_INET;
        a.bytes_ = {uint8_t(host_order >> 24), uint8_t(host_order >> 16), uint8_t(host_order >> 8),
                    uint8_t(host_order)};
        return a;
    }

    constexpr int family() const noexcept { return family_; }
    constexpr bool empty() const noexcept { return family_ == 0; }
    constexpr bool is_v4() const noexcept { return family_ == AF_INET; }
    constexpr bool is_v6() const noexcept { return family_ == AF_INET6; }
    // 4, 16, or 0 for the empty address; bits() is 32, 128 or 0.
    constexpr size_t size() const noexcept { return family_ == AF_INET ? 4 : family_ == AF_INET6 ? 16 : 0; }
    constexpr unsigned bits() const noexcept { return static_cast<unsigned>(size() * 8); }
    // The size() bytes in network order.
    std::span<const uint8_t> bytes() const noexcept { return {bytes_.data(), size()}; }
    const uint8_t *data() const noexcept { return bytes_.data(); }
    // The host-order number of an IPv4 address; 0 for any other.
    constexpr uint32_t v4_number() const noexcept
    {
        if (family_ != AF_INET)
            return 0;
        return uint32_t(bytes_[0]) << 24 | uint32_t(bytes_[1]) << 16 | uint32_t(bytes_[2]) << 8 | bytes_[3];
    }

    // inet_ntop's text; "" for the empty address.
    std::string to_string() const;

    // 0.0.0.0, ::
    bool is_unspecified() const noexcept;
    // 127.0.0.0/8, ::1
    bool is_loopback() const noexcept;
    // 169.254.0.0/16, fe80::/10
    bool is_link_local() const noexcept;
    // 224.0.0.0/4, ff00::/8
    bool is_multicast() const noexcept;
    // 255.255.255.255
    bool is_broadcast() const noexcept;
    // ::ffff:0:0/96
    bool is_v4_mapped() const noexcept;

    // Family first (the empty address, then IPv4, then IPv6), then the bytes.
    auto operator<=>(const Address &) const = default;
    bool operator==(const Address &) const = default;

private:
    friend class Prefix;
    uint8_t family_ = 0;
    std::array<uint8_t, max_size> bytes_{};   // beyond size(): always zero
};

// How Prefix::parse reads its text.
struct PrefixRules {
    int family = 0;              // AF_INET, AF_INET6; 0 = either
    bool network = false;        // host bits beyond the length must be zero
    bool bare = false;           // a bare address is a host prefix (/32, /128)
    bool zero_length = true;     // "/0" is allowed
};

class Prefix {
public:
    constexpr Prefix() = default;
    // `length` is capped at the family's bits (32, 128); host bits are kept as given.
    constexpr Prefix(Address address, unsigned length) noexcept
        : address_(address), length_(static_cast<uint8_t>(length < address.bits() ? length : address.bits()))
    {
    }
    // The host prefix of an address (/32, /128).
    static constexpr Prefix host(Address a) noexcept { return Prefix(a, a.bits()); }

    // "192.0.2.10/24": the length is decimal without sign or leading zeros, 0..32 or
    // 0..128. By default host bits are kept (an interface address); see PrefixRules.
    static Result<Prefix> parse(std::string_view text, std::string_view what, PrefixRules rules = {});
    // parse() with rules.network set: "192.0.2.0/24"; "192.0.2.1/24" is refused and the
    // message names the network.
    static Result<Prefix> parse_network(std::string_view text, std::string_view what, PrefixRules rules = {});

    constexpr const Address &address() const noexcept { return address_; }
    constexpr unsigned length() const noexcept { return length_; }
    constexpr int family() const noexcept { return address_.family(); }
    constexpr bool empty() const noexcept { return address_.empty(); }
    // The length is the address's full width (/32, /128).
    constexpr bool is_host() const noexcept { return !empty() && length_ == address_.bits(); }

    // The network: host bits cleared.
    Prefix network() const noexcept;
    // No host bits are set.
    bool is_network() const noexcept { return network() == *this; }
    // The highest address of the network (IPv4: its broadcast address).
    Address last() const noexcept;
    bool contains(const Address &a) const noexcept;
    // `p` is this network or lies inside it (same family, at least as long).
    bool contains(const Prefix &p) const noexcept;

    // "192.0.2.10/24" (always with the length); "" for the empty prefix.
    std::string to_string() const;

    // Address first, then length: a network sorts before the networks inside it.
    auto operator<=>(const Prefix &) const = default;
    bool operator==(const Prefix &) const = default;

private:
    Address address_;
    uint8_t length_ = 0;
};

// A link-layer (hardware) address as IFLA_ADDRESS carries it: 6 bytes for Ethernet,
// up to 32 (the kernel's MAX_ADDR_LEN) for other link types, or none.
class Mac {
public:
    static constexpr size_t max_size = 32;

    constexpr Mac() = default;
    // An EUI-48 as six colon-separated pairs of hex digits of either case,
    // "02:00:5e:10:00:01". Other spellings ("02-00-5e-10-00-01", "0200.5e10.0001") are
    // refused with a hint.
    static Result<Mac> parse(std::string_view text, std::string_view what = "mac");
    // 0..32 bytes.
    static Result<Mac> from_bytes(std::span<const uint8_t> bytes, std::string_view what = "mac");
    static Result<Mac> from_bytes(std::span<const std::byte> bytes, std::string_view what = "mac");
    static constexpr Mac eui48(const std::array<uint8_t, 6> &b) noexcept
    {
        Mac m;
        m.size_ = 6;
        for (size_t i = 0; i < 6; ++i)
            m.bytes_[i] = b[i];
        return m;
    }

    constexpr size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    std::span<const uint8_t> bytes() const noexcept { return {bytes_.data(), size_}; }
    const uint8_t *data() const noexcept { return bytes_.data(); }

    // Lowercase pairs joined by ':', "02:00:5e:10:00:01"; "" for none.
    std::string to_string() const;

    // The group bit (bit 0 of the first byte): multicast and broadcast.
    constexpr bool is_multicast() const noexcept { return size_ > 0 && (bytes_[0] & 1); }
    // The U/L bit (bit 1 of the first byte).
    constexpr bool is_locally_administered() const noexcept { return size_ > 0 && (bytes_[0] & 2); }
    // Every byte zero (and at least one byte).
    bool is_zero() const noexcept;
    // What an interface can be given: present, unicast and not all zeros.
    bool assignable() const noexcept { return !empty() && !is_multicast() && !is_zero(); }
    // assignable(), or an error naming `what` and saying why not.
    Result<> check_assignable(std::string_view what = "mac") const;

    auto operator<=>(const Mac &) const = default;
    bool operator==(const Mac &) const = default;

private:
    uint8_t size_ = 0;
    std::array<uint8_t, max_size> bytes_{};   // beyond size(): always zero
};

// A Linux interface name: 1 to 15 bytes of printable ASCII except space, '/' and ':'
// (the kernel refuses '/', ':' and whitespace; control and non-ASCII bytes are refused
// too), and not "." or "..".
bool valid_ifname(std::string_view name);

// A DNS domain name as a search domain or a forward zone: labels of [A-Za-z0-9_-],
// 1..63 bytes, not starting or ending with '-', total 1..253 bytes; one trailing dot
// allowed (stripped by the caller). Not the root ".".
bool valid_domain(std::string_view name);

// Caller text for an error message: in single quotes, at most 64 bytes (then "..."),
// bytes outside printable ASCII and the characters ' and \ as \xNN.
std::string quoted(std::string_view text);

// A transport endpoint: an address and a port (host order, 1..65535).
struct Endpoint {
    Address address;
    uint16_t port = 0;
    std::string to_string() const;   // "192.0.2.1:443", "[2001:db8::1]:443"
    bool operator==(const Endpoint &) const = default;
};

// "a.b.c.d:port" or "[v6]:port": Address's strict text (no zone index, no host names),
// the port in decimal, 1..65535. The error names the fault (no `what` prefix: callers
// say what the endpoint is for).
Result<Endpoint> parse_endpoint(std::string_view text);

// The sockaddr_in or sockaddr_in6 of `e` in `ss`; returns its length.
socklen_t to_sockaddr(const Endpoint &e, struct sockaddr_storage &ss);

} // namespace alopex::net

template <> struct std::hash<alopex::net::Address> {
    size_t operator()(const alopex::net::Address &a) const noexcept;
};
template <> struct std::hash<alopex::net::Prefix> {
    size_t operator()(const alopex::net::Prefix &p) const noexcept;
};
template <> struct std::hash<alopex::net::Mac> {
    size_t operator()(const alopex::net::Mac &m) const noexcept;
};

template <> struct fmt::formatter<alopex::net::Address> : fmt::formatter<std::string_view> {
    auto format(const alopex::net::Address &a, fmt::format_context &ctx) const
    {
        return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
    }
};
template <> struct fmt::formatter<alopex::net::Prefix> : fmt::formatter<std::string_view> {
    auto format(const alopex::net::Prefix &p, fmt::format_context &ctx) const
    {
        return fmt::formatter<std::string_view>::format(p.to_string(), ctx);
    }
};
template <> struct fmt::formatter<alopex::net::Mac> : fmt::formatter<std::string_view> {
    auto format(const alopex::net::Mac &m, fmt::format_context &ctx) const
    {
        return fmt::formatter<std::string_view>::format(m.to_string(), ctx);
    }
};
