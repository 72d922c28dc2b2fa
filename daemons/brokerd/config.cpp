// SPDX-License-Identifier: GPL-2.0-or-later
// broker.toml schema -> Config. Every refusal is "file:line:col: message".
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "alopex/config.hpp"
#include "config.hpp"

namespace alopex::broker {

namespace {

using config::Array;
using config::Node;
using config::Table;


bool all_digits(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<uid_t> parse_caller(const Node &n, const UserResolver &users)
{
    constexpr int64_t max_uid = 0xfffffffeLL; // (uid_t)-1 is never a user
    if (n.kind() == config::Kind::integer) {
        ALOPEX_TRY(v, n.as_integer());
        if (v < 0 || v > max_uid)
            return n.failf("uid {} is out of range", v);
        return static_cast<uid_t>(v);
    }
    if (n.kind() != config::Kind::string)
        return n.failf("'{}' must be a user name or a uid, not {}", n.name(),
                       config::to_string(n.kind()));
    ALOPEX_TRY(s, n.as_string());
    if (all_digits(s)) {
        int64_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || p != s.data() + s.size() || v > max_uid)
            return n.failf("uid '{}' is out of range", s);
        return static_cast<uid_t>(v);
    }
    if (s.empty() || s.size() > 256)
        return n.failf("'{}' is not a valid user name", s);
    auto uid = users(s);
    if (!uid)
        return n.failf("unknown user '{}'", s);
    return *uid;
}

Result<std::vector<uid_t>> parse_callers(const Table &t, const UserResolver &users)
{
    ALOPEX_TRY(node, t.require("callers"));
    ALOPEX_TRY(arr, node.as_array());
    std::vector<uid_t> out;
    for (size_t i = 0; i < arr.size(); ++i) {
        ALOPEX_TRY(uid, parse_caller(arr.at(i), users));
        if (std::find(out.begin(), out.end(), uid) == out.end())
            out.push_back(uid);
    }
    return out;
}

Result<std::filesystem::path> parse_abs_path(const Table &t, std::string_view key, bool required)
{
    auto node = t.get(key);
    if (!node) {
        if (required)
            return std::unexpected<Error>(t.require(key).error());
        return std::filesystem::path();
    }
    ALOPEX_TRY(s, node->as_string());
    std::filesystem::path p(s);
    if (s.empty() || s.front() != '/' || s.find('\0') != std::string::npos)
        return node->failf("'{}' must be an absolute path", node->name());
    if (s.size() > 4095)
        return node->failf("'{}' is too long", node->name());
    if (p.lexically_normal().string() != s || s.back() == '/')
        return node->failf("'{}' must be a normalized path without '.', '..', '//' or a "
                           "trailing '/'", node->name());
    return p;
}

Result<std::string> parse_id(const Table &t)
{
    ALOPEX_TRY(node, t.require("id"));
    ALOPEX_TRY(id, node.as_string());
    if (!valid_name(id))
        return node.failf("'id' must be 1..64 characters of [A-Za-z0-9._:@-]");
    return id;
}

Result<mode_t> parse_mode(const Node &n)
{
    int64_t v = 0;
    if (n.kind() == config::Kind::integer) {
        ALOPEX_TRY(i, n.as_integer());
        v = i;
    } else if (n.kind() == config::Kind::string) {
        ALOPEX_TRY(s, n.as_string());
        bool octal = !s.empty() && s.size() <= 5 &&
                     std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '7'; });
        if (!octal)
            return n.failf("'mode' must be an octal string like \"0644\"");
        v = std::stoll(s, nullptr, 8);
    } else {
        return n.failf("'mode' must be an octal string like \"0644\", not {}",
                       config::to_string(n.kind()));
    }
    if (v < 0 || v > 07777)
        return n.failf("'mode' must be between 0 and 07777");
    return static_cast<mode_t>(v);
}

Result<std::vector<Table>> tables_of(const Table &root, std::string_view key)
{
    std::vector<Table> out;
    ALOPEX_TRY(arr, root.optional_array(key));
    if (!arr)
        return out;
    for (size_t i = 0; i < arr->size(); ++i) {
        ALOPEX_TRY(t, arr->at(i).as_table());
        out.push_back(std::move(t));
    }
    return out;
}

