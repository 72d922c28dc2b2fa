// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-ovs-agentd on the bus: org.alopex.PortAgent1 at /org/alopex/PortAgent1
// (ipc/org.alopex.PortAgent1.xml) and nm-monitor's dev.ovs.PortAgent1 at
// /dev/ovs/PortAgent1 (ipc/dev.ovs.PortAgent1.xml, every method in PascalCase and in
// snake_case), both bound to the same handlers: arguments checked first (the error
// names the argument), then polkit (org.alopex.ovs.configure), then the Agent's
// request, answered when the database shows it done; every change recorded in the
// suite's ledger. Renames and deletions of links go through alopex-linkd
// (RenameLink, DeleteNetdev): the agent has no capability of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "agent.hpp"
#include "uplink.hpp"
#include "alopex/bus/client.hpp"
#include "alopex/bus/object.hpp"
#include "alopex/error.hpp"

namespace alopex::ipc::broker1 {
class Recorder;
}

namespace alopex::ovs {

class PortAgentBus {
public:
    // `reload`: reads the settings again and applies them (the reply's pending_restart).
    using Reload = std::function<Result<std::vector<std::string>>(std::string_view why)>;
    static Result<std::unique_ptr<PortAgentBus>> create(sd_event *event, sd_bus *bus, Agent &agent,
                                                        ipc::broker1::Recorder *recorder, Reload reload);
    ~PortAgentBus();
    PortAgentBus(const PortAgentBus &) = delete;
    PortAgentBus &operator=(const PortAgentBus &) = delete;

    // Takes both bus names (after everything is registered).
    Result<> request_names();
    // The Agent's events, as signals.
    void port_attached(const std::string &name, int64_t ofport);
    void port_detached(const std::string &name);
    void connection_changed();
    // After every sync with ovsdb-server (a pending uplink migration's deadline).
    void synced() { uplink_->resume(); }
    // Renames link `ifindex` through alopex-linkd (the agent's enable_rename,
    // CreateContainerInterface).
    void rename_link(int ifindex, const std::string &from, const std::string &to, std::function<void(Result<>)> done,
                     unsigned attempt = 0);

private:
    friend const bus::Vtable<PortAgentBus> &api_vtable();
    friend const bus::Vtable<PortAgentBus> &devovs_vtable();
    using Pending = std::shared_ptr<bus::PendingReply>;
    PortAgentBus(sd_event *event, sd_bus *bus, Agent &agent, ipc::broker1::Recorder *recorder, Reload reload)
        : agent_(agent), recorder_(recorder), reload_(std::move(reload)), service_(bus, event), linkd_(bus) {}

    // The checks every handler makes before polkit; each fails the call, naming the argument.
    const ovsdb::Replica *connected(bus::Call &c);
    bool check_link(bus::Call &c, const std::string &name, const char *arg);
    void record(const bus::Call &c, const char *action);

    void version(bus::Call &c);
    void list_ports(bus::Call &c);
    void list_port_names(bus::Call &c);
    void attach_port(bus::Call &c, std::string name, std::function<void(bus::PendingReply &, int64_t)> ok);
    void attach_ports(bus::Call &c, std::vector<std::string> names);
    void detach_port(bus::Call &c, std::string name);
    void create_interface(bus::Call &c, std::string raw, std::string container, uint32_t vmid,
                          std::function<void(bus::PendingReply &, const std::string &, int64_t)> ok);
    void remove_interface(bus::Call &c, std::string name, std::function<void(bus::PendingReply &)> ok);
    void plan(bus::Call &c);
    void migrate_uplink(bus::Call &c, std::string bridge, std::string nic, uint32_t timeout_s);
    void reload(bus::Call &c);
    Result<std::string> container_name(const std::string &raw, const std::string &container, uint32_t vmid) const;
    void delete_link(const std::string &name, Pending reply, std::function<void(bus::PendingReply &)> ok);
    // `fn` from the loop in `usec` (cancelled with this object).
    void later(uint64_t usec, std::function<void()> fn);
    static int on_later(sd_event_source *s, uint64_t, void *userdata) noexcept;

    Agent &agent_;
    ipc::broker1::Recorder *recorder_;
    Reload reload_;
    bus::Service service_;
    bus::Calls linkd_;
    bus::Registration api_, devovs_;
    std::unique_ptr<Uplink> uplink_;
    // later()'s timers; declared last, so they go before uplink_ (whose callbacks they hold).
    std::map<sd_event_source *, std::pair<EventSourcePtr, std::function<void()>>> later_;
};

} // namespace alopex::ovs
