// SPDX-License-Identifier: GPL-2.0-or-later
#include "fw_cmd.hpp"

#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "alopex/net.hpp"

namespace alopexctl {
namespace fw1 = alopex::ipc::firewall1;
namespace cli = alopex::cli;
using cli::printable;
using alopex::failf;
using Op = FwRequest::Op;

namespace {

template <typename T> bool parse_number(std::string_view s, T &out)
{
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// One port 1..65535 or a range "A-B" with A <= B.
alopex::Result<std::string> parse_port_item(std::string_view item)
{
    auto port = [](std::string_view p, uint16_t &out) {
        uint32_t v = 0;
        if (!parse_number(p, v) || v < 1 || v > 65535)
            return false;
        out = static_cast<uint16_t>(v);
        return true;
    };
    uint16_t first = 0, last = 0;
    auto dash = item.find('-');
    if (dash == std::string_view::npos) {
        if (!port(item, first))
            return failf(EINVAL, "not a port (1-65535): '{}'", printable(item));
        return std::to_string(first);
    }
    if (!port(item.substr(0, dash), first) || !port(item.substr(dash + 1), last))
        return failf(EINVAL, "not a port range (FIRST-LAST, 1-65535): '{}'", printable(item));
    if (first > last)
        return failf(EINVAL, "port range '{}': the first port is above the last", printable(item));
    if (first == last)
        return std::to_string(first);
    return fmt::format("{}-{}", first, last);
}

std::vector<std::string_view> split_commas(std::string_view s)
{
    std::vector<std::string_view> out;
    for (;;) {
        auto c = s.find(',');
        out.push_back(s.substr(0, c));
        if (c == std::string_view::npos)
            return out;
        s.remove_prefix(c + 1);
    }
}

// "80", "80,443", "8000-8080,9090"; a list only when `list`.
alopex::Result<std::string> parse_ports(std::string_view text, bool list)
{
    auto items = split_commas(text);
    if (!list && items.size() > 1)
        return failf(EINVAL, "a port forward takes one port or one range, not a list: '{}'", printable(text));
    std::string out;
    for (auto item : items) {
        if (item.empty())
            return failf(EINVAL, "empty port in '{}'", printable(text));
        auto p = parse_port_item(item);
        if (!p)
            return std::unexpected(p.error());
        out += (out.empty() ? "" : ",") + *p;
    }
    return out;
}

bool valid_name(std::string_view s)   // zone and set names: [A-Za-z0-9_-]{1,20}
{
    if (s.empty() || s.size() > 20)
        return false;
    for (char c : s)
        if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
            return false;
    return true;
}

// An address or network; the host bits beyond the prefix must be zero.
alopex::Result<> check_cidr(std::string_view text)
{
    ALOPEX_TRY_VOID(alopex::net::Prefix::parse_network(text, "--from", {.bare = true}));
    return {};
}

// --from: CIDRs, or one @set, or "any" (no match at all).
alopex::Result<std::string> parse_from(std::string_view text)
{
    if (text == "any")
        return std::string();
    auto items = split_commas(text);
    for (auto item : items) {
        if (item.starts_with('@')) {
            if (items.size() > 1)
                return failf(EINVAL, "--from: a set ('{}') cannot be combined with other sources", printable(item));
            if (!valid_name(item.substr(1)))
                return failf(EINVAL, "--from: not a set name: '{}'", printable(item));
        } else if (item.empty()) {
            return failf(EINVAL, "--from: empty source in '{}'", printable(text));
        } else if (auto c = check_cidr(item); !c) {
            return std::unexpected(c.error());
        }
    }
    return std::string(text);
}

// --to ADDR[:PORT]: 10.1.0.5, 10.1.0.5:80, 2001:db8::5, [2001:db8::5], [2001:db8::5]:80.
alopex::Result<std::string> parse_to(std::string_view text)
{
    std::string_view addr = text, port;
    bool v6 = false;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return failf(EINVAL, "--to: missing ']' in '{}'", printable(text));
        addr = text.substr(1, close - 1);
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (!rest.starts_with(':'))
                return failf(EINVAL, "--to: expected ':PORT' after ']' in '{}'", printable(text));
            port = rest.substr(1);
            if (port.empty())
                return failf(EINVAL, "--to: missing port after ':' in '{}'", printable(text));
        }
        v6 = true;
    } else if (std::count(text.begin(), text.end(), ':') > 1) {
        v6 = true;   // a bare IPv6 address, no port
    } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
        addr = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (port.empty())
            return failf(EINVAL, "--to: missing port after ':' in '{}'", printable(text));
    }
    ALOPEX_TRY_VOID(alopex::net::Address::parse(addr, v6 ? AF_INET6 : AF_INET, "--to"));
    std::string out = v6 && !port.empty() ? fmt::format("[{}]", addr) : std::string(addr);
    if (!port.empty()) {
        uint32_t p = 0;
        if (!parse_number(port, p) || p < 1 || p > 65535)
            return failf(EINVAL, "--to: not a port (1-65535): '{}'", printable(port));
        out += fmt::format(":{}", p);
    }
    return out;
}

