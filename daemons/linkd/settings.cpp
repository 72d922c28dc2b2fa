// SPDX-License-Identifier: GPL-2.0-or-later
// linkd.toml schema -> Settings. Every refusal is "file:line:col: message".
#include "settings.hpp"

#include <arpa/inet.h>
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
const char *unusable(const Endpoint &e)
{
    const auto &a = e.addr;
    if (e.family == AF_INET) {
        if (a[0] == 0)
            return "an unspecified (0.0.0.0/8) address";
        if (a[0] == 127)
            return "a loopback address";
        if (a[0] >= 224 && !(a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255))
            return a[0] < 240 ? "a multicast address" : "a reserved (240.0.0.0/4) address";
        if (a[0] == 255)
            return "the broadcast address";
        return nullptr;
    }
    static constexpr std::array<uint8_t, 16> zero{};
    std::array<uint8_t, 16> loop{};
    loop[15] = 1;
    if (a == zero)
        return "the unspecified address";
    if (a == loop)
        return "a loopback address";
    if (a[0] == 0xff)
        return "a multicast address";
    // IPv4-mapped: judged as the IPv4 address it maps.
    static constexpr uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(a.begin(), a.begin() + 12, mapped)) {
        Endpoint v4;
        v4.family = AF_INET;
        std::copy(a.begin() + 12, a.end(), v4.addr.begin());
        return unusable(v4);
    }
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
    char buf[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(family == AF_INET ? AF_INET : AF_INET6, addr.data(), buf, sizeof buf))
        return "?";
    return family == AF_INET ? fmt::format("{}:{}", buf, port) : fmt::format("[{}]:{}", buf, port);
}

Result<Endpoint> parse_endpoint(std::string_view text)
{
    if (text.size() > 64)
        return fail(EINVAL, "too long for an address and a port");
    if (text.find('\0') != std::string_view::npos)
        return fail(EINVAL, "contains a NUL byte");
    Endpoint e;
    std::string host;
    std::string_view port;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return fail(EINVAL, "'[' without ']': write an IPv6 endpoint as \"[2001:db8::1]:443\"");
        host = std::string(text.substr(1, close - 1));
        auto rest = text.substr(close + 1);
        if (!rest.starts_with(':'))
            return fail(EINVAL, "a port must follow ']' as \":PORT\"");
        port = rest.substr(1);
        if (host.find('%') != std::string::npos)
            return fail(EINVAL, "zone indexes (\"%\") are not supported; use a global address");
        e.family = AF_INET6;
        if (inet_pton(AF_INET6, host.c_str(), e.addr.data()) != 1)
            return failf(EINVAL, "'{}' is not an IPv6 address", host);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return fail(EINVAL, "a port is required: \"192.0.2.1:443\" or \"[2001:db8::1]:443\"");
        host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
        if (host.find(':') != std::string::npos)
            return fail(EINVAL, "write an IPv6 endpoint in brackets: \"[2001:db8::1]:443\"");
        e.family = AF_INET;
        if (inet_pton(AF_INET, host.c_str(), e.addr.data()) != 1)
            return failf(EINVAL, "'{}' is not an IPv4 address (host names are not accepted: "
                         "the probe must not depend on DNS)", host);
    }
    auto p = parse_port(port);
    if (!p)
        return std::unexpected(p.error());
    e.port = *p;
    if (const char *why = unusable(e))
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
