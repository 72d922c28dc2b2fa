// SPDX-License-Identifier: GPL-2.0-or-later
#include "slirp_cmd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/fd.hpp"
#include "fw_cmd.hpp"

namespace alopexctl {
namespace s1 = alopex::ipc::slirp1;
namespace cli = alopex::cli;
using alopex::failf;
using cli::Cell;
using Op = SlirpRequest::Op;

namespace {

// "10.0.0.1:22", "[fe80::1]:22": an address the bus gives as text, and a port.
std::string endpoint_text(const std::string &address, uint16_t port)
{
    return address.find(':') != std::string::npos ? fmt::format("[{}]:{}", address, port)
                                                  : fmt::format("{}:{}", address, port);
}

template <Op O> alopex::Result<SlirpRequest> optional_instance(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 0, 1, "slirp", O == Op::status ? "status [INSTANCE]" : "connections [INSTANCE]"));
    return SlirpRequest{.op = O, .instance = a.words.empty() ? "" : std::string(a.words[0])};
}

alopex::Result<SlirpRequest> parse_close(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 2, 2, "slirp", "close INSTANCE ID"));
    uint64_t id = 0;
    std::string_view s = a.words[1];
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        return failf(EINVAL, "slirp close: ID must be a connection id, not '{}'", cli::printable(s));
    return SlirpRequest{.op = Op::close, .instance = std::string(a.words[0]), .id = id};
}

alopex::Result<SlirpRequest> parse_reload(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 1, 1, "slirp", "reload INSTANCE"));
    return SlirpRequest{.op = Op::reload, .instance = std::string(a.words[0])};
}

constexpr std::string_view for_opt = "--for";
const cli::OptionSpec options[] = {{for_opt, 0, "DURATION", "slirp capture: how long (default 30s, at most 1h)"}};

alopex::Result<SlirpRequest> parse_capture(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 1, 2, "slirp", "capture [INSTANCE] FILE"));
    SlirpRequest r{.op = Op::capture};
    r.instance = a.words.size() == 2 ? std::string(a.words[0]) : "";
    r.file = std::string(a.words.back());
    if (auto v = a.value(for_opt)) {
        auto d = parse_duration(*v);
        if (!d || *d < 1 || *d > 3600)
            return failf(EINVAL, "slirp capture: --for: a duration from 1s to 1h (90, 90s, 5m), not '{}'",
                         cli::printable(*v));
        r.seconds = *d;
    }
    return r;
}

const cli::Verb<SlirpRequest> verbs[] = {
    {{"status"}, "[INSTANCE]", "the lines: device, link phase, peer, connections", optional_instance<Op::status>, {}, true},
    {{"connections"}, "[INSTANCE]", "TCP connections through the lines", optional_instance<Op::connections>},
    {{"close"}, "INSTANCE ID", "reset a connection both ways", parse_close},
    {{"reload"}, "INSTANCE", "re-read the instance's alopex-slirp.toml", parse_reload},
    {{"capture"}, "[INSTANCE] FILE [--for DURATION]", "the line's frames into FILE as pcap (PPP with direction)",
     parse_capture, {for_opt}},
};

std::string duration_us(uint64_t us)
{
    if (us < 1000)
        return fmt::format("{}us", us);
    if (us < 1'000'000)
        return fmt::format("{:.1f}ms", us / 1000.0);
    if (us < 60'000'000)
        return fmt::format("{:.1f}s", us / 1e6);
    return fmt::format("{}s", us / 1'000'000);
}