// ICMP type names or numbers: "echo-request", "echo-request,8".
alopex::Result<std::string> parse_icmp_types(std::string_view text)
{
    for (auto item : split_commas(text)) {
        bool ok = !item.empty();
        for (char c : item)
            ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
        if (!ok)
            return failf(EINVAL, "not an ICMP type: '{}'", printable(item));
    }
    return std::string(text);
}

// allow | deny | forward: positional words and --options (parsed by the command line).
alopex::Result<FwRequest> parse_add(std::string_view sub, const cli::Args &a)
{
    bool forward = sub == "forward";
    const auto &pos = a.words;
    bool reject = a.has("--reject");
    std::map<std::string, std::string, std::less<>> opt;
    for (const auto &[spec, value] : a.options)
        if (spec->takes_value())
            opt.insert_or_assign(std::string(spec->name), std::string(value));

    FwRequest r;
    r.op = Op::add;
    if (pos.empty())
        return failf(EINVAL, "fw {}: missing protocol ({})", sub, forward ? "tcp or udp" : "tcp, udp, icmp, icmpv6 or any");
    std::string_view proto = pos[0];
    std::vector<std::string> spec;
    if (auto z = opt.find("--zone"); z != opt.end()) {
        if (!valid_name(z->second))
            return failf(EINVAL, "--zone: not a zone name: '{}'", printable(z->second));
        spec.push_back("zone=" + z->second);
    }
    spec.push_back(fmt::format("proto={}", proto));
    if (proto == "tcp" || proto == "udp") {
        if (pos.size() < 2)
            return failf(EINVAL, "fw {} {}: missing port", sub, proto);
        if (pos.size() > 2)
            return failf(EINVAL, "fw {}: unexpected argument '{}'", sub, printable(pos[2]));
        auto ports = parse_ports(pos[1], !forward);
        if (!ports)
            return failf(EINVAL, "fw {} {}: {}", sub, proto, ports.error().message);
        spec.push_back("dport=" + *ports);
    } else if (!forward && (proto == "icmp" || proto == "icmpv6" || proto == "any")) {
        size_t max = proto == "any" ? 1 : 2;
        if (pos.size() > max)
            return failf(EINVAL, "fw {}: unexpected argument '{}'", sub, printable(pos[max]));
        if (pos.size() == 2) {
            auto types = parse_icmp_types(pos[1]);
            if (!types)
                return failf(EINVAL, "fw {} {}: {}", sub, proto, types.error().message);
            spec.push_back("icmp_type=" + *types);
        }
    } else {
        return failf(EINVAL, "fw {}: unknown protocol '{}' ({})", sub, printable(proto),
                     forward ? "tcp or udp" : "tcp, udp, icmp, icmpv6 or any");
    }
    if (auto f = opt.find("--from"); f != opt.end()) {
        ALOPEX_TRY(from, parse_from(f->second));
        if (!from.empty())
            spec.push_back("saddr=" + from);
    }
    if (forward) {
        auto t = opt.find("--to");
        if (t == opt.end())
            return failf(EINVAL, "fw forward: missing --to ADDRESS[:PORT]");
        ALOPEX_TRY(to, parse_to(t->second));
        spec.push_back("to=" + to);
    } else {
        spec.push_back(sub == "allow" ? "action=accept" : reject ? "action=reject" : "action=drop");
    }
    if (auto e = opt.find("--expires"); e != opt.end()) {
        auto d = parse_duration(e->second);
        if (!d)
            return failf(EINVAL, "--expires: {}", d.error().message);
        r.expires_s = *d;
    }
    if (auto c = opt.find("--comment"); c != opt.end())
        r.comment = c->second;
    r.spec = fmt::format("{}", fmt::join(spec, " "));
    return r;
}

alopex::Result<> no_more(std::string_view sub, std::span<const std::string_view> rest, size_t n)
{
    if (rest.size() > n)
        return failf(EINVAL, "fw {}: unexpected argument '{}'", sub, printable(rest[n]));
    if (rest.size() < n)
        return failf(EINVAL, "fw {}: missing argument", sub);
    return {};
}

} // namespace

