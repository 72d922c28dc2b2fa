// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.hpp"

#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace alopexctl {
namespace {

alopex::Result<uint64_t> parse_count(std::string_view s)
{
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        return alopex::failf(EINVAL, "--tail: not a non-negative integer: '{}'", s);
    return v;
}

// Splits "--opt=value" into ("--opt", "value").
std::pair<std::string_view, std::optional<std::string_view>> split_eq(std::string_view a)
{
    if (!a.starts_with("--"))
        return {a, std::nullopt};
    auto eq = a.find('=');
    if (eq == std::string_view::npos)
        return {a, std::nullopt};
    return {a.substr(0, eq), a.substr(eq + 1)};
}

} // namespace

alopex::Result<Options> parse_args(std::span<const std::string_view> args)
{
    Options o;
    std::vector<std::string_view> words;
    bool help = false, version = false, only_words = false;

    for (size_t i = 0; i < args.size(); i++) {
        std::string_view a = args[i];
        // wait-online's own options go to it unparsed.
        bool to_wait_online = !words.empty() && words[0] == "wait-online";
        // fw's options (--from, --zone, --expires, ...) go to its own parser; --json and
        // --help stay global.
        bool to_fw = !words.empty() && words[0] == "fw" && a != "--json" && a != "--help" && a != "-h";
        if (only_words || to_wait_online || to_fw || !a.starts_with("-") || a == "-") {
            words.push_back(a);
            continue;
        }
        auto [name, inline_value] = split_eq(a);
        auto value = [&](std::string_view opt) -> alopex::Result<std::string_view> {
            if (inline_value)
                return *inline_value;
            if (i + 1 >= args.size())
                return alopex::failf(EINVAL, "{}: missing value", opt);
            return args[++i];
        };
        if (name == "--") {
            only_words = true;
        } else if (name == "-h" || name == "--help") {
            help = true;
        } else if (name == "--version") {
            version = true;
        } else if (name == "--json") {
            if (inline_value)
                return alopex::failf(EINVAL, "--json takes no value");
            o.json = true;
        } else if (name == "--file" || name == "-f") {
            auto v = value("--file");
            if (!v)
                return std::unexpected(v.error());
            if (v->empty())
                return alopex::failf(EINVAL, "--file: empty path");
            o.file = std::string(*v);
        } else if (name == "--tail" || name == "-n") {
            auto v = value("--tail");
            if (!v)
                return std::unexpected(v.error());
            auto n = parse_count(*v);
            if (!n)
                return std::unexpected(n.error());
            o.tail = *n;
        } else {
            return alopex::failf(EINVAL, "unknown option '{}'", a);
        }
    }

    if (help) {
        o.command = Command::help;
        return o;
    }
    if (version) {
        o.command = Command::version;
        return o;
    }
    if (words.empty())
        return alopex::failf(EINVAL, "missing command");

    if (words[0] == "status") {
        if (words.size() > 1)
            return alopex::failf(EINVAL, "status: unexpected argument '{}'", words[1]);
        o.command = Command::status;
    } else if (words[0] == "ledger") {
        if (words.size() < 2)
            return alopex::failf(EINVAL, "ledger: missing subcommand (verify or show)");
        if (words[1] == "verify")
            o.command = Command::ledger_verify;
        else if (words[1] == "show")
            o.command = Command::ledger_show;
        else
            return alopex::failf(EINVAL, "ledger: unknown subcommand '{}'", words[1]);
        if (words.size() > 2)
            return alopex::failf(EINVAL, "ledger {}: unexpected argument '{}'", words[1], words[2]);
    } else if (words[0] == "link" || words[0] == "wait-online" || words[0] == "checkpoint" || words[0] == "fw") {
        o.command = words[0] == "link"         ? Command::link
                    : words[0] == "checkpoint" ? Command::checkpoint
                    : words[0] == "fw"         ? Command::fw
                                               : Command::wait_online;
        o.words.assign(words.begin() + 1, words.end());
    } else if (words[0] == "help") {
        o.command = Command::help;
        return o;
    } else {
        return alopex::failf(EINVAL, "unknown command '{}'", words[0]);
    }

    if (o.file && o.command == Command::status)
        return alopex::failf(EINVAL, "--file applies to the ledger commands only");
    if (o.tail && o.command != Command::ledger_show)
        return alopex::failf(EINVAL, "--tail applies to 'ledger show' only");
    return o;
}

