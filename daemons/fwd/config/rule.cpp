// SPDX-License-Identifier: GPL-2.0-or-later
// Raw key/values (from TOML or a spec) -> a checked Rule or Forward. Every cross-key check
// lives here, so the file and AddRule refuse the same things with the same words.
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <span>

#include "config.hpp"
#include "internal.hpp"

namespace alopex::fwd::config::detail {

namespace {

constexpr unsigned fam_v4 = 1, fam_v6 = 2, fam_all = 3;

unsigned fam_bit(const net::Prefix &c) { return c.family() == AF_INET ? fam_v4 : fam_v6; }
unsigned fam_bit(const net::Address &a) { return a.family() == AF_INET ? fam_v4 : fam_v6; }
unsigned fam_bits(Family f) { return f == Family::ipv4 ? fam_v4 : f == Family::ipv6 ? fam_v6 : fam_all; }
std::string_view fam_text(unsigned bits) { return bits == fam_v4 ? "IPv4" : bits == fam_v6 ? "IPv6" : "any"; }

std::string_view item_type(const Item &i)
{
    if (std::holds_alternative<std::string>(i))
        return "a string";
    if (std::holds_alternative<int64_t>(i))
        return "an integer";
    return "a boolean";
}

// Typed access to the raw values of one rule.
class Keys {
public:
    explicit Keys(const RawRule &raw) : raw_(raw) {}

    const Raw *get(std::string_view key) const
    {
        auto it = raw_.find(key);
        return it == raw_.end() ? nullptr : &it->second;
    }
    bool has(std::string_view key) const { return get(key) != nullptr; }

    static std::unexpected<Problem> type_error(std::string_view key, const Raw &r, std::string_view want)
    {
        std::string got = !r.type_name.empty() ? fmt::format("a {}", r.type_name)
                          : r.list            ? std::string("an array")
                          : r.items.empty()   ? std::string("nothing")
                                              : std::string(item_type(r.items.front()));
        return problem(std::string(key), fmt::format("must be {}, not {}", want, got));
    }

    Checked<std::optional<std::string>> string(std::string_view key) const
    {
        auto *r = get(key);
        if (!r)
            return std::optional<std::string>{};
        if (!r->type_name.empty() || r->list || r->items.size() != 1 ||
            !std::holds_alternative<std::string>(r->items.front()))
            return type_error(key, *r, "a string");
        return std::optional<std::string>(std::get<std::string>(r->items.front()));
    }

    Checked<std::optional<bool>> boolean(std::string_view key) const
    {
        auto *r = get(key);
        if (!r)
            return std::optional<bool>{};
        if (r->type_name.empty() && !r->list && r->items.size() == 1) {
            auto &i = r->items.front();
            if (auto *b = std::get_if<bool>(&i))
                return std::optional<bool>(*b);
            if (auto *s = std::get_if<std::string>(&i); s && !r->typed) {
                auto v = parse_bool_text(*s);
                if (!v)
                    return problem(std::string(key), v.error());
                return std::optional<bool>(*v);
            }
        }
        return type_error(key, *r, "a boolean");
    }

    Checked<std::optional<int64_t>> integer(std::string_view key, int64_t max) const
    {
        auto *r = get(key);
        if (!r)
            return std::optional<int64_t>{};
        if (r->type_name.empty() && !r->list && r->items.size() == 1) {
            auto &i = r->items.front();
            if (auto *n = std::get_if<int64_t>(&i)) {
                if (*n > max)
                    return problem(std::string(key), fmt::format("{} is too large (at most {})", *n, max));
                return std::optional<int64_t>(*n);
            }
            if (auto *s = std::get_if<std::string>(&i); s && !r->typed) {
                auto v = parse_decimal(*s, max);
                if (!v)
                    return problem(std::string(key), v.error());
                return std::optional<int64_t>(*v);
            }
        }
        return type_error(key, *r, "an integer");
    }