alopex::Result<uint32_t> parse_duration(std::string_view text)
{
    if (text.empty())
        return failf(EINVAL, "empty duration");
    if (text == "never")
        return 0u;
    constexpr std::string_view units = "dhms";
    constexpr std::array<uint64_t, 4> scale{86400, 3600, 60, 1};
    uint64_t total = 0;
    size_t next_unit = 0;   // units must come largest first, each once
    std::string_view rest = text;
    while (!rest.empty()) {
        size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9')
            digits++;
        if (digits == 0)
            return failf(EINVAL, "not a duration (like 90, 90s, 30m, 1h, 2d or 1h30m): '{}'", printable(text));
        uint64_t n = 0;
        if (!parse_number(rest.substr(0, digits), n))
            return failf(EINVAL, "too large: '{}'", printable(text));
        rest.remove_prefix(digits);
        uint64_t factor = 1;
        if (rest.empty()) {
            if (next_unit != 0)   // "1h30": the unit of the last number is missing
                return failf(EINVAL, "missing unit after the last number in '{}'", printable(text));
        } else {
            auto u = units.find(rest[0]);
            if (u == std::string_view::npos)
                return failf(EINVAL, "unknown unit '{}' in '{}' (d, h, m or s)", printable(rest.substr(0, 1)),
                             printable(text));
            if (u < next_unit)
                return failf(EINVAL, "unit '{}' repeated or out of order in '{}'", rest[0], printable(text));
            next_unit = u + 1;
            factor = scale[u];
            rest.remove_prefix(1);
        }
        if (n > (std::numeric_limits<uint64_t>::max() - total) / factor)
            return failf(EINVAL, "too large: '{}'", printable(text));
        total += n * factor;
        if (total > std::numeric_limits<uint32_t>::max())
            return failf(EINVAL, "too large: '{}' (at most {} seconds)", printable(text),
                         std::numeric_limits<uint32_t>::max());
    }
    if (total == 0)
        return failf(EINVAL, "'{}' is no time at all (leave --expires out for a rule that never expires)",
                     printable(text));
    return static_cast<uint32_t>(total);
}

namespace {

constexpr std::string_view from_opt = "--from", zone_opt = "--zone", expires_opt = "--expires",
                           comment_opt = "--comment", to_opt = "--to", reject_opt = "--reject";

const cli::OptionSpec options[] = {
    {from_opt, 0, "CIDR,...|@SET"}, {zone_opt, 0, "ZONE"},   {expires_opt, 0, "DURATION"},
    {comment_opt, 0, "TEXT"},        {to_opt, 0, "ADDRESS[:PORT]"}, {reject_opt},
};

// A verb without arguments.
alopex::Result<FwRequest> simple(const cli::Args &a, Op op, std::string_view verb)
{
    ALOPEX_TRY_VOID(no_more(verb, a.words, 0));
    return FwRequest{.op = op};
}

alopex::Result<FwRequest> parse_remove(const cli::Args &a)
{
    ALOPEX_TRY_VOID(no_more("remove ID", a.words, 1));
    FwRequest r{.op = Op::remove};
    if (!parse_number(a.words[0], r.id) || r.id == 0)
        return failf(EINVAL, "fw remove: not a rule id: '{}'", printable(a.words[0]));
    return r;
}

alopex::Result<FwRequest> parse_panic(const cli::Args &a)
{
    ALOPEX_TRY_VOID(no_more("panic on|off", a.words, 1));
    if (a.words[0] != "on" && a.words[0] != "off")
        return failf(EINVAL, "fw panic: expected 'on' or 'off', not '{}'", printable(a.words[0]));
    return FwRequest{.op = Op::panic, .on = a.words[0] == "on"};
}

alopex::Result<FwRequest> parse_set_zone(const cli::Args &a)
{
    const auto &rest = a.words;
    ALOPEX_TRY_VOID(no_more("set-zone INTERFACE ZONE", rest, 2));
    if (!alopex::net::valid_ifname(rest[0]))
        return failf(EINVAL, "fw set-zone: not an interface name: '{}'", printable(rest[0]));
    if (rest[1] != "-" && !rest[1].empty() && !valid_name(rest[1]))
        return failf(EINVAL, "fw set-zone: not a zone name: '{}'", printable(rest[1]));
    return FwRequest{.op = Op::set_zone,
                     .interface_name = std::string(rest[0]),
                     .zone = rest[1] == "-" ? "" : std::string(rest[1])};
}

const cli::Verb<FwRequest> verbs[] = {
    {{"status"}, "", "the firewall: panic, zones, generation, latency", +[](const cli::Args &a) { return simple(a, Op::status, "status"); }, {}, true},
    {{"zones"}, "", "zones with their interfaces, policies and addresses", +[](const cli::Args &a) { return simple(a, Op::zones, "zones"); }},
    {{"rules"}, "", "configured and runtime rules (with their expiry)", +[](const cli::Args &a) { return simple(a, Op::rules, "rules"); }},
    {{"allow"},
     "tcp|udp PORT[-PORT][,...] | icmp|icmpv6 [TYPE,...] | any\n"
     "    [--from CIDR,...|@SET] [--zone Z] [--comment TEXT]\n"
     "    [--expires 1h|30m|90s|2d|SECONDS]",
     "add a runtime rule that accepts the traffic (prints its id)",
     +[](const cli::Args &a) { return parse_add("allow", a); },
     {from_opt, zone_opt, expires_opt, comment_opt}},
    {{"deny"},
     "PROTO ... [options as for allow] [--reject]",
     "add a runtime rule that drops (or rejects) it",
     +[](const cli::Args &a) { return parse_add("deny", a); },
     {from_opt, zone_opt, expires_opt, comment_opt, reject_opt}},
    {{"forward"},
     "tcp|udp PORT --to ADDRESS[:PORT] [--from ...] [--zone Z]\n    [--expires ...] [--comment TEXT]",
     "add a runtime port forward (prints its id)",
     +[](const cli::Args &a) { return parse_add("forward", a); },
     {from_opt, zone_opt, expires_opt, comment_opt, to_opt}},
    {{"remove"}, "ID", "remove a runtime rule", parse_remove},
    {{"panic"}, "on|off", "drop everything but loopback and established traffic", parse_panic},
    {{"reload"}, "", "re-read firewall.toml", +[](const cli::Args &a) { return simple(a, Op::reload, "reload"); }},
    {{"counters"}, "", "packets, bytes and drops per zone and rule", +[](const cli::Args &a) { return simple(a, Op::counters, "counters"); }},
    {{"set-zone"},
     "INTERFACE ZONE|-",
     "put an interface in a zone at run time ('-' drops\nthat assignment: linkd's zone or the patterns apply)",
     parse_set_zone},
};

} // namespace

