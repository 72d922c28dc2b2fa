// SPDX-License-Identifier: GPL-2.0-or-later
// MigrateUplink (org.alopex.PortAgent1): the host's NIC behind the agent's bridge, the
// way "ovsbr0 replaces vmbr0" — the bridge (and its internal interface, named as the
// bridge) created when missing, the NIC attached as a port, its addresses, routes and
// DNS servers and domains (linkd's SetDNS) moved to the internal interface through
// alopex-linkd — all inside a linkd checkpoint.
// Unless the checkpoint is confirmed (CheckpointConfirm of org.alopex.Link1, e.g.
// `alopexctl checkpoint confirm PATH`) before the deadline, the agent rolls it back:
// linkd puts the addresses, routes and DNS back on the NIC, the agent takes the NIC off the
// bridge and deletes the bridge if it made it. The migration is marked on the bridge
// (external_ids alopex-migration), so a restarted agent still rolls back at the deadline;
// linkd's own checkpoint runs 30 s longer, in case the agent is not there at all (then the
// restarted agent, seeing the NIC holding addresses again, undoes its part).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "agent.hpp"
#include "alopex/bus/client.hpp"
#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::ovs {

// The mark's text: {"checkpoint", "nic", "created", "deadline" (CLOCK_REALTIME µs)}.
struct Migration {
    std::string checkpoint, bridge, nic;
    bool created = false;
    uint64_t deadline = 0;
};
std::string migration_text(const Migration &m);
Result<Migration> parse_migration(std::string_view text);

class Uplink {
public:
    using Done = std::function<void(Result<Migration>)>;
    using Record = std::function<void(std::string action, std::string details)>;
    // `later(usec, fn)`: fn from the loop in usec (the owner's timers, gone before it).
    using Later = std::function<void(uint64_t usec, std::function<void()> fn)>;
    Uplink(sd_event *event, Agent &agent, bus::Calls &linkd, Record record, Later later)
        : event_(event), agent_(agent), linkd_(linkd), record_(std::move(record)), later_(std::move(later)) {}
    ~Uplink();
    Uplink(const Uplink &) = delete;
    Uplink &operator=(const Uplink &) = delete;

    // Checks what can be checked before polkit: the NIC (a link that is no port, no
    // DHCP lease, some address to move), the bridge (the agent's, without an uplink being
    // migrated), timeout_s 10..3600. The error names the argument.
    Result<> check(const std::string &bridge, const std::string &nic, uint32_t timeout_s) const;
    void migrate(const std::string &nic, uint32_t timeout_s, Done done);
    // After every sync with ovsdb-server: a mark on the bridge arms its deadline.
    void resume();

private:
    struct Run;
    void step_checkpoint(std::shared_ptr<Run> run);
    void step_bridge(std::shared_ptr<Run> run);
    void step_mark(std::shared_ptr<Run> run);
    void step_attach(std::shared_ptr<Run> run);
    void step_internal(std::shared_ptr<Run> run, unsigned tries);
    void step_move(std::shared_ptr<Run> run, size_t next);
    void step_dns(std::shared_ptr<Run> run, int step);
    void step_done(std::shared_ptr<Run> run);
    void fail(std::shared_ptr<Run> run, const Error &e);
    void arm(const Migration &m);
    void deadline();
    void roll_back(const Migration &m, std::function<void(Result<>)> done);
    void undo_ovs(const Migration &m, std::function<void(Result<>)> done);
    void clear_mark(const Migration &m, std::function<void(Result<>)> done);
    static int on_deadline(sd_event_source *, uint64_t, void *userdata) noexcept;

    sd_event *event_;
    Agent &agent_;
    bus::Calls &linkd_;
    Record record_;
    Later later_;
    std::shared_ptr<Run> running_;     // one migration at a time
    std::optional<Migration> pending_;  // waiting for its deadline
    EventSourcePtr timer_;
};

} // namespace alopex::ovs
