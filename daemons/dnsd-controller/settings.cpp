// SPDX-License-Identifier: GPL-2.0-or-later
#include "settings.hpp"


#include "alopex/config.hpp"
#include "blocklist/parse.hpp"

namespace alopex::dns {

using config::Node;
using config::Table;

namespace {

constexpr size_t max_upstreams = 16, max_files = 256, max_allow = 100'000, max_listen = 16;

// An integer key within [lo, hi] (Table::integer_in); `into` unchanged when it is missing.
template <typename T> Result<void> bounded(const Table &t, std::string_view key, int64_t lo, int64_t hi, T &into)
{
    ALOPEX_TRY(v, t.integer_in(key, int64_t(into), lo, hi));
    into = static_cast<T>(v);
    return {};
}

Result<void> parse_unbound(const Table &root, Settings &s)
{
    ALOPEX_TRY(u, root.optional_table("unbound"));
    if (!u)
        return {};
    ALOPEX_TRY_VOID(u->require_known_keys({"control_socket", "listen", "cache_min_ttl", "cache_max_ttl",
                                           "serve_expired"}));
    ALOPEX_TRY(sock, u->optional_string("control_socket"));
    if (sock) {
        if (!sock->starts_with('/') || sock->size() > 107 || sock->find('\0') != std::string::npos)
            return u->get("control_socket")->failf("'control_socket' must be an absolute path of at most 107 bytes");
        s.control_socket = *sock;
    }
    ALOPEX_TRY(listen, u->optional_array("listen"));
    if (listen && listen->size() > max_listen)
        return u->get("listen")->failf("'listen' holds at most {} addresses", max_listen);
    for (size_t i = 0; listen && i < listen->size(); ++i) {
        ALOPEX_TRY(text, listen->at(i).as_string());
        auto a = net::Address::parse(text, "listen");
        if (!a)
            return listen->at(i).failf("{}", a.error().message);
        s.listen.push_back(*a);
    }
    ALOPEX_TRY_VOID(bounded(*u, "cache_min_ttl", 0, 86400, s.cache_min_ttl));
    ALOPEX_TRY_VOID(bounded(*u, "cache_max_ttl", 1, 604800, s.cache_max_ttl));
    if (s.cache_max_ttl < s.cache_min_ttl)
        return u->get("cache_max_ttl") ? u->get("cache_max_ttl")->failf("'cache_max_ttl' is below 'cache_min_ttl'")
                                       : u->get("cache_min_ttl")->failf("'cache_min_ttl' is above 'cache_max_ttl'");
    ALOPEX_TRY(expired, u->optional_boolean("serve_expired"));
    s.serve_expired = expired.value_or(true);
    return {};
}

Result<void> parse_upstreams(const Table &root, Settings &s)
{
    ALOPEX_TRY(list, root.optional_array("upstream"));
    if (!list)
        return {};
    if (list->size() > max_upstreams)
        return root.get("upstream")->failf("at most {} [[upstream]]s, not {}", max_upstreams, list->size());
    for (size_t i = 0; i < list->size(); ++i) {
        ALOPEX_TRY(t, list->at(i).as_table());
        ALOPEX_TRY_VOID(t.require_known_keys({"address", "port", "tls_name"}));
        ALOPEX_TRY(text, t.required_string("address"));
        auto a = net::Address::parse(text, "address");
        if (!a)
            return t.get("address")->failf("{}", a.error().message);
        Upstream up{*a, 53, {}};
        ALOPEX_TRY(name, t.optional_string("tls_name"));
        if (name) {
            if (!net::valid_domain(*name))
                return t.get("tls_name")->failf("'tls_name' must be a host name, not {}", net::quoted(*name));
            up.tls_name = *name;
            up.port = 853;
        }
        ALOPEX_TRY_VOID(bounded(t, "port", 1, 65535, up.port));
        for (const auto &other : s.upstreams)
            if (other.address == up.address && other.port == up.port)
                return list->at(i).failf("upstream {} is given twice", up.forward_addr());
        s.upstreams.push_back(std::move(up));
    }
    return {};
}

Result<void> parse_health(const Table &root, Settings &s)
{
    ALOPEX_TRY(h, root.optional_table("health"));
    if (!h)
        return {};
    ALOPEX_TRY_VOID(h->require_known_keys({"interval_s", "timeout_ms", "failures"}));
    ALOPEX_TRY_VOID(bounded(*h, "interval_s", 1, 3600, s.health_interval_s));
    ALOPEX_TRY_VOID(bounded(*h, "timeout_ms", 100, 30000, s.health_timeout_ms));
    return bounded(*h, "failures", 1, 100, s.health_failures);
}

Result<void> parse_blocklist(const Table &root, Settings &s)
{
    ALOPEX_TRY(b, root.optional_table("blocklist"));
    if (!b)
        return {};
    ALOPEX_TRY_VOID(b->require_known_keys({"files", "allow", "chunk_ms"}));
    ALOPEX_TRY(files, b->optional_array("files"));
    if (files && files->size() > max_files)
        return b->get("files")->failf("'files' holds at most {} paths", max_files);
    for (size_t i = 0; files && i < files->size(); ++i) {
        ALOPEX_TRY(p, files->at(i).as_string());
        if (!p.starts_with('/') || p.find('\0') != std::string::npos)
            return files->at(i).failf("'files' takes absolute paths, not {}", net::quoted(p));
        s.blocklist_files.emplace_back(p);
    }
    ALOPEX_TRY(allow, b->optional_array("allow"));
    if (allow && allow->size() > max_allow)
        return b->get("allow")->failf("'allow' holds at most {} names", max_allow);
    for (size_t i = 0; allow && i < allow->size(); ++i) {
        ALOPEX_TRY(text, allow->at(i).as_string());
        auto name = blocklist_name(text);
        if (!name)
            return allow->at(i).failf("'allow': {}", name.error().message);
        s.allow.push_back(std::move(*name));
    }
    return bounded(*b, "chunk_ms", 5, 200, s.chunk_ms);
}

Result<Settings> from_document(const config::Document &doc)
{
    Table root = doc.root();
    ALOPEX_TRY_VOID(root.require_known_keys({"unbound", "upstream", "health", "blocklist"}));
    Settings s;
    ALOPEX_TRY_VOID(parse_unbound(root, s));
    ALOPEX_TRY_VOID(parse_upstreams(root, s));
    ALOPEX_TRY_VOID(parse_health(root, s));
    ALOPEX_TRY_VOID(parse_blocklist(root, s));
    return s;
}

} // namespace

std::string Upstream::forward_addr() const
{
    std::string out = address.to_string() + "@" + std::to_string(port);
    if (!tls_name.empty())
        out += "#" + tls_name;
    return out;
}

Result<Settings> parse_settings(std::string_view text, std::string file)
{
    return config::parse_with<Settings>(text, std::move(file), from_document);
}

Result<Settings> load_settings(const std::filesystem::path &path)
{
    return config::load_or_defaults<Settings>(path, from_document);
}

} // namespace alopex::dns
