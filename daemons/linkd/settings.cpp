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

Result<Endpoint> parse_endpoint(std::string_view text)
{
    ALOPEX_TRY(e, net::parse_endpoint(text));
    if (const char *why = unusable(e.address))
        return failf(EINVAL, "{} is {}, which says nothing about the network", e.address, why);
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
    return config::parse_with<Settings>(text, std::move(file), from_document);
}

// No file: every default, probing off.
Result<Settings> load_settings(const std::filesystem::path &p)
{
    return config::load_or_defaults<Settings>(p, from_document);
}

} // namespace alopex::linkd
