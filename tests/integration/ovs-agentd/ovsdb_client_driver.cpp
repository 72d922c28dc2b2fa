// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-ovsdb-client SOCKET [PROBE_MS]: ovs-agentd's OVSDB connection against a
// real ovsdb-server, driven by the test over stdin/stdout (one socket). Events out, one
// line each: "synced bridges=N ports=N", "changed TABLE insert|modify|delete NAME",
// "lost WHY", "result ok" / "result error ERRNO MESSAGE", "pong". Commands in:
// "add-port BRIDGE PORT" (port_ops.hpp's attach_ops: guarded by a wait on Bridge.ports as
// the copy has them), "stale-add-port BRIDGE PORT" (the same, its wait on a ports set
// that is not the bridge's), "del-port BRIDGE PORT" (detach_ops), "attach-wait BRIDGE
// PORT" (attach_ops, then reconcile.hpp's confirmation once ovs-vswitchd applied it:
// "confirmed PORT ofport=N" or "failed PORT WHY"), "ping".
#include <cstdio>
#include <ctime>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "alopex/log.hpp"
#include "driver_io.hpp"
#include "ovsdb_connection.hpp"
#include "port_ops.hpp"
#include "reconcile.hpp"

using namespace alopex;
using namespace alopex::ovs;
using json = nlohmann::json;

namespace {

using driver_io::say;

OvsdbConnection *conn = nullptr;
Confirmations confirm;

uint64_t now()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}


std::string change_name(const ovsdb::Replica &r, const ovsdb::RowChange &c)
{
    const ovsdb::Row *row = c.kind == ovsdb::RowChange::Kind::Delete ? &c.removed : r.row(c.table, c.uuid);
    std::string name = row ? name_of(*row) : std::string();
    return name.empty() ? c.uuid.to_string() : name;
}

void report(Result<json> res)
{
    say(res ? std::string("result ok") : fmt::format("result error {} {}", res.error().code, res.error().message));
}

void run(Result<json> ops)
{
    if (!ops)
        return report(std::unexpected(ops.error()));
    conn->session().transact(*ops, report);
}

// attach_ops() as the agent builds it; `stale`: its wait expects a ports set the bridge
// does not have (what a transaction built on an old copy would carry).
void add_port(const std::string &bridge, const std::string &port, bool stale)
{
    const ovsdb::Replica *r = conn->session().replica();
    if (!r)
        return report(alopex::fail(ENOTCONN, "not synced"));
    auto ops = attach_ops(*r, bridge, {{port, "test-container", vmid_of(port), std::nullopt, {}}});
    if (ops && stale)
        (*ops)[0]["rows"][0]["ports"] = json::array({"set", json::array()});
    run(std::move(ops));
}

// attach_ops, then the confirmation: "confirmed PORT ofport=N" or "failed PORT WHY".
void attach_wait(const std::string &bridge, const std::string &port)
{
    const ovsdb::Replica *r = conn->session().replica();
    auto ops = r ? attach_ops(*r, bridge, {{port, "", vmid_of(port), std::nullopt, {}}})
                 : Result<json>(alopex::fail(ENOTCONN, "not synced"));
    if (!ops)
        return report(std::unexpected(ops.error()));
    conn->session().transact(*ops, [port](Result<json> res) {
        auto cfg = res ? next_cfg_of(*res) : std::nullopt;
        if (!cfg)
            return report(res ? Result<json>(alopex::fail(EBADMSG, "no next_cfg")) : res);
        confirm.expect(*cfg, {port}, now() + 10'000'000, [](Outcome o) {
            for (const auto &[name, ofport] : o.attached)
                say(fmt::format("confirmed {} ofport={}", name, ofport));
            for (const auto &[name, why] : o.failed)
                say(fmt::format("failed {} {}", name, why));
        });
        confirm.check(*conn->session().replica());
    });
}


void command(const std::string &line)
{
    auto sp = line.find(' '), sp2 = line.rfind(' ');
    std::string verb = line.substr(0, sp);
    if (verb == "ping")
        say("pong");
    else if ((verb == "add-port" || verb == "stale-add-port") && sp != std::string::npos && sp2 > sp)
        add_port(line.substr(sp + 1, sp2 - sp - 1), line.substr(sp2 + 1), verb == "stale-add-port");
    else if (verb == "attach-wait" && sp != std::string::npos && sp2 > sp)
        attach_wait(line.substr(sp + 1, sp2 - sp - 1), line.substr(sp2 + 1));
    else if (verb == "del-port" && sp != std::string::npos && sp2 > sp && conn->session().replica())
        run(detach_ops(*conn->session().replica(), line.substr(sp + 1, sp2 - sp - 1), {line.substr(sp2 + 1)}));
    else
        say("unknown command " + line);
}


} // namespace

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    std::string path = argv[1];
    uint64_t probe = argc > 2 ? std::stoull(argv[2]) * 1000 : 5'000'000;
    sd_event *e = nullptr;
    sd_event_default(&e);
    EventPtr event(e);
    ovsdb::SessionConfig config{"Open_vSwitch", monitored(), probe};
    ovsdb::Session::Callbacks cb;
    cb.synced = [] {
        const auto *r = conn->session().replica();
        say(fmt::format("synced bridges={} ports={}", r->rows("Bridge").size(), r->rows("Port").size()));
    };
    cb.changed = [](const std::vector<ovsdb::RowChange> &changes) {
        confirm.check(*conn->session().replica());
        static constexpr const char *kinds[] = {"insert", "modify", "delete"};
        for (const auto &c : changes)
            say(fmt::format("changed {} {} {}", c.table, kinds[static_cast<int>(c.kind)],
                            change_name(*conn->session().replica(), c)));
    };
    cb.lost = [](const std::string &why) { say("lost " + why); };
    auto c = OvsdbConnection::create(event.get(), OvsdbConnection::unix_socket(path), config, cb, {});
    if (!c) {
        say("error " + c.error().message);
        return 1;
    }
    conn = c->get();
    auto stdin_source = driver_io::read_commands(event.get(), command);
    auto tick_source =
        driver_io::every(event.get(), 100'000, [] { confirm.advance(now()); });
    return sd_event_loop(event.get()) < 0 ? 1 : 0;
}
