// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-ovs-agentd as a service: the Agent (agent.hpp) with what it needs from the
// broker — the ovsdb-server socket (OpenOvsdb), the /etc/network/interfaces block
// (WriteManagedBlock "interfaces", the configured tag; written when the agent's ports
// of the bridge changed, always the full set) and the suite's ledger (Record: every
// attach, detach, failure and bridge created) — and READY=1 once the first full sync
// converged.
#pragma once

#include <memory>
#include <string>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "agent.hpp"
#include "alopex/error.hpp"
#include "broker1_client.hpp"
#include "settings.hpp"

namespace alopex::ovs {

class Service {
public:
    static Result<std::unique_ptr<Service>> create(sd_event *event, sd_bus *bus, const Settings &settings);
    ~Service();
    Service(const Service &) = delete;
    Service &operator=(const Service &) = delete;

    Agent &agent() noexcept { return *agent_; }

private:
    Service(std::string tag) : tag_(std::move(tag)) {}
    void converged();
    void record(std::string action, std::string details);

    std::string tag_, bridge_;
    std::unique_ptr<ipc::broker1::Client> broker_;
    std::unique_ptr<ipc::broker1::Recorder> recorder_;
    std::unique_ptr<Agent> agent_;
    std::string written_;          // the block as the broker last took it
    bool writing_ = false, again_ = false, ready_ = false;
    std::string block_problem_;    // logged once until it changes
};

} // namespace alopex::ovs
