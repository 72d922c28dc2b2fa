// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-unbound-control SOCKET [TIMEOUT_MS [MAX_REPLY]]: dnsd-controller's unbound
// client (unbound::Client) against a real unbound (or a fake one), driven over
// stdin/stdout (one socketpair). In:
//   "cmd COMMAND"            -> "reply N" then N lines "| LINE", or "error MESSAGE"
//   "status"                 -> "status version=V pid=P reload_keep_cache=0|1 forward_tls=0|1"
//   "stats"                  -> "stats queries=Q hits=H nxdomain=X p50=S p99=S"
//   "block N SUFFIX"         -> local_zones of "b<i>.SUFFIX always_nxdomain", i < N, as
//                               one bulk: "bulk added=A errors=E ms=T"
//   "unblock N SUFFIX"       -> local_zones_remove of the same: "bulk removed=R errors=E ms=T"
//   "bulk K COMMAND" + K lines -> the reply as for "cmd"
//   "many N COMMAND"         -> COMMAND queued N times at once: "many ok=O failed=F"
//   "apply N SUFFIX"         -> the blocklist b<i>.SUFFIX, i < N, brought in by the chunked
//                               Applier: "applied added=A removed=R chunks=C longest_ms=L ms=T"
//   "include DNS_TOML [DNSTAP_SOCKET]" -> the base include made of that dns.toml: "include N"
//                               then N lines "| LINE", or "error MESSAGE"
//   "ping"                   -> "pong" (the loop answers while a command waits)
#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base_include.hpp"
#include "blocklist/applier.hpp"
#include "driver_io.hpp"
#include "unbound/client.hpp"

using namespace alopex;
using namespace alopex::dns::unbound;
using driver_io::say;

namespace {

Client *client = nullptr;
alopex::dns::Applier *applier = nullptr;
struct PendingBulk {
    size_t want = 0;
    std::string command;
    std::vector<std::string> lines;
} pending;

void print_reply(const Result<Reply> &r)
{
    if (!r) {
        say("error " + r.error().message);
        return;
    }
    say(fmt::format("reply {}", r->lines.size()));
    for (const auto &l : r->lines)
        say("| " + l);
}

double ms_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void block(bool add, size_t n, const std::string &suffix)
{
    std::vector<std::string> lines;
    lines.reserve(n);
    for (size_t i = 0; i < n; ++i)
        lines.push_back(add ? fmt::format("b{}.{} always_nxdomain", i, suffix) : fmt::format("b{}.{}", i, suffix));
    auto t0 = std::chrono::steady_clock::now();
    client->bulk(add ? "local_zones" : "local_zones_remove", std::move(lines), [add, t0](Result<Reply> r) {
        if (!r)
            return say("error " + r.error().message);
        auto count = bulk_count(*r, "local_zones");
        say(fmt::format("bulk {}={} errors={} ms={:.0f}", add ? "added" : "removed", count ? *count : 0,
                        r->errors().size(), ms_since(t0)));
    });
}

void command(const std::string &line)
{
    if (pending.want) {
        pending.lines.push_back(line);
        if (--pending.want == 0)
            client->bulk(std::move(pending.command), std::move(pending.lines), print_reply);
        return;
    }
    auto word = line.substr(0, line.find(' '));
    auto rest = line.size() > word.size() ? line.substr(word.size() + 1) : std::string();
    if (line == "ping") {
        say("pong");
    } else if (word == "cmd") {
        client->command(rest, print_reply);
    } else if (line == "status") {
        client->command("status", [](Result<Reply> r) {
            auto s = r ? parse_status(*r) : Result<Status>(std::unexpected(r.error()));
            if (!s)
                return say("error " + s.error().message);
            auto f = features_of(s->version);
            say(fmt::format("status version={} pid={} reload_keep_cache={} forward_tls={}", s->version.to_string(),
                            s->pid, int(f.reload_keep_cache), int(f.forward_tls_flag)));
        });
    } else if (line == "stats") {
        client->command("stats_noreset", [](Result<Reply> r) {
            auto s = r ? parse_stats(*r) : Result<Stats>(std::unexpected(r.error()));
            if (!s)
                return say("error " + s.error().message);
            auto get = [&](const char *k) { return s->contains(k) ? s->find(k)->second : -1.0; };
            auto h = histogram(*s);
            say(fmt::format("stats queries={} hits={} nxdomain={} p50={:.6f} p99={:.6f} buckets={}",
                            get("total.num.queries"), get("total.num.cachehits"), get("num.answer.rcode.NXDOMAIN"),
                            quantile(h, 0.5), quantile(h, 0.99), h.size()));
        });
    } else if (word == "block" || word == "unblock") {
        auto sp = rest.find(' ');
        block(word == "block", std::stoul(rest.substr(0, sp)), rest.substr(sp + 1));
    } else if (word == "apply") {
        auto sp = rest.find(' ');
        size_t n = std::stoul(rest.substr(0, sp));
        std::vector<std::string> names;
        for (size_t i = 0; i < n; ++i)
            names.push_back(fmt::format("b{}.{}", i, rest.substr(sp + 1)));
        applier->apply(alopex::dns::desired_zones(names, {}), [](Result<alopex::dns::ApplyReport> r) {
            if (!r)
                return say("error " + r.error().message);
            say(fmt::format("applied added={} removed={} chunks={} longest_ms={:.1f} ms={:.0f}", r->added, r->removed,
                            r->chunks, r->longest_chunk_usec / 1e3, r->took_usec / 1e3));
        });
    } else if (word == "include") {
        auto sp = rest.find(' ');
        auto settings = alopex::dns::load_settings(rest.substr(0, sp));
        if (!settings)
            return say("error " + settings.error().message);
        auto text = alopex::dns::base_include(*settings, sp == std::string::npos ? "" : rest.substr(sp + 1));
        auto r = parse_reply(text);
        say(fmt::format("include {}", r->lines.size()));
        for (const auto &l : r->lines)
            say("| " + l);
    } else if (word == "bulk") {
        auto sp = rest.find(' ');
        pending.want = std::stoul(rest.substr(0, sp));
        pending.command = rest.substr(sp + 1);
        pending.lines.clear();
        if (pending.want == 0)
            client->bulk(std::move(pending.command), {}, print_reply);
    } else if (word == "many") {
        auto sp = rest.find(' ');
        size_t n = std::stoul(rest.substr(0, sp));
        auto counts = std::make_shared<std::pair<size_t, size_t>>(0, 0);
        for (size_t i = 0; i < n; ++i)
            client->command(rest.substr(sp + 1), [counts, n](Result<Reply> r) {
                ++(r && expect_ok(*r, "x") ? counts->first : counts->second);
                if (counts->first + counts->second == n)
                    say(fmt::format("many ok={} failed={}", counts->first, counts->second));
            });
    } else {
        say("unknown command " + line);
    }
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    sd_event *e = nullptr;
    sd_event_default(&e);
    EventPtr event(e);
    ClientOptions o;
    o.socket = argv[1];
    if (argc > 2)
        o.timeout_usec = o.bulk_timeout_usec = std::stoull(argv[2]) * 1000;
    if (argc > 3)
        o.max_reply = std::stoull(argv[3]);
    auto c = Client::create(event.get(), o);
    if (!c) {
        say("error " + c.error().message);
        return 1;
    }
    client = c->get();
    alopex::dns::Applier a(*client);
    applier = &a;
    auto in = driver_io::read_commands(event.get(), command);
    say("ready");
    return sd_event_loop(event.get()) < 0 ? 1 : 0;
}