std::span<const cli::OptionSpec> fw_options() { return options; }

alopex::Result<FwRequest> parse_fw_args(std::span<const std::string_view> w)
{
    ALOPEX_TRY(args, cli::parse_args(w, options, "fw"));
    return cli::parse_verb<FwRequest>("fw", verbs, args);
}

namespace {

uint64_t now_us()
{
    struct timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// A change that answers nothing: nothing for people, "{}" with --json.
int done(Context &ctx, const alopex::Result<> &r) { return r ? ctx.print(cli::Document()) : Context::fail(r.error()); }

} // namespace

int run_fw(Context &ctx, const FwRequest &r)
{
    auto bus = ctx.bus();
    if (!bus)
        return Context::fail(bus.error());
    switch (r.op) {
    case Op::status:
    case Op::zones:
    case Op::rules: {
        auto state = fw1::read_state(*bus);
        if (!state)
            return Context::fail(state.error());
        if (r.op == Op::zones)
            return ctx.print(fw_zones_document(*state));
        auto runtime = fw1::list_runtime_rules(*bus);
        if (!runtime)
            return Context::fail(runtime.error());
        if (r.op == Op::status)
            return ctx.print(fw_status_document(*state, runtime->size()));
        return ctx.print(fw_rules_document(*state, *runtime, now_us()));
    }
    case Op::counters: {
        auto c = fw1::get_counters(*bus);
        return c ? ctx.print(fw_counters_document(*c)) : Context::fail(c.error());
    }
    case Op::add: {
        auto id = fw1::add_rule(*bus, r.spec, r.expires_s, r.comment);
        return id ? ctx.print(fw_id_document(*id)) : Context::fail(id.error());
    }
    case Op::remove:
        return done(ctx, fw1::remove_rule(*bus, r.id));
    case Op::panic:
        return done(ctx, fw1::set_panic(*bus, r.on));
    case Op::reload:
        return done(ctx, fw1::reload(*bus));
    case Op::set_zone:
        return done(ctx, fw1::set_interface_zone(*bus, r.interface_name, r.zone));
    }
    return exit_ok;
}

std::vector<cli::Command> fw_commands(Context &ctx)
{
    return cli::verb_commands<FwRequest>("fw", verbs, [&ctx](alopex::Result<FwRequest> r) {
        return r ? run_fw(ctx, *r) : Context::usage_error(r.error());
    });
}

} // namespace alopexctl