Result<void> parse_devices(const Table &root, Config &c, const UserResolver &users)
{
    ALOPEX_TRY(tables, tables_of(root, "device"));
    for (const auto &t : tables) {
        ALOPEX_TRY_VOID(t.require_known_keys({"glob", "callers"}));
        ALOPEX_TRY(node, t.require("glob"));
        ALOPEX_TRY(glob, node.as_string());
        if (!glob.starts_with('/'))
            return node.failf("'glob' must be an absolute path pattern");
        if (glob.find("/../") != std::string::npos || glob.find("/./") != std::string::npos ||
            glob.find("//") != std::string::npos || glob.ends_with("/..") || glob.ends_with("/."))
            return node.failf("'glob' must not contain '.', '..' or '//' components");
        ALOPEX_TRY(callers, parse_callers(t, users));
        c.devices.push_back(DeviceRule{std::move(glob), std::move(callers)});
    }
    return {};
}

Result<void> parse_files(const Table &root, Config &c, const UserResolver &users)
{
    ALOPEX_TRY(tables, tables_of(root, "file"));
    for (const auto &t : tables) {
        ALOPEX_TRY_VOID(t.require_known_keys({"id", "path", "callers", "mode", "validator"}));
        ALOPEX_TRY(id, parse_id(t));
        if (std::any_of(c.files.begin(), c.files.end(), [&](auto &f) { return f.id == id; }))
            return std::unexpected<Error>(t.require("id")->error(
                fmt::format("duplicate file id '{}'", id)));
        ALOPEX_TRY(path, parse_abs_path(t, "path", true));
        ALOPEX_TRY(callers, parse_callers(t, users));
        FileRule f{std::move(id), std::move(path), std::move(callers), 0644, std::nullopt};
        if (auto v = t.get("validator")) {
            ALOPEX_TRY(name, v->as_string());
            auto val = validator_from_string(name);
            if (!val)
                return v->failf("unknown validator '{}' (known: interfaces, unbound)", name);
            f.validator = *val;
        }
        if (auto m = t.get("mode")) {
            ALOPEX_TRY(mode, parse_mode(*m));
            f.mode = mode;
        }
        c.files.push_back(std::move(f));
    }
    return {};
}

Result<void> parse_blocks(const Table &root, Config &c, const UserResolver &users)
{
    ALOPEX_TRY(tables, tables_of(root, "block"));
    for (const auto &t : tables) {
        ALOPEX_TRY_VOID(t.require_known_keys({"id", "path", "callers", "tag", "validator"}));
        ALOPEX_TRY(id, parse_id(t));
        if (std::any_of(c.blocks.begin(), c.blocks.end(), [&](auto &b) { return b.id == id; }))
            return std::unexpected<Error>(t.require("id")->error(
                fmt::format("duplicate block id '{}'", id)));
        ALOPEX_TRY(path, parse_abs_path(t, "path", true));
        ALOPEX_TRY(tag_node, t.require("tag"));
        ALOPEX_TRY(tag, tag_node.as_string());
        if (!valid_name(tag))
            return tag_node.failf("'tag' must be 1..64 characters of [A-Za-z0-9._:@-]");
        if (std::any_of(c.blocks.begin(), c.blocks.end(),
                        [&](auto &b) { return b.path == path && b.tag == tag; }))
            return tag_node.failf("block tag '{}' in {} is already another block's", tag,
                                  path.string());
        ALOPEX_TRY(val_node, t.require("validator"));
        ALOPEX_TRY(val, val_node.as_string());
        auto validator = validator_from_string(val);
        if (!validator)
            return val_node.failf("unknown validator '{}' (known: interfaces, unbound)", val);
        ALOPEX_TRY(callers, parse_callers(t, users));
        c.blocks.push_back(BlockRule{std::move(id), std::move(path), std::move(callers),
                                     std::move(tag), *validator});
    }
    return {};
}

Result<uint32_t> parse_limit(const Table &limits, std::string_view key, uint32_t def)
{
    auto n = limits.get(key);
    if (!n)
        return def;
    ALOPEX_TRY(v, n->as_integer());
    if (v < 1 || v > max_record_limit)
        return n->failf("'limits.{}' must be between 1 and {}", key, max_record_limit);
    return static_cast<uint32_t>(v);
}

