// SPDX-License-Identifier: GPL-2.0-or-later
// runtime.json and runtime.journal: strict parse with bounded numbers, canonical format,
// applying a change, recovery from damage (fail closed), expiry helpers. The files
// themselves are libcommon's store (alopex/store.hpp).
#include "runtime.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace alopex::fwd::runtime {

namespace {

using nlohmann::json;

bool valid_zone_name(std::string_view z)
{
    if (z.empty() || z.size() > 20)
        return false;
    return std::all_of(z.begin(), z.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

bool has_control(std::string_view s)
{
    return std::any_of(s.begin(), s.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c < 0x20 || c == 0x7f;
    });
}

struct Bad {
    std::string_view file;
    template <typename... A> std::unexpected<Error> operator()(fmt::format_string<A...> f, A &&...a) const
    {
        return std::unexpected<Error>(Error{EINVAL, fmt::format("{}: {}", file,
                                                                fmt::format(f, std::forward<A>(a)...)), {}});
    }
};

// An unsigned integer in [lo, hi] (a negative, fractional or overflowing number, or one
// out of range, is not).
std::optional<uint64_t> bounded(const json &j, uint64_t lo, uint64_t hi)
{
    if (!j.is_number_unsigned())
        return std::nullopt;
    const auto v = j.get<uint64_t>();
    if (v < lo || v > hi)
        return std::nullopt;
    return v;
}

Result<> only_keys(const json &obj, std::initializer_list<std::string_view> keys, std::string_view where,
                   const Bad &bad)
{
    for (const auto &[k, _] : obj.items())
        if (std::find(keys.begin(), keys.end(), k) == keys.end())
            return bad("{}: unknown key '{}'", where, k);
    return {};
}

Result<StoredRule> parse_rule(const json &j, std::string_view where, const Bad &bad)
{
    if (!j.is_object())
        return bad("{}: not an object", where);
    ALOPEX_TRY_VOID(only_keys(j, {"id", "zone", "spec", "expires_at_us", "comment"}, where, bad));
    StoredRule r;
    auto id = j.find("id");
    auto idv = id == j.end() ? std::nullopt : bounded(*id, 1, max_id);
    if (!idv)
        return bad("{}: 'id' must be an integer in 1..{}", where, max_id);
    r.id = *idv;
    auto zone = j.find("zone");
    if (zone == j.end() || !zone->is_string() || !valid_zone_name(zone->get_ref<const std::string &>()))
        return bad("{}: 'zone' must be a zone name", where);
    r.zone = zone->get<std::string>();
    auto spec = j.find("spec");
    if (spec == j.end() || !spec->is_string() || spec->get_ref<const std::string &>().empty() ||
        spec->get_ref<const std::string &>().size() > max_spec ||
        has_control(spec->get_ref<const std::string &>()))
        return bad("{}: 'spec' must be a non-empty string of at most {} bytes", where, max_spec);
    r.spec = spec->get<std::string>();
    if (auto e = j.find("expires_at_us"); e != j.end()) {
        auto v = bounded(*e, 0, max_time_us);
        if (!v)
            return bad("{}: 'expires_at_us' must be an integer in 0..{}", where, max_time_us);
        r.expires_at_us = *v;
    }
    if (auto c = j.find("comment"); c != j.end()) {
        if (!c->is_string())
            return bad("{}: 'comment' must be a string", where);
        r.comment = c->get<std::string>();
        if (auto ok = check_comment(r.comment); !ok)
            return bad("{}: {}", where, ok.error().message);
    }
    return r;
}

} // namespace

Result<> check_comment(std::string_view c)
{
    if (c.size() > max_comment)
        return bus_fail(bus_error::InvalidArgument, "comment: {} bytes, at most {}", c.size(),
                        max_comment);
    if (has_control(c))
        return bus_fail(bus_error::InvalidArgument, "comment: contains control characters");
    return {};
}

Result<State> parse(std::string_view text, std::string_view file)
{
    Bad bad{file};
    if (text.size() > max_file_size)
        return bad("larger than {} bytes", max_file_size);
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded())
        return bad("not valid JSON");
    if (!j.is_object())
        return bad("not a JSON object");
    ALOPEX_TRY_VOID(only_keys(j, {"version", "next_id", "panic", "interfaces", "rules", "seq"}, "top level",
                              bad));
    auto version = j.find("version");
    if (version == j.end() || !version->is_number_unsigned() || version->get<uint64_t>() != 1)
        return bad("'version' must be 1");
    State s;
    auto next = j.find("next_id");
    auto nextv = next == j.end() ? std::nullopt : bounded(*next, 1, max_id + 1);
    if (!nextv)
        return bad("'next_id' must be an integer in 1..{}", max_id + 1);
    s.next_id = *nextv;
    if (auto q = j.find("seq"); q != j.end()) {
        auto v = bounded(*q, 0, store::max_seq);
        if (!v)
            return bad("'seq' must be an integer in 0..{}", store::max_seq);
        s.seq = *v;
    }
    if (auto p = j.find("panic"); p != j.end()) {
        if (!p->is_boolean())
            return bad("'panic' must be true or false");
        s.panic = p->get<bool>();
    }
    if (auto ifs = j.find("interfaces"); ifs != j.end()) {
        if (!ifs->is_object())
            return bad("'interfaces' must be an object of interface -> zone");
        if (ifs->size() > max_interfaces)
            return bad("'interfaces': more than {} entries", max_interfaces);
        for (const auto &[name, zone] : ifs->items()) {
            if (!valid_ifname(name))
                return bad("'interfaces': '{}' is not an interface name", name);
            if (!zone.is_string() || !valid_zone_name(zone.get_ref<const std::string &>()))
                return bad("'interfaces': the zone of '{}' must be a zone name", name);
            s.interfaces.emplace(name, zone.get<std::string>());
        }
    }
    if (auto rules = j.find("rules"); rules != j.end()) {
        if (!rules->is_array())
            return bad("'rules' must be an array");
        if (rules->size() > max_rules)
            return bad("'rules': more than {} rules", max_rules);
        uint64_t last = 0;
        for (size_t i = 0; i < rules->size(); ++i) {
            ALOPEX_TRY(r, parse_rule((*rules)[i], fmt::format("rules[{}]", i), bad));
            if (r.id <= last)
                return bad("rules[{}]: id {} is not above the previous id {}", i, r.id, last);
            if (r.id >= s.next_id)
                return bad("rules[{}]: id {} is not below next_id {}", i, r.id, s.next_id);
            last = r.id;
            s.rules.emplace(r.id, std::move(r));
        }
    }
    return s;
}