std::string usage(std::string_view program)
{
    return fmt::format(
        "Usage: {0} [--json] COMMAND\n"
        "\n"
        "Inspect the alopex network suite.\n"
        "\n"
        "Commands:\n"
        "  status                   list the alopex daemons, whether each is on the\n"
        "                           system bus, and its version\n"
        "  ledger verify [--file PATH]\n"
        "                           recompute the audit ledger's hash chain; exit 1 and\n"
        "                           name the first broken record if it does not hold\n"
        "  ledger show [--file PATH] [--tail N]\n"
        "                           print the ledger's records (the last N with --tail)\n"
        "  link [list]              links with state, MTU, zone and addresses\n"
        "  link show LINK           one link in detail (LINK: a name or an index)\n"
        "  link up|down LINK        set the link administratively up or down\n"
        "  link set LINK mtu N | zone Z | name NEW\n"
        "  link addr add|del LINK ADDRESS/PREFIX\n"
        "  link route add|del TO [via GW] [dev LINK] [metric N] [table N]\n"
        "                           TO is a network or 'default'\n"
        "  link renew|release LINK  renew or release the DHCPv4 lease\n"
        "  link reload              re-read the link profiles\n"
        "  checkpoint create SECONDS  snapshot links, addresses and routes; rolled back\n"
        "                           unless confirmed within SECONDS (prints its path)\n"
        "  checkpoint confirm|rollback PATH\n"
        "  fw [status]              the firewall: panic, zones, generation, latency\n"
        "  fw zones                 zones with their interfaces, policies and addresses\n"
        "  fw rules                 configured and runtime rules (with their expiry)\n"
        "  fw allow|deny tcp|udp PORT[-PORT][,...] [--from CIDR,...|@SET] [--zone Z]\n"
        "           [--expires 1h|30m|90s|2d|SECONDS] [--comment TEXT] [deny: --reject]\n"
        "  fw allow|deny icmp|icmpv6 [TYPE,...] [options as above]\n"
        "                           add a runtime rule (prints its id)\n"
        "  fw forward tcp|udp PORT --to ADDRESS[:PORT] [--from ...] [--zone Z]\n"
        "           [--expires ...] [--comment TEXT]\n"
        "                           add a runtime port forward (prints its id)\n"
        "  fw remove ID             remove a runtime rule\n"
        "  fw panic on|off          drop everything but loopback and established traffic\n"
        "  fw reload                re-read firewall.toml\n"
        "  fw counters              packets, bytes and drops per zone and rule\n"
        "  fw set-zone INTERFACE ZONE|-\n"
        "                           put an interface in a zone at run time ('-' drops\n"
        "                           that assignment: linkd's zone or the patterns apply)\n"
        "  wait-online [--interface NAME]... [--any] [--timeout S]\n"
        "                           wait until the managed links are routable\n"
        "\n"
        "Options:\n"
        "  --json                   machine-readable output\n"
        "  -f, --file PATH          ledger file (default: $ALOPEX_LEDGER, else [ledger] path\n"
        "                           of broker.toml, else /var/lib/alopex/broker/ledger.jsonl)\n"
        "  -n, --tail N             only the last N records\n"
        "  -h, --help               this text\n"
        "      --version            print the version\n"
        "\n"
        "See alopexctl(1) and alopex(7).\n",
        program);
}

} // namespace alopexctl