Result<void> parse_root(const Table &root, Config &c, const UserResolver &users)
{
    ALOPEX_TRY_VOID(root.require_known_keys(
        {"ledger", "limits", "device", "file", "block", "ovsdb", "record"}));
    ALOPEX_TRY(ledger, root.optional_table("ledger"));
    if (ledger) {
        ALOPEX_TRY_VOID(ledger->require_known_keys({"path"}));
        ALOPEX_TRY(p, parse_abs_path(*ledger, "path", false));
        if (!p.empty())
            c.ledger_path = std::move(p);
    }
    ALOPEX_TRY(limits, root.optional_table("limits"));
    if (limits) {
        ALOPEX_TRY_VOID(
            limits->require_known_keys({"max_contents", "record_rate", "record_burst"}));
        if (auto n = limits->get("max_contents")) {
            ALOPEX_TRY(v, n->as_integer());
            if (v < 1 || static_cast<uint64_t>(v) > max_max_contents)
                return n->failf("'limits.max_contents' must be between 1 and {} bytes",
                                max_max_contents);
            c.max_contents = static_cast<uint64_t>(v);
        }
        ALOPEX_TRY(rate, parse_limit(*limits, "record_rate", default_record_rate));
        ALOPEX_TRY(burst, parse_limit(*limits, "record_burst", default_record_burst));
        c.record_rate = rate;
        c.record_burst = burst;
    }
    ALOPEX_TRY_VOID(parse_devices(root, c, users));
    ALOPEX_TRY_VOID(parse_files(root, c, users));
    ALOPEX_TRY_VOID(parse_blocks(root, c, users));
    ALOPEX_TRY(ovsdb, root.optional_table("ovsdb"));
    if (ovsdb) {
        ALOPEX_TRY_VOID(ovsdb->require_known_keys({"socket", "callers"}));
        OvsdbRule o;
        ALOPEX_TRY(sock, parse_abs_path(*ovsdb, "socket", false));
        if (!sock.empty())
            o.socket = std::move(sock);
        if (o.socket.string().size() >= 108)
            return std::unexpected<Error>(
                ovsdb->require("socket")->error("'ovsdb.socket' is too long for a unix socket"));
        ALOPEX_TRY(callers, parse_callers(*ovsdb, users));
        o.callers = std::move(callers);
        c.ovsdb = std::move(o);
    }
    ALOPEX_TRY(record, root.optional_table("record"));
    if (record) {
        ALOPEX_TRY_VOID(record->require_known_keys({"callers"}));
        ALOPEX_TRY(callers, parse_callers(*record, users));
        c.record_callers = std::move(callers);
    }
    return {};
}

} // namespace

bool valid_name(std::string_view s)
{
    if (s.empty() || s.size() > 64)
        return false;
    for (char ch : s) {
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == '.' || ch == '_' || ch == ':' || ch == '@' || ch == '-';
        if (!ok)
            return false;
    }
    return true;
}

std::optional<uid_t> resolve_user_nss(const std::string &name)
{
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 4096);
    for (;;) {
        struct passwd pw{};
        struct passwd *res = nullptr;
        int r = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &res);
        if (r == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (r != 0 || !res)
            return std::nullopt;
        return res->pw_uid;
    }
}

Result<Config> parse_config(std::string_view text, std::string file, const UserResolver &users)
{
    auto doc = config::Document::parse(text, std::move(file));
    if (!doc)
        return std::unexpected<Error>(std::move(doc.error()));
    Config c;
    c.source = doc->file();
    if (auto r = parse_root(doc->root(), c, users); !r)
        return std::unexpected<Error>(std::move(r.error()));
    return c;
}

Result<Config> load_config(const std::filesystem::path &p)
{
    auto doc = config::Document::load(p);
    if (!doc)
        return std::unexpected<Error>(std::move(doc.error()));
    Config c;
    c.source = doc->file();
    if (auto r = parse_root(doc->root(), c, resolve_user_nss); !r)
        return std::unexpected<Error>(std::move(r.error()));
    return c;
}

} // namespace alopex::broker
