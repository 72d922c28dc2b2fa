// SPDX-License-Identifier: GPL-2.0-or-later
// linkd.toml schema -> Settings. Every refusal is "file:line:col: message".
#include "settings.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "alopex/config.hpp"

namespace alopex::linkd {

namespace {

using config::Node;
using config::Table;

Result<uint16_t> parse_port(std::string_view s)
{
    if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) {
            return c >= '0' && c <= '9';
        }))
        return fail(EINVAL, "the port must be a decimal number 1..65535");
    unsigned v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    if (v == 0 || v > 65535)
        return failf(EINVAL, "port {} is outside 1..65535", v);
    return static_cast<uint16_t>(v);
}

// Addresses a probe must not go to: they test nothing beyond this host.
const char *unusable(const net::Address &a)
{
    auto b = a.bytes();
    if (a.is_v4()) {
        if (b[0] == 0)
            return "an unspecified (0.0.0.0/8) address";
        if (a.is_loopback())
            return "a loopback address";
        if (a.is_broadcast())
            return "the broadcast address";
        if (a.is_multicast())
            return "a multicast address";
        if (b[0] >= 240)
            return "a reserved (240.0.0.0/4) address";
        return nullptr;
    }
    if (a.is_unspecified())
        return "the unspecified address";
    if (a.is_loopback())
        return "a loopback address";
    if (a.is_multicast())
        return "a multicast address";
    // IPv4-mapped: judged as the IPv4 address it maps.
    if (a.is_v4_mapped())
        return unusable(net::Address::from_bytes(AF_INET, b.subspan(12)).value());
    return nullptr;
}

Result<std::chrono::seconds> seconds_in(const Table &t, std::string_view key,
                                        std::chrono::seconds dflt, std::chrono::seconds lo,
                                        std::chrono::seconds hi)
{
    ALOPEX_TRY(v, t.optional_integer(key));
    if (!v)
        return dflt;
    if (*v < lo.count() || *v > hi.count())
        return t.get(key)->failf("'{}' must be {}..{} seconds, not {}", key, lo.count(),
                                 hi.count(), *v);
    return std::chrono::seconds(*v);
}

Result<void> parse_connectivity(const Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("connectivity"));
    if (!t)
        return {};
    ALOPEX_TRY_VOID(t->require_known_keys({"probe", "interval", "timeout"}));
    ALOPEX_TRY(probe, t->optional_string("probe"));
    if (probe && !probe->empty()) {
        auto e = parse_endpoint(*probe);
        if (!e)
            return t->get("probe")->failf("'probe': {}", e.error().message);
        s.probe = *e;
    }
    ALOPEX_TRY(interval, seconds_in(*t, "interval", default_probe_interval, min_probe_interval,
                             max_probe_interval));
    ALOPEX_TRY(timeout, seconds_in(*t, "timeout", default_probe_timeout, min_probe_timeout,
                            max_probe_timeout));
    s.interval = interval;
    s.timeout = timeout;
    return {};
}

Result<void> parse_netlink(const Table &root, Settings &s)
{
    ALOPEX_TRY(t, root.optional_table("netlink"));
    if (!t)
        return {};
    ALOPEX_TRY_VOID(t->require_known_keys({"receive_buffer"}));
    ALOPEX_TRY(v, t->optional_integer("receive_buffer"));
    if (!v)
        return {};
    if (*v < min_receive_buffer || *v > max_receive_buffer)
        return t->get("receive_buffer")
            ->failf("'receive_buffer' must be {}..{} bytes, not {}", min_receive_buffer,
                    max_receive_buffer, *v);
    s.receive_buffer = static_cast<int>(*v);
    return {};
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
    std::string_view host, port;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return fail(EINVAL, "'[' without ']': write an IPv6 endpoint as \"[2001:db8::1]:443\"");
        host = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (!rest.starts_with(':'))
            return fail(EINVAL, "a port must follow ']' as \":PORT\"");
        port = rest.substr(1);
        if (host.find('%') != std::string_view::npos)
            return fail(EINVAL, "zone indexes (\"%\") are not supported; use a global address");
        ALOPEX_TRY(a, net::Address::parse(host, AF_INET6, ""));
        e.address = a;
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return fail(EINVAL, "a port is required: \"192.0.2.1:443\" or \"[2001:db8::1]:443\"");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return fail(EINVAL, "write an IPv6 endpoint in brackets: \"[2001:db8::1]:443\"");
        auto a = net::Address::parse(host, AF_INET, "");
        if (!a)
            return failf(EINVAL, "{} (host names are not accepted: the probe must not depend on DNS)",
                         a.error().message);
        e.address = *a;
    }
    auto p = parse_port(port);
    if (!p)
        return std::unexpected(p.error());
    e.port = *p;
    if (const char *why = unusable(e.address))
        return failf(EINVAL, "{} is {}, which says nothing about the network", host, why);
    return e;
}

namespace {

Result<Settings> from_document(const config::Document &doc)
{
    Table root = doc.root();
    ALOPEX_TRY_VOID(root.require_known_keys({"connectivity", "netlink"}));
    Settings s;
    s.source = doc.file();
    ALOPEX_TRY_VOID(parse_connectivity(root, s));
    ALOPEX_TRY_VOID(parse_netlink(root, s));
    return s;
}

} // namespace

Result<Settings> parse_settings(std::string_view text, std::string file)
{
    auto doc = config::Document::parse(text, std::move(file));
    if (!doc)
        return std::unexpected(doc.error());
    return from_document(*doc);
}

Result<Settings> load_settings(const std::filesystem::path &p)
{
    auto doc = config::Document::load(p);
    if (!doc) {
        if (doc.error().code == ENOENT)
            return Settings{};   // no file: every default, probing off
        return std::unexpected(doc.error());
    }
    return from_document(*doc);
}

} // namespace alopex::linkd
