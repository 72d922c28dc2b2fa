// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-ovs-agentd as a service: the Agent (agent.hpp) with what it needs from the
// broker — the ovsdb-server socket (OpenOvsdb), the /etc/network/interfaces block
// (WriteManagedBlock "interfaces", the configured tag; written when the agent's ports
// of the bridge changed, always the full set) and the suite's ledger (Record: every
// attach, detach, failure and bridge created) — the bridge's base OpenFlow flows
// (base_flows.hpp, on the broker's OpenOvsBridge socket), its D-Bus API (bus_api.hpp), the
// settings read again on Reload or SIGHUP, and READY=1 once the first full sync
// converged.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "agent.hpp"
#include "base_flows.hpp"
#include "alopex/error.hpp"
#include "broker1_client.hpp"
#include "bus_api.hpp"
#include "settings.hpp"

namespace alopex::ovs {

class Service {
public:
    // `config_file`: where `settings` came from (read again by reload()).
    static Result<std::unique_ptr<Service>> create(sd_event *event, sd_bus *bus, const Settings &settings,
                                                   std::string config_file);
    ~Service();
    Service(const Service &) = delete;
    Service &operator=(const Service &) = delete;

    Agent &agent() noexcept { return *agent_; }
    // Reads the settings file again: what applies live is applied; the reply names what
    // waits for a restart. An invalid file changes nothing.
    Result<std::vector<std::string>> reload(std::string_view why);

private:
    Service(std::string tag, std::string config_file) : tag_(std::move(tag)), config_file_(std::move(config_file)) {}
    void converged();
    void record(std::string action, std::string details);
    Result<> follow_flows(const Settings &s);

    sd_event *event_ = nullptr;
    std::string tag_, config_file_, bridge_;
    std::unique_ptr<ipc::broker1::Client> broker_;
    std::unique_ptr<ipc::broker1::Recorder> recorder_;
    std::unique_ptr<Agent> agent_;
    std::unique_ptr<PortAgentBus> bus_;
    std::unique_ptr<BaseFlows> flows_;   // [flows] enable
    std::string written_;          // the block as the broker last took it
    bool writing_ = false, again_ = false, ready_ = false;
    std::string block_problem_;    // logged once until it changes
};

} // namespace alopex::ovs
