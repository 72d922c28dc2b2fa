// SPDX-License-Identifier: GPL-2.0-or-later
// net::Endpoint: an address and a port, its strict text form and its sockaddr.
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "alopex/net.hpp"

namespace alopex::net {

namespace {

Result<uint16_t> parse_port(std::string_view s)
{
    if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail(EINVAL, "the port must be a decimal number 1..65535");
    unsigned v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    if (v == 0 || v > 65535)
        return failf(EINVAL, "port {} is outside 1..65535", v);
    return static_cast<uint16_t>(v);
}

} // namespace

std::string Endpoint::to_string() const
{
    return address.is_v4() ? fmt::format("{}:{}", address, port) : fmt::format("[{}]:{}", address, port);
}

Result<Endpoint> parse_endpoint(std::string_view text)
{
    if (text.size() > 64)
        return fail(EINVAL, "too long for an address and a port");
    if (text.find('\0') != std::string_view::npos)
        return fail(EINVAL, "contains a NUL byte");
    Endpoint e;
    std::string_view port;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return fail(EINVAL, "'[' without ']': write an IPv6 endpoint as \"[2001:db8::1]:443\"");
        std::string_view host = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (!rest.starts_with(':'))
            return fail(EINVAL, "a port must follow ']' as \":PORT\"");
        port = rest.substr(1);
        if (host.find('%') != std::string_view::npos)
            return fail(EINVAL, "zone indexes (\"%\") are not supported; use a global address");
        ALOPEX_TRY(a, Address::parse(host, AF_INET6, ""));
        e.address = a;
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return fail(EINVAL, "a port is required: \"192.0.2.1:443\" or \"[2001:db8::1]:443\"");
        std::string_view host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return fail(EINVAL, "write an IPv6 endpoint in brackets: \"[2001:db8::1]:443\"");
        auto a = Address::parse(host, AF_INET, "");
        if (!a)
            return failf(EINVAL, "{} (host names are not accepted)", a.error().message);
        e.address = *a;
    }
    ALOPEX_TRY(p, parse_port(port));
    e.port = p;
    return e;
}

socklen_t to_sockaddr(const Endpoint &e, sockaddr_storage &ss)
{
    std::memset(&ss, 0, sizeof ss);
    if (e.address.is_v4()) {
        auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(e.port);
        std::memcpy(&sin->sin_addr, e.address.data(), 4);
        return sizeof *sin;
    }
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(e.port);
    std::memcpy(&sin6->sin6_addr, e.address.data(), 16);
    return sizeof *sin6;
}

} // namespace alopex::net
