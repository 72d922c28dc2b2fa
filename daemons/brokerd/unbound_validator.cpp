// SPDX-License-Identifier: GPL-2.0-or-later
#include "unbound_validator.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>

#include "alopex/net.hpp"

namespace alopex::broker {

namespace {

enum class Kind { yes_no, number, address, access, cert_bundle, local_zone, zone_name, forward_addr, run_path };

struct Option {
    std::string_view clause, key;
    Kind kind;
};

constexpr std::array<Option, 24> options{{
    {"server", "interface", Kind::address},
    {"server", "access-control", Kind::access},
    {"server", "cache-min-ttl", Kind::number},
    {"server", "cache-max-ttl", Kind::number},
    {"server", "serve-expired", Kind::yes_no},
    {"server", "serve-expired-ttl", Kind::number},
    {"server", "serve-expired-client-timeout", Kind::number},
    {"server", "prefetch", Kind::yes_no},
    {"server", "extended-statistics", Kind::yes_no},
    {"server", "statistics-cumulative", Kind::yes_no},
    {"server", "tls-upstream", Kind::yes_no},
    {"server", "tls-cert-bundle", Kind::cert_bundle},
    {"server", "local-zone", Kind::local_zone},
    {"forward-zone", "name", Kind::zone_name},
    {"forward-zone", "forward-addr", Kind::forward_addr},
    {"forward-zone", "forward-tls-upstream", Kind::yes_no},
    {"forward-zone", "forward-first", Kind::yes_no},
    {"dnstap", "dnstap-enable", Kind::yes_no},
    {"dnstap", "dnstap-bidirectional", Kind::yes_no},
    {"dnstap", "dnstap-send-identity", Kind::yes_no},
    {"dnstap", "dnstap-send-version", Kind::yes_no},
    {"dnstap", "dnstap-log-client-query-messages", Kind::yes_no},
    {"dnstap", "dnstap-log-client-response-messages", Kind::yes_no},
    {"dnstap", "dnstap-socket-path", Kind::run_path},
}};

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::string_view unquoted(std::string_view v)
{
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
        return v.substr(1, v.size() - 2);
    return v;
}

bool number(std::string_view v)
{
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    return ec == std::errc() && end == v.data() + v.size();
}

bool zone_name(std::string_view v)
{
    return v == "." || net::valid_domain(v);
}

// address[@port][#name]
bool forward_addr(std::string_view v)
{
    std::string_view name, port;
    if (size_t hash = v.find('#'); hash != std::string_view::npos) {
        name = v.substr(hash + 1);
        v = v.substr(0, hash);
        if (!net::valid_domain(name))
            return false;
    }
    if (size_t at = v.find('@'); at != std::string_view::npos) {
        port = v.substr(at + 1);
        v = v.substr(0, at);
        uint32_t p = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535)
            return false;
    }
    return net::Address::parse(v).has_value();
}

Result<void> value_ok(Kind kind, std::string_view key, std::string_view raw)
{
    std::string_view v = unquoted(raw);
    bool ok = false;
    switch (kind) {
    case Kind::yes_no:
        ok = v == "yes" || v == "no";
        break;
    case Kind::number:
        ok = number(v);
        break;
    case Kind::address:
        ok = net::Address::parse(v).has_value();
        break;
    case Kind::access: {
        size_t sp = v.find_first_of(" \t");
        std::string_view net = v.substr(0, sp), action = sp == std::string_view::npos ? "" : trim(v.substr(sp));
        ok = net::Prefix::parse_network(net, "network").has_value() &&
             (action == "allow" || action == "refuse" || action == "deny" || action == "allow_snoop");
        break;
    }
    case Kind::cert_bundle:
        ok = v == "/etc/ssl/certs/ca-certificates.crt";
        break;
    case Kind::local_zone: {
        // "name." type — the name in quotes as unbound writes it, or bare.
        size_t sp = raw.find_first_of(" \t");
        if (sp == std::string_view::npos)
            break;
        std::string_view name = unquoted(raw.substr(0, sp)), type = trim(raw.substr(sp));
        ok = zone_name(name) && name != "." &&
             (type == "always_nxdomain" || type == "always_refuse" || type == "transparent" || type == "static");
        break;
    }
    case Kind::zone_name:
        ok = zone_name(v);
        break;
    case Kind::forward_addr:
        ok = forward_addr(v);
        break;
    case Kind::run_path:
        ok = v.starts_with("/run/alopex/") && v.find("/../") == std::string_view::npos && !v.ends_with("/..") &&
             std::all_of(v.begin(), v.end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                        c == '.' || c == '_' || c == '-';
             });
        break;
    }
    if (!ok)
        return failf(EINVAL, "'{}' does not take {}", key, net::quoted(raw));
    return {};
}

} // namespace

Result<void> unbound_line(std::string_view line, std::string &clause)
{
    if (std::any_of(line.begin(), line.end(), [](char c) {
            return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f || c == '\\';
        }))
        return failf(EINVAL, "a control character or a backslash");
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#')
        return {};
    size_t colon = t.find(':');
    if (colon == std::string_view::npos)
        return failf(EINVAL, "not 'key: value': {}", net::quoted(t));
    std::string_view key = t.substr(0, colon), value = trim(t.substr(colon + 1));
    if (value.empty() && line.front() != ' ' && line.front() != '\t') {
        if (key != "server" && key != "forward-zone" && key != "dnstap")
            return failf(EINVAL, "the clause {} is not one dnsd-controller writes", net::quoted(key));
        clause = key;
        return {};
    }
    if (clause.empty())
        return failf(EINVAL, "{} before any clause", net::quoted(key));
    auto it = std::find_if(options.begin(), options.end(),
                           [&](const Option &o) { return o.clause == clause && o.key == key; });
    if (it == options.end())
        return failf(EINVAL, "{} is not an option dnsd-controller may set in {}:", net::quoted(key), clause);
    if (size_t hash = value.find(" #"); hash != std::string_view::npos)
        value = trim(value.substr(0, hash));
    return value_ok(it->kind, key, value);
}

} // namespace alopex::broker