nlohmann::json line_json(const s1::LineInfo &l)
{
    auto maps = nlohmann::json::array();
    for (const auto &[proto, addr, port, target] : l.port_maps)
        maps.push_back({{"protocol", proto}, {"address", addr}, {"port", port}, {"target", target}});
    auto backends = nlohmann::json::array();
    for (const auto &[addr, port, target, state, in_a_row, connects, failed] : l.backends)
        backends.push_back({{"address", addr}, {"port", port}, {"backend", target}, {"state", state},
                            {"failures_in_a_row", in_a_row}, {"connects", connects}, {"failed", failed}});
    auto listeners = nlohmann::json::array();
    for (const auto &[configured, bound, target, accepted] : l.listeners)
        listeners.push_back({{"configured", configured}, {"listening", bound}, {"destination", target},
                             {"connections", accepted}});
    return {{"instance", l.instance},         {"service", l.where.service},  {"device", l.device},
            {"mode", l.mode},                 {"dns_servers", l.dns_servers}, {"listeners", listeners},
            {"line_open", l.line_open},       {"phase", l.phase},            {"local_address", l.local_address},
            {"peer_address", l.peer_address}, {"options", l.options},        {"echo_rtt_usec", l.echo_rtt_usec},
            {"connections", l.connections},   {"port_maps", maps},           {"backends", backends},
            {"counters", l.counters}};
}

// The instances the request names: one (by name) or all on the bus.
alopex::Result<std::vector<s1::Instance>> instances(sd_bus *bus, const std::string &name)
{
    if (name.empty())
        return s1::list_instances(bus);
    ALOPEX_TRY(i, s1::instance_of(name));
    return std::vector<s1::Instance>{i};
}

} // namespace

std::span<const cli::OptionSpec> slirp_options()
{
    return options;
}

alopex::Result<SlirpRequest> parse_slirp_args(std::span<const std::string_view> words)
{
    ALOPEX_TRY(args, cli::parse_args(words, options, "slirp"));
    return cli::parse_verb<SlirpRequest>("slirp", verbs, args);
}

cli::Document slirp_status_document(const std::vector<s1::LineInfo> &lines)
{
    cli::Section s({"INSTANCE", "DEVICE", "LINE", "PHASE", "PEER", "CONNECTIONS", {"MODE", false}, {"LOCAL", false},
                    {"ECHO RTT", false}, {"MRU", false}, {"PORT MAPS", false}, {"LISTEN", false},
                    {"SERVICE", false}});
    s.json_key = "instances";
    for (const auto &l : lines) {
        std::vector<std::string> maps;
        for (const auto &[proto, addr, port, target] : l.port_maps)
            maps.push_back(fmt::format("{} {} -> {}", proto, endpoint_text(addr, port), target));
        std::vector<std::string> listen;
        for (const auto &[configured, bound, target, accepted] : l.listeners)
            listen.push_back(configured == bound ? fmt::format("{} -> {}", bound, target)
                                                 : fmt::format("{} (for {}) -> {}", bound, configured, target));
        auto mru = l.options.find("send-mru");
        s.add({l.instance, l.device, l.line_open ? "open" : "closed", l.phase,
               l.peer_address.empty() ? Cell::none() : Cell(l.peer_address), l.connections, l.mode,
               l.local_address.empty() ? Cell::none() : Cell(l.local_address),
               l.echo_rtt_usec ? Cell(duration_us(l.echo_rtt_usec)) : Cell::none(),
               mru == l.options.end() ? Cell::none() : Cell(mru->second), Cell::list(maps), Cell::list(listen),
               l.where.service},
              line_json(l));
    }
    cli::Document doc;
    doc.sections.push_back(std::move(s));
    return doc;
}

cli::Document slirp_connections_document(
    const std::vector<std::pair<std::string, std::vector<s1::ConnectionInfo>>> &by_instance)
{
    cli::Section s({"INSTANCE", "ID", "PEER", "DESTINATION", "TARGET", "STATE", "IN", "OUT", "IDLE", {"QUEUED", false}});
    s.json_key = "connections";
    for (const auto &[instance, conns] : by_instance)
        for (const auto &c : conns) {
            nlohmann::json j{{"instance", instance},  {"id", c.id},
                             {"peer", c.peer},          {"peer_port", c.peer_port},
                             {"destination", c.destination}, {"destination_port", c.destination_port},
                             {"target", c.target},      {"state", c.state},
                             {"bytes_from_peer", c.bytes_from_peer}, {"bytes_to_peer", c.bytes_to_peer},
                             {"idle_usec", c.idle_usec}, {"queue_delay_usec", c.queue_delay_usec}};
            s.add({instance, c.id, endpoint_text(c.peer, c.peer_port), endpoint_text(c.destination, c.destination_port),
                   c.target, c.state, c.bytes_from_peer, c.bytes_to_peer, duration_us(c.idle_usec),
                   duration_us(c.queue_delay_usec)},
                  j);
        }
    cli::Document doc;
    doc.sections.push_back(std::move(s));
    return doc;
}