    // A scalar or a list; a present but empty list is refused.
    Checked<const std::vector<Item> *> items(std::string_view key) const
    {
        auto *r = get(key);
        if (!r)
            return nullptr;
        if (!r->type_name.empty())
            return type_error(key, *r, "a value or an array");
        if (r->items.empty())
            return problem(std::string(key), "must not be empty");
        return &r->items;
    }

private:
    const RawRule &raw_;
};

Checked<std::vector<PortRange>> ports(const Keys &k, std::string_view key)
{
    auto items = k.items(key);
    if (!items)
        return std::unexpected(items.error());
    std::vector<PortRange> out;
    if (!*items)
        return out;
    auto idx = [&](size_t i) { return (*items)->size() > 1 ? std::optional<size_t>(i) : std::nullopt; };
    for (size_t i = 0; i < (*items)->size(); ++i) {
        auto &it = (**items)[i];
        std::expected<PortRange, std::string> p;
        if (auto *n = std::get_if<int64_t>(&it))
            p = port_from_int(*n);
        else if (auto *s = std::get_if<std::string>(&it))
            p = parse_port_text(*s);
        else
            return problem(std::string(key), "must be a port, a \"first-last\" range or an array of them", idx(i));
        if (!p)
            return problem(std::string(key), p.error(), idx(i));
        out.push_back(*p);
    }
    return normalize_ports(std::move(out));
}

Checked<AddrMatch> addresses(const Keys &k, std::string_view key, const Context &ctx)
{
    AddrMatch m;
    auto items = k.items(key);
    if (!items)
        return std::unexpected(items.error());
    if (!*items)
        return m;
    auto &v = **items;
    auto idx = [&](size_t i) { return v.size() > 1 ? std::optional<size_t>(i) : std::nullopt; };
    for (size_t i = 0; i < v.size(); ++i) {
        auto *s = std::get_if<std::string>(&v[i]);
        if (!s)
            return problem(std::string(key), fmt::format("must be a string, not {}", item_type(v[i])), idx(i));
        if (!s->starts_with('@'))
            continue;
        if (v.size() > 1)
            return problem(std::string(key), fmt::format("'{}': a reference must be the only value", *s), idx(i));
        std::string_view ref = std::string_view(*s).substr(1);
        if (ref == "self") {
            m.kind = AddrMatch::Kind::zone;
            m.name = ctx.zone;
        } else if (ref.starts_with("zone:")) {
            auto z = ref.substr(5);
            if (!ctx.zones.contains(std::string(z)))
                return problem(std::string(key), fmt::format("no zone '{}'", z.substr(0, 64)));
            m.kind = AddrMatch::Kind::zone;
            m.name = std::string(z);
        } else {
            if (!ctx.sets || !ctx.sets->contains(std::string(ref)))
                return problem(std::string(key), fmt::format("no set '{}'", ref.substr(0, 64)));
            m.kind = AddrMatch::Kind::set;
            m.name = std::string(ref);
        }
        return m;
    }
    m.kind = AddrMatch::Kind::cidrs;
    for (size_t i = 0; i < v.size(); ++i) {
        auto c = parse_cidr(std::get<std::string>(v[i]));
        if (!c)
            return problem(std::string(key), c.error().message, idx(i));
        m.cidrs.push_back(*c);
    }
    m.cidrs = normalize_cidrs(std::move(m.cidrs));
    return m;
}

// The families an address match can match: CIDR lists and non-empty sets have theirs;
// zone addresses and empty sets follow the packet.
unsigned match_families(const AddrMatch &m, const Context &ctx)
{
    unsigned bits = 0;
    if (m.kind == AddrMatch::Kind::cidrs) {
        for (auto &c : m.cidrs)
            bits |= fam_bit(c);
    } else if (m.kind == AddrMatch::Kind::set && ctx.sets) {
        if (auto it = ctx.sets->find(m.name); it != ctx.sets->end())
            for (auto &c : it->second.cidrs)
                bits |= fam_bit(c);
    }
    return bits ? bits : fam_all;
}

// Family consistency of a rule's explicit family, protocol and addresses; narrows the
// family to the one the rule can match.
Checked<> check_families(Rule &r, const Context &ctx)
{
    unsigned allowed = fam_bits(r.family);
    if (r.proto == Proto::icmp || r.proto == Proto::icmpv6) {
        unsigned p = r.proto == Proto::icmp ? fam_v4 : fam_v6;
        if (!(allowed & p))
            return problem("family", fmt::format("{} does not fit proto {} ({} only)", to_string(r.family),
                                                 to_string(r.proto), fam_text(p)));
        allowed = p;
    }
    const unsigned base = allowed;
    std::string why = r.proto == Proto::icmp || r.proto == Proto::icmpv6
                          ? fmt::format("proto {}", to_string(r.proto))
                          : fmt::format("family {}", to_string(r.family));
    for (auto key : {"saddr", "daddr"}) {
        auto &m = std::string_view(key) == "saddr" ? r.saddr : r.daddr;
        for (auto &c : m.cidrs)
            if (!(fam_bit(c) & allowed))
                return problem(key, fmt::format("{} is {} but the rule is {} only ({})", to_string(c),
                                                fam_text(fam_bit(c)), fam_text(allowed), why));
        if (m.kind == AddrMatch::Kind::set && !(match_families(m, ctx) & allowed))
            return problem(key, fmt::format("set '{}' holds no {} networks ({})", m.name, fam_text(allowed), why));
    }
    unsigned s = match_families(r.saddr, ctx), d = match_families(r.daddr, ctx);
    if (!(s & d & allowed))
        return problem("daddr", fmt::format("{} only, but saddr is {} only", fam_text(d & allowed),
                                            fam_text(s & allowed)));
    allowed &= s & d;
    // A CIDR list that mixes families next to a single-family other side.
    for (auto key : {"saddr", "daddr"}) {
        auto &m = std::string_view(key) == "saddr" ? r.saddr : r.daddr;
        for (auto &c : m.cidrs)
            if (!(fam_bit(c) & allowed))
                return problem(key, fmt::format("{} is {} but {} is {} only", to_string(c), fam_text(fam_bit(c)),
                                                std::string_view(key) == "saddr" ? "daddr" : "saddr",
                                                fam_text(allowed)));
    }
    // The family narrows with the protocol and CIDR lists, not with set contents (a
    // rule does not change meaning when a set is edited).
    unsigned narrowed = base;
    for (auto *m : {&r.saddr, &r.daddr})
        if (m->kind == AddrMatch::Kind::cidrs)
            narrowed &= match_families(*m, ctx);
    r.family = narrowed == fam_v4 ? Family::ipv4 : narrowed == fam_v6 ? Family::ipv6 : Family::both;
    return {};
}

template <typename E, typename F>
Checked<std::optional<E>> enum_value(const Keys &k, std::string_view key, F from, std::string_view choices)
{
    auto s = k.string(key);
    if (!s)
        return std::unexpected(s.error());
    if (!*s)
        return std::optional<E>{};
    auto v = from(**s);
    if (!v)
        return problem(std::string(key), fmt::format("'{}' is not one of {}", s->value().substr(0, 40), choices));
    return std::optional<E>(*v);
}

Checked<> check_keys(const RawRule &raw, std::span<const std::string_view> known, std::string_view what)
{
    for (auto &[key, v] : raw) {
        (void)v;
        if (std::find(known.begin(), known.end(), key) == known.end())
            return problem(key, fmt::format("unknown key in {}", what));
    }
    return {};
}

#define TRY_P(var, expr)                                                                    \
    auto var##_c = (expr);                                                                  \
    if (!var##_c)                                                                           \
        return std::unexpected(std::move(var##_c.error()));                                 \
    auto &var = *var##_c

} // namespace

bool is_list_key(std::string_view key)
{
    return key == "dport" || key == "sport" || key == "saddr" || key == "daddr" || key == "icmp_type" ||
           key == "ct_state";
}

Checked<Rule> build_rule(const RawRule &raw, const Context &ctx)
{
    if (auto c = check_keys(raw, rule_keys, "a rule"); !c)
        return std::unexpected(c.error());
    Keys k(raw);
    Rule r;
    TRY_P(family, enum_value<Family>(k, "family", family_from, "ipv4, ipv6, both"));
    TRY_P(proto, enum_value<Proto>(k, "proto", proto_from, "tcp, udp, icmp, icmpv6, any"));
    TRY_P(hook, enum_value<Hook>(k, "hook", hook_from, "input, forward, output"));
    r.family = family.value_or(Family::both);
    r.proto = proto.value_or(Proto::any);
    r.hook = hook.value_or(Hook::input);

    for (auto key : {"dport", "sport"}) {
        TRY_P(p, ports(k, key));
        if (!p.empty() && r.proto != Proto::tcp && r.proto != Proto::udp)
            return problem(key, "only with proto tcp or udp");
        (std::string_view(key) == "dport" ? r.dport : r.sport) = std::move(p);
    }
    TRY_P(saddr, addresses(k, "saddr", ctx));
    TRY_P(daddr, addresses(k, "daddr", ctx));
    r.saddr = std::move(saddr);
    r.daddr = std::move(daddr);

    TRY_P(icmp, k.items("icmp_type"));
    if (icmp) {
        if (r.proto != Proto::icmp && r.proto != Proto::icmpv6)
            return problem("icmp_type", "only with proto icmp or icmpv6");
        auto idx = [&](size_t i) { return icmp->size() > 1 ? std::optional<size_t>(i) : std::nullopt; };
        for (size_t i = 0; i < icmp->size(); ++i) {
            auto &it = (*icmp)[i];
            std::optional<uint8_t> t;
            if (auto *n = std::get_if<int64_t>(&it)) {
                if (*n < 0 || *n > 255)
                    return problem("icmp_type", fmt::format("{} is not an ICMP type (0..255)", *n), idx(i));
                t = static_cast<uint8_t>(*n);
            } else if (auto *s = std::get_if<std::string>(&it)) {
                t = icmp_type_by_name(r.proto, *s);
                if (!t && !s->empty() && std::isdigit(static_cast<unsigned char>(s->front()))) {
                    auto n = parse_decimal(*s, 255);
                    if (!n)
                        return problem("icmp_type", fmt::format("{} (0..255)", n.error()), idx(i));
                    t = static_cast<uint8_t>(*n);
                }
                if (!t)
                    return problem("icmp_type", fmt::format("'{}' is not an {} type name", s->substr(0, 40),
                                                            r.proto == Proto::icmp ? "ICMP" : "ICMPv6"), idx(i));
            } else {
                return problem("icmp_type", "must be a name or a number", idx(i));
            }
            r.icmp_types.push_back(*t);
        }
        std::sort(r.icmp_types.begin(), r.icmp_types.end());
        r.icmp_types.erase(std::unique(r.icmp_types.begin(), r.icmp_types.end()), r.icmp_types.end());
    }

    TRY_P(cts, k.items("ct_state"));
    if (cts) {
        for (size_t i = 0; i < cts->size(); ++i) {
            auto *s = std::get_if<std::string>(&(*cts)[i]);
            auto bit = s ? ct_bit_by_name(*s) : std::nullopt;
            if (!bit)
                return problem("ct_state", "must be new, established, related, invalid or untracked",
                               cts->size() > 1 ? std::optional<size_t>(i) : std::nullopt);
            r.ct_state |= *bit;
        }
    }

    TRY_P(action, k.string("action"));
    if (!action)
        return problem("action", "missing (accept, drop, reject or log)");
    bool log_action = *action == "log";
    if (!log_action) {
        auto v = verdict_from(*action);
        if (!v)
            return problem("action", fmt::format("'{}' is not one of accept, drop, reject, log", action->substr(0, 40)));
        r.verdict = *v;
    }
    TRY_P(rw, enum_value<RejectWith>(k, "reject_with", reject_with_from,
                                     "port-unreachable, admin-prohibited, host-unreachable, no-route, tcp-reset"));
    if (rw) {
        if (r.verdict != Verdict::reject)
            return problem("reject_with", "only with action \"reject\"");
        if (*rw == RejectWith::tcp_reset && r.proto != Proto::tcp)
            return problem("reject_with", "tcp-reset needs proto tcp");
        r.reject_with = *rw;
    }

    TRY_P(log, k.boolean("log"));
    TRY_P(log_prefix, k.string("log_prefix"));
    TRY_P(log_limit, k.string("log_limit"));
    if (log == std::optional<bool>(false) && (log_action || log_prefix || log_limit))
        return problem("log", log_action ? "false contradicts action \"log\""
                                         : "false contradicts log_prefix / log_limit");
    if (log_action || log.value_or(false) || log_prefix || log_limit) {
        Log l;
        if (log_prefix) {
            if (auto c = check_log_prefix(*log_prefix); !c)
                return problem("log_prefix", c.error());
            l.prefix = *log_prefix;
        }
        if (log_limit) {
            auto rl = parse_rate(*log_limit);
            if (!rl)
                return problem("log_limit", rl.error());
            l.limit = *rl;
        }
        r.log = std::move(l);
    }

    TRY_P(limit, k.string("limit"));
    TRY_P(burst, k.integer("burst", 1'000'000));
    if (limit) {
        auto rl = parse_rate(*limit);
        if (!rl)
            return problem("limit", rl.error());
        r.limit = *rl;
    }
    if (burst) {
        if (!limit)
            return problem("burst", "only with limit");
        if (*burst < 1)
            return problem("burst", fmt::format("{} is too small (1..1000000)", *burst));
        r.limit->burst = static_cast<uint32_t>(*burst);
    }
    TRY_P(counter, k.boolean("counter"));
    r.counter = counter.value_or(true);
    TRY_P(comment, k.string("comment"));
    if (comment) {
        if (auto c = check_comment(*comment); !c)
            return problem("comment", c.error());
        r.comment = *comment;
    }
    if (auto c = check_families(r, ctx); !c)
        return std::unexpected(c.error());
    return r;
}

Checked<Forward> build_forward(const RawRule &raw, const Context &ctx)
{
    if (auto c = check_keys(raw, forward_keys, "a port forward"); !c)
        return std::unexpected(c.error());
    Keys k(raw);
    Forward f;
    TRY_P(proto, enum_value<Proto>(k, "proto", proto_from, "tcp, udp"));
    if (!proto)
        return problem("proto", "missing (tcp or udp)");
    if (*proto != Proto::tcp && *proto != Proto::udp)
        return problem("proto", "a port forward is tcp or udp");
    f.proto = *proto;
    if (!k.has("dport"))
        return problem("dport", "missing (a port or a first-last range)");
    if (auto *r = k.get("dport"); r->list || r->items.size() > 1)
        return problem("dport", "a port forward takes one port or one range");
    TRY_P(dport, ports(k, "dport"));
    f.dport = std::move(dport);
    TRY_P(to, k.string("to"));
    if (!to)
        return problem("to", "missing (address or address:port)");
    auto hp = parse_host_port(*to);
    if (!hp)
        return problem("to", hp.error());
    f.to = hp->host;
    f.to_port = hp->port;
    if (f.to_port && f.dport.front().first != f.dport.front().last)
        return problem("to", "a single target port needs a single dport (a range maps to the same ports)");
    TRY_P(saddr, addresses(k, "saddr", ctx));
    f.saddr = std::move(saddr);
    unsigned fam = fam_bit(f.to);
    for (auto &c : f.saddr.cidrs)
        if (fam_bit(c) != fam)
            return problem("saddr", fmt::format("{} is {} but 'to' is {}", to_string(c), fam_text(fam_bit(c)),
                                                fam_text(fam)));
    if (f.saddr.kind == AddrMatch::Kind::set && !(match_families(f.saddr, ctx) & fam))
        return problem("saddr", fmt::format("set '{}' holds no {} networks", f.saddr.name, fam_text(fam)));
    TRY_P(comment, k.string("comment"));
    if (comment) {
        if (auto c = check_comment(*comment); !c)
            return problem("comment", c.error());
        f.comment = *comment;
    }
    return f;
}

} // namespace alopex::fwd::config::detail
