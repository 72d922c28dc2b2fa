// SPDX-License-Identifier: GPL-2.0-or-later
#include "service.hpp"

#include <nlohmann/json.hpp>

#include "alopex/log.hpp"
#include "alopex/notify.hpp"
#include "block.hpp"

namespace alopex::ovs {

using json = nlohmann::json;

Result<std::unique_ptr<Service>> Service::create(sd_event *event, sd_bus *bus, const Settings &s,
                                                std::string config_file)
{
    std::unique_ptr<Service> svc(new Service(s.block_tag, std::move(config_file)));
    Service *self = svc.get();
    svc->bridge_ = s.bridge;
    svc->event_ = event;
    svc->broker_ = std::make_unique<ipc::broker1::Client>(bus);
    ALOPEX_TRY(recorder, ipc::broker1::Recorder::create(bus, event));
    svc->recorder_ = std::move(recorder);
    AgentConfig config{s};
    Agent::Events ev;
    ev.attached = [self](const std::string &port, int64_t ofport) {
        self->record("ovs.attach", json{{"bridge", self->bridge_}, {"port", port}, {"ofport", ofport}}.dump());
        self->bus_->port_attached(port, ofport);
    };
    ev.detached = [self](const std::string &port) {
        self->record("ovs.detach", json{{"bridge", self->bridge_}, {"port", port}}.dump());
        self->bus_->port_detached(port);
    };
    ev.connection = [self](bool up) {
        self->bus_->connection_changed();
        if (up)
            self->bus_->synced();
    };
    ev.rename = [self](int ifindex, const std::string &from, const std::string &to,
                       std::function<void(Result<>)> done) {
        self->bus_->rename_link(ifindex, from, to, [self, from, to, done](Result<> r) {
            if (r)
                self->record("ovs.rename", json{{"from", from}, {"to", to}}.dump());
            done(std::move(r));
        });
    };
    ev.failed = [self](const std::string &port, const std::string &why) {
        self->record("ovs.attach.failed", json{{"bridge", self->bridge_}, {"port", port}, {"why", why}}.dump());
    };
    ev.bridge_created = [self](const std::string &bridge) {
        self->record("ovs.bridge.create", json{{"bridge", bridge}}.dump());
        if (self->flows_)
            self->flows_->retry_now();
    };
    ev.converged = [self] { self->converged(); };
    auto *broker = svc->broker_.get();
    ALOPEX_TRY(agent, Agent::create(event, config,
                                    [broker](OvsdbConnection::Connected done) { broker->open_ovsdb(std::move(done)); },
                                    std::move(ev)));
    svc->agent_ = std::move(agent);
    ALOPEX_TRY(api, PortAgentBus::create(event, bus, *svc->agent_, svc->recorder_.get(),
                                         [self](std::string_view why) { return self->reload(why); }));
    svc->bus_ = std::move(api);
    ALOPEX_TRY_VOID(svc->follow_flows(s));
    ALOPEX_TRY_VOID(svc->bus_->request_names());
    return svc;
}

// [flows]: programmed while enabled; turned off, the LOCAL flows go (NORMAL stays, as it
// is ovs-vswitchd's own default).
Result<> Service::follow_flows(const Settings &s)
{
    auto flows = base_flows(s);
    if (flows_) {
        flows_->set(std::move(flows));
        return {};
    }
    if (flows.empty())
        return {};
    auto *broker = broker_.get();
    std::string bridge = bridge_;
    auto connect = [broker, bridge](StreamConnection::Connected done) {
        broker->open_ovs_bridge(bridge, std::move(done));
    };
    ALOPEX_TRY(f, BaseFlows::create(event_, bridge, std::move(connect), std::move(flows), {}));
    flows_ = std::move(f);
    return {};
}

Result<std::vector<std::string>> Service::reload(std::string_view why)
{
    ALOPEX_TRY(next, load_settings(config_file_));
    const Settings &cur = agent_->settings();
    std::vector<std::string> pending;
    if (next.bridge != cur.bridge)
        pending.push_back("bridge_name");
    if (next.create_bridge != cur.create_bridge || next.datapath_type != cur.datapath_type)
        pending.push_back("bridge");
    if (next.block_tag != cur.block_tag)
        pending.push_back("managed_block_tag");
    agent_->update_settings(next);
    if (auto f = follow_flows(next); !f)
        log::warning("base flows: {}", f.error().message);
    log::info("reloaded {} ({}){}", config_file_, why,
              pending.empty() ? "" : fmt::format("; {} take effect at the next start", fmt::join(pending, ", ")));
    return pending;
}

Service::~Service() = default;

void Service::record(std::string action, std::string details)
{
    recorder_->record(std::move(action), std::move(details));
}

// The bridge holds what it should: the block follows (one write at a time, the latest
// set after it), and the first time, READY=1.
void Service::converged()
{
    if (!ready_) {
        ready_ = true;
        notify::ready(fmt::format("keeping ports on {}", bridge_));
        log::info("synced: the ports of {} follow the links", bridge_);
    }
    const auto *r = agent_->ovsdb().session().replica();
    if (!r)
        return;
    std::string block = render_block(bridge_, block_ports(*r, bridge_));
    if (block == written_)
        return;
    if (writing_) {
        again_ = true;
        return;
    }
    writing_ = true;
    broker_->write_managed_block("interfaces", tag_, block, [this, block](Result<> res) {
        writing_ = false;
        if (res) {
            written_ = block;
            block_problem_.clear();
        } else if (res.error().message != block_problem_) {
            block_problem_ = res.error().message;
            log::warning("the /etc/network/interfaces block (tag {}): {}", tag_, res.error().message);
        }
        if (std::exchange(again_, false) && res)
            converged();   // the set changed while the broker wrote the last one
    });
}

} // namespace alopex::ovs
