// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-ovs-agent SOCKET BRIDGE [DEBOUNCE_MS]: ovs-agentd's Agent (rtnetlink and
// OVSDB kept in step) against a real ovsdb-server and ovs-vswitchd, driven by the test
// over stdin/stdout (one socket). Out: "attached NAME ofport=N", "detached NAME",
// "failed NAME WHY", "settled" (each time it becomes so). In: "plan" (answered
// "plan attach=A,B detach=C elsewhere=D"), "stats" ("stats transactions=N retries=N
// failures=N attached=N detached=N"), "ping".
#include <string>

#include <unistd.h>

#include "agent.hpp"
#include "driver_io.hpp"
#include "alopex/log.hpp"

using namespace alopex;
using namespace alopex::ovs;

namespace {

using driver_io::say;

Agent *agent = nullptr;
bool was_settled = false;


std::string joined(const std::vector<std::string> &v)
{
    std::string out;
    for (const auto &s : v)
        out += (out.empty() ? "" : ",") + s;
    return out;
}

void command(const std::string &line)
{
    if (line == "ping") {
        say("pong");
    } else if (line == "plan") {
        Plan p = agent->plan_now();
        std::vector<std::string> attach;
        for (const auto &s : p.attach)
            attach.push_back(s.name);
        say(fmt::format("plan attach={} detach={} elsewhere={}", joined(attach), joined(p.detach), joined(p.elsewhere)));
    } else if (line == "stats") {
        const auto &s = agent->stats();
        say(fmt::format("stats transactions={} retries={} failures={} attached={} detached={}", s.transactions,
                        s.retries, s.failures, s.attached, s.detached));
    } else {
        say("unknown command " + line);
    }
}


void tick()
{
    bool settled = agent->settled();
    if (settled && !was_settled)
        say("settled");
    was_settled = settled;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    sd_event *e = nullptr;
    sd_event_default(&e);
    EventPtr event(e);
    AgentConfig config;
    config.settings.bridge = argv[2];
    if (argc > 3)
        config.settings.debounce_usec = std::stoull(argv[3]) * 1000;
    Agent::Events ev;
    ev.attached = [](const std::string &n, int64_t ofport) { say(fmt::format("attached {} ofport={}", n, ofport)); };
    ev.detached = [](const std::string &n) { say("detached " + n); };
    ev.failed = [](const std::string &n, const std::string &why) { say(fmt::format("failed {} {}", n, why)); };
    auto a = Agent::create(event.get(), config, OvsdbConnection::unix_socket(argv[1]), ev);
    if (!a) {
        say("error " + a.error().message);
        return 1;
    }
    agent = a->get();
    auto stdin_source = driver_io::read_commands(event.get(), command);
    auto tick_source = driver_io::every(event.get(), 5'000, tick);
    return sd_event_loop(event.get()) < 0 ? 1 : 0;
}
