// SPDX-License-Identifier: GPL-2.0-or-later
// One-line rule specs (AddRule, alopexctl fw allow): "zone=wan proto=tcp dport=80,443
// saddr=192.0.2.0/24 action=accept". Words are key=value separated by spaces or tabs; a
// value may be double-quoted (with \" and \\) to hold spaces; list keys take
// comma-separated values. Refusals are "<key>: what".
#include <algorithm>

#include "config.hpp"
#include "internal.hpp"

namespace alopex::fwd::config {

namespace {

constexpr size_t max_spec = 4096;

// The message goes back over D-Bus, which needs valid UTF-8: bytes the caller sent are
// echoed as printable ASCII, anything else as \xNN.
std::unexpected<Error> spec_fail(std::string_view key, std::string_view what)
{
    std::string msg;
    for (unsigned char c : fmt::format("{}: {}", key, what)) {
        if (c >= 0x20 && c < 0x7f)
            msg += static_cast<char>(c);
        else
            msg += fmt::format("\\x{:02x}", c);
    }
    return std::unexpected<Error>(Error{EINVAL, std::move(msg), bus_error::InvalidArgument});
}

bool key_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

struct Word {
    std::string key, value;
};

Result<std::vector<Word>> split(std::string_view spec)
{
    if (spec.size() > max_spec)
        return spec_fail("spec", fmt::format("longer than {} bytes", max_spec));
    for (unsigned char c : spec)
        if ((c < 0x20 && c != ' ' && c != '\t') || c == 0x7f)
            return spec_fail("spec", "must not hold control characters (NUL, newline, ...)");
    std::vector<Word> words;
    size_t i = 0;
    auto blank = [&](size_t k) { return spec[k] == ' ' || spec[k] == '\t'; };
    while (true) {
        while (i < spec.size() && blank(i))
            ++i;
        if (i >= spec.size())
            break;
        size_t start = i;
        while (i < spec.size() && key_char(spec[i]))
            ++i;
        if (i == start || i - start > 32 || i >= spec.size() || spec[i] != '=') {
            size_t end = start;
            while (end < spec.size() && !blank(end))
                ++end;
            std::string shown(spec.substr(start, std::min<size_t>(end - start, 40)));
            return spec_fail("spec", fmt::format("'{}' is not a key=value word", shown));
        }
        Word w;
        w.key = std::string(spec.substr(start, i - start));
        ++i; // '='
        if (i < spec.size() && spec[i] == '"') {
            ++i;
            bool closed = false;
            while (i < spec.size()) {
                char c = spec[i++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\') {
                    if (i >= spec.size() || (spec[i] != '"' && spec[i] != '\\'))
                        return spec_fail(w.key, "only \\\" and \\\\ may follow a backslash in quotes");
                    c = spec[i++];
                }
                w.value += c;
            }
            if (!closed)
                return spec_fail(w.key, "unterminated quote");
            if (i < spec.size() && !blank(i))
                return spec_fail(w.key, "text after the closing quote");
        } else {
            size_t vstart = i;
            while (i < spec.size() && !blank(i)) {
                if (spec[i] == '"' || spec[i] == '\\')
                    return spec_fail(w.key, "a quote or backslash inside an unquoted value");
                ++i;
            }
            w.value = std::string(spec.substr(vstart, i - vstart));
            if (w.value.empty())
                return spec_fail(w.key, "empty value");
        }
        if (std::any_of(words.begin(), words.end(), [&](const Word &o) { return o.key == w.key; }))
            return spec_fail(w.key, "given twice");
        words.push_back(std::move(w));
    }
    if (words.empty())
        return spec_fail("spec", "empty");
    return words;
}

// Values are printed in full only when short; a hostile spec must not echo 4 KiB back.
std::string shorten(std::string_view s)
{
    if (s.size() <= 64)
        return std::string(s);
    return std::string(s.substr(0, 64)) + "...";
}

bool needs_quotes(std::string_view v)
{
    return v.empty() || std::any_of(v.begin(), v.end(), [](char c) {
               return c == ' ' || c == '\t' || c == '"' || c == '\\';
           });
}

std::string spec_quoted(std::string_view v)
{
    if (!needs_quotes(v))
        return std::string(v);
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string join_ports(const std::vector<PortRange> &v)
{
    std::string out;
    for (auto &p : v) {
        if (!out.empty())
            out += ',';
        out += p.first == p.last ? fmt::format("{}", p.first) : fmt::format("{}-{}", p.first, p.last);
    }
    return out;
}

std::string addr_text(const AddrMatch &m, const std::string &zone)
{
    switch (m.kind) {
    case AddrMatch::Kind::any: return {};
    case AddrMatch::Kind::set: return "@" + m.name;
    case AddrMatch::Kind::zone: return m.name == zone ? std::string("@self") : "@zone:" + m.name;
    case AddrMatch::Kind::cidrs: {
        std::string out;
        for (auto &c : m.cidrs) {
            if (!out.empty())
                out += ',';
            out += to_string(c);
        }
        return out;
    }
    }
    return {};
}

void word(std::string &out, std::string_view key, std::string_view value)
{
    if (!out.empty())
        out += ' ';
    out += key;
    out += '=';
    out += value;
}

} // namespace

Result<RuntimeRule> parse_spec(std::string_view spec, const Model &model)
{
    try {
        ALOPEX_TRY(words, split(spec));
        RuntimeRule rr;
        detail::RawRule raw;
        bool forward = false;
        std::optional<std::string> zone;
        for (auto &w : words) {
            if (w.key == "zone") {
                zone = w.value;
                continue;
            }
            if (w.key == "comment")
                return spec_fail("comment", "not part of a spec (the comment is a separate argument)");
            if (w.key == "to")
                forward = true;
            detail::Raw r;
            if (detail::is_list_key(w.key)) {
                size_t start = 0;
                while (true) {
                    size_t comma = w.value.find(',', start);
                    auto part = std::string_view(w.value).substr(
                        start, comma == std::string::npos ? std::string::npos : comma - start);
                    if (part.empty())
                        return spec_fail(w.key, "empty list element");
                    r.items.emplace_back(std::string(part));
                    if (comma == std::string::npos)
                        break;
                    start = comma + 1;
                }
            } else {
                r.items.emplace_back(w.value);
            }
            raw.emplace(w.key, std::move(r));
        }
        if (!zone) {
            if (model.default_zone.empty())
                return spec_fail("zone", "missing (the configuration has no default_zone)");
            zone = model.default_zone;
        }
        if (!model.zones.contains(*zone))
            return spec_fail("zone", fmt::format("no zone '{}'", shorten(*zone)));
        rr.zone = *zone;
        detail::Context ctx;
        ctx.zone = *zone;
        ctx.sets = &model.sets;
        for (auto &[name, z] : model.zones)
            ctx.zones.insert(name);
        if (forward) {
            auto f = detail::build_forward(raw, ctx);
            if (!f)
                return spec_fail(f.error().key, f.error().what);
            rr.forward = std::move(*f);
        } else {
            auto r = detail::build_rule(raw, ctx);
            if (!r)
                return spec_fail(r.error().key, r.error().what);
            rr.rule = std::move(*r);
        }
        return rr;
    } catch (const std::exception &e) {
        return spec_fail("spec", fmt::format("internal error: {}", e.what()));
    }
}

std::string format_rule(const std::string &zone, const Rule &r)
{
    std::string out;
    word(out, "zone", zone);
    if (r.family != Family::both)
        word(out, "family", to_string(r.family));
    if (r.proto != Proto::any)
        word(out, "proto", to_string(r.proto));
    if (r.hook != Hook::input)
        word(out, "hook", to_string(r.hook));
    if (!r.dport.empty())
        word(out, "dport", join_ports(r.dport));
    if (!r.sport.empty())
        word(out, "sport", join_ports(r.sport));
    if (r.saddr.kind != AddrMatch::Kind::any)
        word(out, "saddr", addr_text(r.saddr, zone));
    if (r.daddr.kind != AddrMatch::Kind::any)
        word(out, "daddr", addr_text(r.daddr, zone));
    if (!r.icmp_types.empty()) {
        std::string v;
        for (auto t : r.icmp_types) {
            if (!v.empty())
                v += ',';
            auto n = detail::icmp_type_name(r.proto, t);
            v += n ? std::string(*n) : fmt::format("{}", t);
        }
        word(out, "icmp_type", v);
    }
    if (r.ct_state) {
        std::string v;
        for (auto n : detail::ct_names(r.ct_state)) {
            if (!v.empty())
                v += ',';
            v += n;
        }
        word(out, "ct_state", v);
    }
    word(out, "action", r.verdict ? to_string(*r.verdict) : "log");
    if (r.verdict == Verdict::reject && r.reject_with != RejectWith::port_unreachable)
        word(out, "reject_with", to_string(r.reject_with));
    if (r.log) {
        if (r.verdict)
            word(out, "log", "yes");
        if (!r.log->prefix.empty())
            word(out, "log_prefix", spec_quoted(r.log->prefix));
        if (r.log->limit)
            word(out, "log_limit", detail::format_rate(*r.log->limit));
    }
    if (r.limit) {
        word(out, "limit", detail::format_rate(*r.limit));
        if (r.limit->burst != 5)
            word(out, "burst", fmt::format("{}", r.limit->burst));
    }
    if (!r.counter)
        word(out, "counter", "no");
    return out;
}

std::string format_forward(const std::string &zone, const Forward &f)
{
    std::string out;
    word(out, "zone", zone);
    word(out, "proto", to_string(f.proto));
    word(out, "dport", join_ports(f.dport));
    word(out, "to", detail::format_host_port(f.to, f.to_port));
    if (f.saddr.kind != AddrMatch::Kind::any)
        word(out, "saddr", addr_text(f.saddr, zone));
    return out;
}

std::string format_spec(const RuntimeRule &r)
{
    if (r.forward)
        return format_forward(r.zone, *r.forward);
    if (r.rule)
        return format_rule(r.zone, *r.rule);
    return "zone=" + r.zone;
}

} // namespace alopex::fwd::config