namespace {

// Replace invalid UTF-8 rather than throw (comments and specs were checked, but a state
// written by hand might not have been).
std::string dump(const json &j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json rule_json(const StoredRule &r)
{
    return json{{"id", r.id}, {"zone", r.zone}, {"spec", r.spec},
                {"expires_at_us", r.expires_at_us}, {"comment", r.comment}};
}

} // namespace

std::string format(const State &s)
{
    // Keys sorted, one rule per line (readable, and cheap to write for 100,000 rules).
    json ifs = json::object();
    for (const auto &[n, z] : s.interfaces)
        ifs[n] = z;
    std::string out = fmt::format("{{\"interfaces\":{},\"next_id\":{},\"panic\":{},\"rules\":[",
                                  dump(ifs), s.next_id, s.panic);
    bool first = true;
    for (const auto &[_, r] : s.rules) {
        out += first ? "\n" : ",\n";
        first = false;
        out += dump(rule_json(r));
    }
    out += fmt::format("{}],\"seq\":{},\"version\":1}}\n", first ? "" : "\n", s.seq);
    return out;
}

std::string format_change(const Change &c)
{
    json j;
    switch (c.kind) {
    case Change::Kind::add:
        j = rule_json(c.rule);
        j["op"] = "add";
        break;
    case Change::Kind::remove:
        j = json{{"op", "remove"}, {"ids", c.ids}};
        break;
    case Change::Kind::interface:
        j = json{{"op", "interface"}, {"name", c.ifname}, {"zone", c.zone}};
        break;
    case Change::Kind::panic:
        j = json{{"op", "panic"}, {"on", c.panic}};
        break;
    }
    j["seq"] = c.seq;
    return dump(j) + "\n";
}

Result<Change> parse_change(std::string_view line, std::string_view where)
{
    Bad bad{where};
    if (line.size() > max_spec * 4)
        return bad("a line longer than {} bytes", max_spec * 4);
    json j = json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return bad("not a JSON object");
    Change c;
    auto seq = j.find("seq");
    auto seqv = seq == j.end() ? std::nullopt : bounded(*seq, 1, store::max_seq);
    if (!seqv)
        return bad("'seq' must be an integer in 1..{}", store::max_seq);
    c.seq = *seqv;
    j.erase("seq");
    auto op = j.find("op");
    if (op == j.end() || !op->is_string())
        return bad("'op' must be a string");
    const std::string name = op->get<std::string>();
    if (name == "add") {
        c.kind = Change::Kind::add;
        j.erase("op");
        ALOPEX_TRY(r, parse_rule(j, "add", bad));
        c.rule = std::move(r);
        return c;
    }
    if (name == "remove") {
        c.kind = Change::Kind::remove;
        ALOPEX_TRY_VOID(only_keys(j, {"op", "ids"}, "remove", bad));
        auto ids = j.find("ids");
        if (ids == j.end() || !ids->is_array() || ids->size() > max_rules)
            return bad("remove: 'ids' must be an array of at most {} ids", max_rules);
        for (const auto &id : *ids) {
            auto v = bounded(id, 1, max_id);
            if (!v)
                return bad("remove: 'ids' must hold integers in 1..{}", max_id);
            c.ids.push_back(*v);
        }
        return c;
    }
    if (name == "interface") {
        c.kind = Change::Kind::interface;
        ALOPEX_TRY_VOID(only_keys(j, {"op", "name", "zone"}, "interface", bad));
        auto n = j.find("name");
        if (n == j.end() || !n->is_string() || !valid_ifname(n->get_ref<const std::string &>()))
            return bad("interface: 'name' must be an interface name");
        auto z = j.find("zone");
        if (z == j.end() || !z->is_string() ||
            (!z->get_ref<const std::string &>().empty() &&
             !valid_zone_name(z->get_ref<const std::string &>())))
            return bad("interface: 'zone' must be a zone name or \"\"");
        c.ifname = n->get<std::string>();
        c.zone = z->get<std::string>();
        return c;
    }
    if (name == "panic") {
        c.kind = Change::Kind::panic;
        ALOPEX_TRY_VOID(only_keys(j, {"op", "on"}, "panic", bad));
        auto on = j.find("on");
        if (on == j.end() || !on->is_boolean())
            return bad("panic: 'on' must be true or false");
        c.panic = on->get<bool>();
        return c;
    }
    return bad("unknown op '{}'", name);
}

Result<> apply(State &s, const Change &c)
{
    switch (c.kind) {
    case Change::Kind::add:
        if (c.rule.id == 0 || c.rule.id > max_id)
            return failf(EINVAL, "rule id {} is not in 1..{}", c.rule.id, max_id);
        if (!s.rules.contains(c.rule.id) && s.rules.size() >= max_rules)
            return failf(EINVAL, "more than {} rules", max_rules);
        s.rules.insert_or_assign(c.rule.id, c.rule);
        s.next_id = std::max(s.next_id, c.rule.id + 1);
        break;
    case Change::Kind::remove:
        for (uint64_t id : c.ids)
            s.rules.erase(id);
        break;
    case Change::Kind::interface:
        if (c.zone.empty())
            s.interfaces.erase(c.ifname);
        else if (!s.interfaces.contains(c.ifname) && s.interfaces.size() >= max_interfaces)
            return failf(EINVAL, "more than {} interfaces", max_interfaces);
        else
            s.interfaces.insert_or_assign(c.ifname, c.zone);
        break;
    case Change::Kind::panic:
        s.panic = c.panic;
        break;
    }
    s.seq = std::max(s.seq, c.seq);
    return {};
}

store::Options store_options(const std::filesystem::path &state_file)
{
    store::Options o;
    o.snapshot = state_file;
    o.max_snapshot = max_file_size;
    o.max_journal = max_journal_size;
    o.min_compact = min_compact_size;
    o.mode = 0640;
    return o;
}

namespace {

std::string summary(const State &s)
{
    return fmt::format("{} runtime rule{}, {} interface assignment{}, panic mode {}", s.rules.size(),
                       s.rules.size() == 1 ? "" : "s", s.interfaces.size(),
                       s.interfaces.size() == 1 ? "" : "s", s.panic ? "on" : "off");
}

std::string lines(size_t n)
{
    return fmt::format("{} line{}", n, n == 1 ? "" : "s");
}

} // namespace

std::string recover(Loaded &l)
{
    if (!l.damaged())
        return {};
    State &s = l.state;
    const auto &j = l.journal;
    std::string out;
    if (l.snapshot_damage) {
        // Whatever it held is unknown, deny rules and a panic flag included.
        s.panic = true;
        out = fmt::format("{}; its runtime state is unknown, so panic mode is on until it is turned "
                          "off; kept the journal's {} before any damage",
                          l.snapshot_damage->to_string(), lines(j.lines));
        if (j.damage)
            out += fmt::format(" ({})", j.damage->to_string());
    } else {
        out = fmt::format("{}; kept the snapshot and the journal's {} before it", j.damage->to_string(),
                          lines(j.lines));
        // Past the damage nothing is trusted, except that a panic turned on stays on.
        for (const auto &c : j.after_damage)
            if (c.kind == Change::Kind::panic && c.panic && !s.panic) {
                s.panic = true;
                out += fmt::format(" (panic mode stays on: a line past the damage, seq {}, "
                                   "turned it on)", c.seq);
            }
    }
    return out + ": " + summary(s);
}

std::vector<uint64_t> expired(const State &s, uint64_t now_us)
{
    std::vector<uint64_t> out;
    for (const auto &[_, r] : s.rules)
        if (r.expires_at_us != 0 && r.expires_at_us <= now_us)
            out.push_back(r.id);
    return out;
}

std::optional<uint64_t> next_deadline(const State &s, uint64_t now_us)
{
    std::optional<uint64_t> best;
    for (const auto &[_, r] : s.rules)
        if (r.expires_at_us > now_us && (!best || r.expires_at_us < *best))
            best = r.expires_at_us;
    return best;
}

size_t remove(State &s, const std::vector<uint64_t> &ids)
{
    size_t n = 0;
    for (uint64_t id : ids)
        n += s.rules.erase(id);
    return n;
}

const StoredRule *find(const State &s, uint64_t id)
{
    auto it = s.rules.find(id);
    return it != s.rules.end() ? &it->second : nullptr;
}

// ---- Deadlines -----------------------------------------------------------------------

void Deadlines::add(const StoredRule &r)
{
    if (r.expires_at_us != 0)
        by_time_.emplace(r.expires_at_us, r.id);
}

void Deadlines::remove(const StoredRule &r)
{
    by_time_.erase({r.expires_at_us, r.id});
}

void Deadlines::rebuild(const State &s)
{
    by_time_.clear();
    for (const auto &[_, r] : s.rules)
        add(r);
}

std::vector<uint64_t> Deadlines::expired(uint64_t now_us) const
{
    std::vector<uint64_t> out;
    for (auto it = by_time_.begin(); it != by_time_.end() && it->first <= now_us; ++it)
        out.push_back(it->second);
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<uint64_t> Deadlines::next(uint64_t now_us) const
{
    auto it = by_time_.upper_bound({now_us, UINT64_MAX});
    if (it == by_time_.end())
        return std::nullopt;
    return it->first;
}

} // namespace alopex::fwd::runtime
