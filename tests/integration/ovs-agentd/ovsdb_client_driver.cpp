// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-ovsdb-client SOCKET [PROBE_MS]: ovs-agentd's OVSDB connection against a
// real ovsdb-server, driven by the test over stdin/stdout (one socket). Events out, one
// line each: "synced bridges=N ports=N", "changed TABLE insert|modify|delete NAME",
// "lost WHY", "result ok" / "result error ERRNO MESSAGE", "pong". Commands in:
// "add-port BRIDGE PORT" (a transaction guarded the agent's way: wait on Bridge.ports as
// the replica has them, insert Interface and Port with named-uuids, add the Port to the
// bridge, bump next_cfg), "stale-add-port BRIDGE PORT" (the same, its wait on a ports set
// that is not the bridge's), "ping".
#include <cstdio>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "alopex/log.hpp"
#include "ovsdb_connection.hpp"

using namespace alopex;
using namespace alopex::ovs;
using json = nlohmann::json;

namespace {

OvsdbConnection *conn = nullptr;
std::string input;

void say(const std::string &line)
{
    std::string l = line + "\n";
    (void)!::write(STDOUT_FILENO, l.data(), l.size());
}

std::string name_of(const ovsdb::Replica &r, const ovsdb::RowChange &c)
{
    const ovsdb::Row *row = r.row(c.table, c.uuid);
    if (row && row->columns.contains("name"))
        if (const auto *a = row->get("name").single(); a && std::holds_alternative<std::string>(*a))
            return std::get<std::string>(*a);
    return c.uuid.to_string();
}

void add_port(const std::string &bridge, const std::string &port, bool stale)
{
    const ovsdb::Replica *r = conn->session().replica();
    const ovsdb::Row *br = nullptr;
    ovsdb::Uuid uuid;
    if (r)
        for (const auto &[u, row] : r->rows("Bridge"))
            if (row.get("name") == ovsdb::Datum::atom(bridge))
                br = &row, uuid = u;
    if (!br) {
        say("result error 2 no bridge " + bridge);
        return;
    }
    const auto &ports_type = *conn->session().schema()->table("Bridge")->column("ports");
    json ports = stale ? json::array({"set", json::array({json::array({"uuid", "00000000-0000-0000-0000-000000000001"})})})
                       : ovsdb::encode_datum(br->get("ports"), ports_type);
    json where = json::array({json::array({"_uuid", "==", json::array({"uuid", uuid.to_string()})})});
    json ops = json::array({
        {{"op", "wait"}, {"table", "Bridge"}, {"timeout", 0}, {"where", where}, {"columns", {"ports"}},
         {"until", "=="}, {"rows", json::array({{{"ports", ports}}})}},
        {{"op", "insert"}, {"table", "Interface"}, {"row", {{"name", port}}}, {"uuid-name", "iface"}},
        {{"op", "insert"}, {"table", "Port"}, {"uuid-name", "port"},
         {"row", {{"name", port}, {"interfaces", json::array({"named-uuid", "iface"})},
                  {"external_ids", json::array({"map", json::array({json::array({"alopex-owner", "test"})})})}}}},
        {{"op", "mutate"}, {"table", "Bridge"}, {"where", where},
         {"mutations", json::array({json::array({"ports", "insert", json::array({"named-uuid", "port"})})})}},
        {{"op", "mutate"}, {"table", "Open_vSwitch"}, {"where", json::array()},
         {"mutations", json::array({json::array({"next_cfg", "+=", 1})})}},
    });
    conn->session().transact(ops, [](Result<json> res) {
        say(res ? std::string("result ok") : fmt::format("result error {} {}", res.error().code, res.error().message));
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
    else
        say("unknown command " + line);
}

int on_stdin(sd_event_source *s, int fd, uint32_t, void *) noexcept
{
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
        sd_event_exit(sd_event_source_get_event(s), 0);
        return 0;
    }
    input.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = input.find('\n')) != std::string::npos;) {
        std::string line = input.substr(0, nl);
        input.erase(0, nl + 1);
        command(line);
    }
    return 0;
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
    ovsdb::SessionConfig config{"Open_vSwitch",
                                {{"Open_vSwitch", {"bridges", "next_cfg", "cur_cfg"}},
                                 {"Bridge", {"name", "ports", "datapath_type", "external_ids"}},
                                 {"Port", {"name", "interfaces", "tag", "external_ids"}},
                                 {"Interface", {"name", "type", "ofport", "error"}}},
                                probe};
    ovsdb::Session::Callbacks cb;
    cb.synced = [] {
        const auto *r = conn->session().replica();
        say(fmt::format("synced bridges={} ports={}", r->rows("Bridge").size(), r->rows("Port").size()));
    };
    cb.changed = [](const std::vector<ovsdb::RowChange> &changes) {
        static constexpr const char *kinds[] = {"insert", "modify", "delete"};
        for (const auto &c : changes)
            say(fmt::format("changed {} {} {}", c.table, kinds[static_cast<int>(c.kind)],
                            name_of(*conn->session().replica(), c)));
    };
    cb.lost = [](const std::string &why) { say("lost " + why); };
    auto c = OvsdbConnection::create(event.get(), [path] { return OvsdbConnection::connect_unix(path); }, config, cb,
                                     {});
    if (!c) {
        say("error " + c.error().message);
        return 1;
    }
    conn = c->get();
    sd_event_source *in = nullptr;
    sd_event_add_io(event.get(), &in, STDIN_FILENO, EPOLLIN, on_stdin, nullptr);
    EventSourcePtr stdin_source(in);
    return sd_event_loop(event.get()) < 0 ? 1 : 0;
}
