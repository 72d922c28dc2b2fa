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
#include "table.hpp"

namespace alopexctl {
namespace fw1 = alopex::ipc::firewall1;
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

bool valid_ifname(std::string_view s)
{
    if (s.empty() || s.size() > 15 || s == "." || s == "..")
        return false;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '/' || c == ':')
            return false;
    }
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

// allow | deny | forward: positional words and --options.
alopex::Result<FwRequest> parse_add(std::string_view sub, std::span<const std::string_view> w)
{
    bool forward = sub == "forward";
    std::vector<std::string_view> pos;
    std::map<std::string, std::string, std::less<>> opt;
    bool reject = false, only_words = false;
    std::array<std::string_view, 4> common{"--from", "--zone", "--expires", "--comment"};
    for (size_t i = 0; i < w.size(); i++) {
        std::string_view a = w[i];
        if (only_words || !a.starts_with("--")) {
            pos.push_back(a);
            continue;
        }
        if (a == "--") {
            only_words = true;
            continue;
        }
        auto eq = a.find('=');
        std::string_view name = a.substr(0, eq);
        if (name == "--reject" && sub == "deny") {
            if (eq != std::string_view::npos)
                return failf(EINVAL, "fw deny: --reject takes no value");
            reject = true;
            continue;
        }
        bool known = std::find(common.begin(), common.end(), name) != common.end() || (forward && name == "--to");
        if (!known)
            return failf(EINVAL, "fw {}: unknown option '{}'", sub, printable(name));
        std::string_view value;
        if (eq != std::string_view::npos)
            value = a.substr(eq + 1);
        else if (i + 1 < w.size())
            value = w[++i];
        else
            return failf(EINVAL, "fw {}: {}: missing value", sub, name);
        if (!opt.emplace(std::string(name), std::string(value)).second)
            return failf(EINVAL, "fw {}: {} given twice", sub, name);
    }

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

alopex::Result<FwRequest> parse_fw_args(std::span<const std::string_view> w)
{
    FwRequest r;
    if (w.empty())
        return r;
    std::string_view sub = w[0];
    auto rest = w.subspan(1);
    auto simple = [&](Op op) -> alopex::Result<FwRequest> {
        ALOPEX_TRY_VOID(no_more(sub, rest, 0));
        r.op = op;
        return r;
    };
    if (sub == "status")
        return simple(Op::status);
    if (sub == "zones")
        return simple(Op::zones);
    if (sub == "rules")
        return simple(Op::rules);
    if (sub == "counters")
        return simple(Op::counters);
    if (sub == "reload")
        return simple(Op::reload);
    if (sub == "allow" || sub == "deny" || sub == "forward")
        return parse_add(sub, rest);
    if (sub == "remove") {
        ALOPEX_TRY_VOID(no_more("remove ID", rest, 1));
        if (!parse_number(rest[0], r.id) || r.id == 0)
            return failf(EINVAL, "fw remove: not a rule id: '{}'", printable(rest[0]));
        r.op = Op::remove;
        return r;
    }
    if (sub == "panic") {
        ALOPEX_TRY_VOID(no_more("panic on|off", rest, 1));
        if (rest[0] != "on" && rest[0] != "off")
            return failf(EINVAL, "fw panic: expected 'on' or 'off', not '{}'", printable(rest[0]));
        r.op = Op::panic;
        r.on = rest[0] == "on";
        return r;
    }
    if (sub == "set-zone") {
        ALOPEX_TRY_VOID(no_more("set-zone INTERFACE ZONE", rest, 2));
        if (!valid_ifname(rest[0]))
            return failf(EINVAL, "fw set-zone: not an interface name: '{}'", printable(rest[0]));
        if (rest[1] != "-" && !rest[1].empty() && !valid_name(rest[1]))
            return failf(EINVAL, "fw set-zone: not a zone name: '{}'", printable(rest[1]));
        r.op = Op::set_zone;
        r.interface_name = std::string(rest[0]);
        r.zone = rest[1] == "-" ? "" : std::string(rest[1]);
        return r;
    }
    return failf(EINVAL, "fw: unknown subcommand '{}'", printable(sub));
}

namespace {

int report(const alopex::Error &e) { return report_error(e); }

uint64_t now_us()
{
    struct timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// A change that answers nothing: with --json, "{}" so that `| jq` always has a document.
int done(const alopex::Result<> &r, bool json)
{
    if (!r)
        return report(r.error());
    if (json)
        fmt::print("{{}}\n");
    return 0;
}

} // namespace

int run_fw(sd_bus *bus, const FwRequest &r, bool json)
{
    switch (r.op) {
    case Op::status:
    case Op::zones:
    case Op::rules: {
        auto state = fw1::read_state(bus);
        if (!state)
            return report(state.error());
        if (r.op == Op::zones) {
            fmt::print("{}", json ? format_fw_zones_json(*state) : format_fw_zones(*state));
            return 0;
        }
        auto runtime = fw1::list_runtime_rules(bus);
        if (!runtime)
            return report(runtime.error());
        if (r.op == Op::status)
            fmt::print("{}", json ? format_fw_status_json(*state, runtime->size())
                                  : format_fw_status(*state, runtime->size()));
        else
            fmt::print("{}", json ? format_fw_rules_json(*state, *runtime, now_us())
                                  : format_fw_rules(*state, *runtime, now_us()));
        return 0;
    }
    case Op::counters: {
        auto c = fw1::get_counters(bus);
        if (!c)
            return report(c.error());
        fmt::print("{}", json ? format_fw_counters_json(*c) : format_fw_counters(*c));
        return 0;
    }
    case Op::add: {
        auto id = fw1::add_rule(bus, r.spec, r.expires_s, r.comment);
        if (!id)
            return report(id.error());
        if (json)
            fmt::print("{{\"id\": {}}}\n", *id);
        else
            fmt::print("{}\n", *id);
        return 0;
    }
    case Op::remove:
        return done(fw1::remove_rule(bus, r.id), json);
    case Op::panic:
        return done(fw1::set_panic(bus, r.on), json);
    case Op::reload:
        return done(fw1::reload(bus), json);
    case Op::set_zone:
        return done(fw1::set_interface_zone(bus, r.interface_name, r.zone), json);
    }
    return 0;
}

} // namespace alopexctl