namespace {

// The instance writes into a pipe; what comes out goes to the file (as the caller, who
// may write where the daemon may not) until the instance closes its end.
int run_capture(Context &ctx, sd_bus *bus, const s1::Instance &instance, const SlirpRequest &r)
{
    bool to_stdout = r.file == "-";
    alopex::Fd out(to_stdout ? dup(STDOUT_FILENO) : open(r.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!out)
        return Context::fail({errno, fmt::format("{}: {}", cli::printable(r.file), strerror(errno)), {}});
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return Context::fail({errno, fmt::format("pipe: {}", strerror(errno)), {}});
    alopex::Fd rd(p[0]), wr(p[1]);
    if (auto c = s1::capture(bus, instance, wr.get(), r.seconds); !c)
        return Context::fail(c.error());
    wr = alopex::Fd();
    uint64_t total = 0;
    char buf[65536];
    for (;;) {
        ssize_t n = read(rd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out.get(), buf + done, static_cast<size_t>(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return Context::fail({errno, fmt::format("{}: {}", cli::printable(r.file), strerror(errno)), {}});
            done += w;
        }
        total += static_cast<uint64_t>(n);
    }
    if (to_stdout)
        return exit_ok;
    cli::Section s({"FILE", "BYTES", "SECONDS"});
    s.json_key = "capture";
    s.add({r.file, total, r.seconds}, nlohmann::json{{"file", r.file}, {"bytes", total}, {"seconds", r.seconds}});
    cli::Document doc;
    doc.sections.push_back(std::move(s));
    return ctx.print(doc);
}

} // namespace

int run_slirp(Context &ctx, const SlirpRequest &r)
{
    auto bus = ctx.bus();
    if (!bus)
        return Context::fail(bus.error());
    auto which = instances(*bus, r.instance);
    if (!which)
        return Context::fail(which.error());
    switch (r.op) {
    case Op::status: {
        std::vector<s1::LineInfo> lines;
        for (const auto &i : *which) {
            auto l = s1::read_line(*bus, i);
            if (!l)
                return Context::fail(l.error());
            lines.push_back(std::move(*l));
        }
        return ctx.print(slirp_status_document(lines));
    }
    case Op::connections: {
        std::vector<std::pair<std::string, std::vector<s1::ConnectionInfo>>> all;
        for (const auto &i : *which) {
            auto c = s1::list_connections(*bus, i);
            if (!c)
                return Context::fail(c.error());
            all.emplace_back(i.service.substr(i.service.rfind('.') + 1), std::move(*c));
        }
        return ctx.print(slirp_connections_document(all));
    }
    case Op::close: {
        auto c = s1::close_connection(*bus, which->front(), r.id);
        return c ? ctx.print(cli::Document()) : Context::fail(c.error());
    }
    case Op::capture:
        if (which->size() != 1)
            return Context::usage_error(alopex::Error{EINVAL,
                                                      fmt::format("slirp capture: {} instances run; name one",
                                                                  which->size()),
                                                      {}});
        return run_capture(ctx, *bus, which->front(), r);
    case Op::reload: {
        auto p = s1::reload(*bus, which->front());
        if (!p)
            return Context::fail(p.error());
        return ctx.print(pending_restart_document(*p));
    }
    }
    return exit_ok;
}

std::vector<cli::Command> slirp_commands(Context &ctx)
{
    return cli::verb_commands<SlirpRequest>("slirp", verbs, [&ctx](alopex::Result<SlirpRequest> r) {
        return r ? run_slirp(ctx, *r) : Context::usage_error(r.error());
    });
}

} // namespace alopexctl
