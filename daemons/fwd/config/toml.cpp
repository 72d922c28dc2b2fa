// SPDX-License-Identifier: GPL-2.0-or-later
// firewall.toml -> Model. The schema: default_zone, [sets], [zones.NAME] with
// [[zones.NAME.rules]] and [[zones.NAME.forwards]]. Every refusal is "file:line:col: what".
#include <algorithm>
#include <cctype>
#include <mutex>
#include <optional>

#include "alopex/config.hpp"
#include "alopex/file.hpp"
#include "config.hpp"
#include "internal.hpp"

namespace alopex::fwd::config {

namespace {

using alopex::config::Array;
using alopex::config::Document;
using alopex::config::Kind;
using alopex::config::Node;
using alopex::config::Table;
using detail::Item;
using detail::Problem;
using detail::Raw;
using detail::RawRule;

#define TRY_E(var, expr)                                                                    \
    auto var##_r = (expr);                                                                  \
    if (!var##_r)                                                                           \
        return std::unexpected<Error>(std::move(var##_r.error()));                          \
    auto &var = *var##_r

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A rule or forward table as raw values; a problem is placed at its key's node again
// (locate), so nothing of the document is kept per key (10,000 rules load that much faster).
struct RawTable {
    RawRule raw;
};

Result<RawTable> raw_of(const Table &t)
{
    RawTable out;
    for (auto &&[key, node] : t.entries()) {
        Raw r;
        r.typed = true;
        auto scalar = [](const Node &n) -> std::optional<Item> {
            switch (n.kind()) {
            case Kind::string: return Item(*n.as_string());
            case Kind::integer: return Item(*n.as_integer());
            case Kind::boolean: return Item(*n.as_boolean());
            default: return std::nullopt;
            }
        };
        if (node.kind() == Kind::array) {
            r.list = true;
            auto a = *node.as_array();
            for (size_t i = 0; i < a.size(); ++i) {
                auto el = a.at(i);
                auto v = scalar(el);
                if (!v)
                    return el.failf("{}: must be a string, an integer or a boolean, not {}", el.name(),
                                    alopex::config::to_string(el.kind()));
                r.items.push_back(std::move(*v));
            }
        } else if (auto v = scalar(node)) {
            r.items.push_back(std::move(*v));
        } else {
            r.type_name = std::string(alopex::config::to_string(node.kind()));
        }
        out.raw.emplace(std::move(key), std::move(r));
    }
    return out;
}

Error locate(const Table &t, const Problem &p)
{
    auto found = p.key.empty() ? std::nullopt : t.get(p.key);
    if (!found) {
        std::string name = p.key.empty() ? t.name() : t.name() + "." + p.key;
        return t.error(fmt::format("{}: {}", name, p.what));
    }
    Node n = *found;
    if (p.index && n.kind() == Kind::array) {
        auto a = *n.as_array();
        if (*p.index < a.size())
            n = a.at(*p.index);
    }
    return n.error(fmt::format("{}: {}", n.name(), p.what));
}

Result<Verdict> policy(const Table &z, std::string_view key, Verdict dflt)
{
    TRY_E(s, z.optional_string(key));
    if (!s)
        return dflt;
    auto v = detail::verdict_from(*s);
    if (!v)
        return z.get(key)->failf("{}: '{}' is not one of accept, drop, reject", z.get(key)->name(),
                                 s->substr(0, 40));
    return *v;
}

Result<std::map<std::string, NamedSet>> parse_sets(const Table &root)
{
    std::map<std::string, NamedSet> sets;
    TRY_E(t, root.optional_table("sets"));
    if (!t)
        return sets;
    std::map<std::string, std::string> folded;
    for (auto &[name, node] : t->entries()) {
        if (auto c = detail::check_name(name); !c)
            return node.failf("set '{}': the name {}", name, c.error());
        if (name == "self")
            return node.failf("set 'self': the name is reserved (\"@self\" means the zone's own addresses)");
        if (auto [it, fresh] = folded.emplace(lower(name), name); !fresh)
            return node.failf("set '{}' differs from set '{}' only in case", name, it->second);
        TRY_E(a, node.as_array());
        NamedSet s{name, {}};
        s.cidrs.reserve(a.size());
        for (size_t i = 0; i < a.size(); ++i) {
            auto el = a.at(i);
            TRY_E(text, el.as_string());
            auto c = parse_cidr(text);
            if (!c)
                return el.failf("{}: {}", el.name(), c.error().message);
            s.cidrs.push_back(*c);
        }
        sets.emplace(name, std::move(s));
    }
    return sets;
}

Result<Zone> parse_zone(const std::string &name, const Node &node, const detail::Context &ctx,
                        std::map<std::string, std::string> &pattern_owner)
{
    TRY_E(t, node.as_table());
    ALOPEX_TRY_VOID(t.require_known_keys({"interfaces", "input", "forward", "output", "masquerade",
                                          "log_policy", "log_prefix", "log_limit", "rules", "forwards"}));
    Zone z;
    z.name = name;
    TRY_E(ifs, t.optional_array("interfaces"));
    if (ifs) {
        for (size_t i = 0; i < ifs->size(); ++i) {
            auto el = ifs->at(i);
            TRY_E(p, el.as_string());
            if (!valid_interface_pattern(p))
                return el.failf("{}: '{}' is not an interface name (1..15 bytes, no '/', ':' or spaces) "
                                "or a glob of one", el.name(), p.substr(0, 64));
            if (auto [it, fresh] = pattern_owner.emplace(p, name); !fresh)
                return el.failf("{}: '{}' is already in zone '{}'", el.name(), p, it->second);
            z.interfaces.push_back(p);
        }
    }
    TRY_E(in, policy(t, "input", Verdict::drop));
    TRY_E(fw, policy(t, "forward", Verdict::drop));
    TRY_E(out, policy(t, "output", Verdict::accept));
    z.input = in;
    z.forward = fw;
    z.output = out;
    TRY_E(masq, t.optional_boolean("masquerade"));
    z.masquerade = masq.value_or(false);
    TRY_E(lp, t.optional_boolean("log_policy"));
    z.log_policy = lp.value_or(false);
    TRY_E(prefix, t.optional_string("log_prefix"));
    if (prefix) {
        if (auto c = detail::check_log_prefix(*prefix); !c)
            return t.get("log_prefix")->failf("{}: {}", t.get("log_prefix")->name(), c.error());
        z.log_prefix = *prefix;
    }
    TRY_E(limit, t.optional_string("log_limit"));
    if (limit) {
        auto r = detail::parse_rate(*limit);
        if (!r)
            return t.get("log_limit")->failf("{}: {}", t.get("log_limit")->name(), r.error());
        z.log_limit = *r;
    }
    for (bool forwards : {false, true}) {
        auto key = forwards ? "forwards" : "rules";
        TRY_E(list, t.optional_array(key));
        if (!list)
            continue;
        for (size_t i = 0; i < list->size(); ++i) {
            TRY_E(rt, list->at(i).as_table());
            TRY_E(raw, raw_of(rt));
            if (forwards) {
                auto f = detail::build_forward(raw.raw, ctx);
                if (!f)
                    return std::unexpected(locate(rt, f.error()));
                z.forwards.push_back(std::move(*f));
            } else {
                auto r = detail::build_rule(raw.raw, ctx);
                if (!r)
                    return std::unexpected(locate(rt, r.error()));
                z.rules.push_back(std::move(*r));
            }
        }
    }
    return z;
}

Result<Model> from_document(const Document &doc)
{
    auto root = doc.root();
    ALOPEX_TRY_VOID(root.require_known_keys({"default_zone", "sets", "zones"}));
    Model m;
    TRY_E(sets, parse_sets(root));
    m.sets = std::move(sets);
    TRY_E(zones_node, root.require("zones"));
    TRY_E(zones, zones_node.as_table());
    auto entries = zones.entries();
    if (entries.empty())
        return std::unexpected<Error>(zones.error("[zones] must define at least one zone"));
    detail::Context ctx;
    ctx.sets = &m.sets;
    std::map<std::string, std::string> folded;
    for (auto &[name, node] : entries) {
        if (auto c = detail::check_name(name); !c)
            return node.failf("zone '{}': the name {}", name.substr(0, 64), c.error());
        if (auto [it, fresh] = folded.emplace(lower(name), name); !fresh)
            return node.failf("zone '{}' differs from zone '{}' only in case", name, it->second);
        ctx.zones.insert(name);
    }
    std::map<std::string, std::string> pattern_owner;
    for (auto &[name, node] : entries) {
        ctx.zone = name;
        TRY_E(z, parse_zone(name, node, ctx, pattern_owner));
        m.zone_order.push_back(name);
        m.zones.emplace(name, std::move(z));
    }
    TRY_E(dz, root.optional_string("default_zone"));
    if (dz) {
        if (!m.zones.contains(*dz))
            return root.get("default_zone")->failf("default_zone: no zone '{}'", dz->substr(0, 64));
        m.default_zone = *dz;
    }
    return m;
}

} // namespace

Result<Model> parse(std::string_view text, std::string file)
{
    std::string name = file;
    try {
        TRY_E(doc, Document::parse(text, std::move(file)));
        return from_document(doc);
    } catch (const std::exception &e) {
        return failf(EINVAL, "{}: internal error: {}", name, e.what());
    }
}

namespace {

// What alopex::config::Document::load allows too.
constexpr size_t max_file_size = size_t{16} << 20;

// The last file that loaded: parsing is a function of (name, contents) alone.
struct LoadCache {
    std::mutex lock;
    std::string file, text;
    std::optional<Model> model;
};

LoadCache &load_cache()
{
    static LoadCache c;
    return c;
}

} // namespace

Result<Model> load(const std::filesystem::path &file)
{
    auto text = read_regular_file(file, max_file_size);
    if (!text)
        return std::unexpected(text.error());
    std::string name = file.string();
    LoadCache &c = load_cache();
    try {
        std::lock_guard g(c.lock);
        if (c.model && c.file == name && c.text == *text)
            return *c.model;
        auto m = parse(*text, name);
        if (m) {
            c.model.reset();
            c.file = std::move(name);
            c.text = std::move(*text);
            c.model = *m;
        }
        return m;
    } catch (const std::exception &e) {
        std::lock_guard g(c.lock);
        c.model.reset();
        return failf(EINVAL, "{}: internal error: {}", file.string(), e.what());
    }
}

} // namespace alopex::fwd::config
