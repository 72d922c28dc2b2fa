// SPDX-License-Identifier: GPL-2.0-or-later
// Checkpoints: CheckpointCreate(timeout) snapshots what an administrator changes through
// linkd (links' administrative state, MTU and controller, permanent addresses of global
// and site scope, static and boot-protocol routes of the followed tables, and the netdevs
// linkd creates or deletes); unless confirmed in time, or on CheckpointRollback, the
// kernel is put back (the client that asked may be long gone: the deadline is linkd's
// own timer).
//
// Netdevs: a bridge, VLAN, veth or bond created through linkd (CreateNetdev) after the
// checkpoint is deleted again; one deleted through linkd (DeleteNetdev) is created again
// with its kind, STP state, VLAN id and parent, veth peer or bond mode, and then gets its
// MTU, state, ports, addresses and routes back. Netdevs other tools create or delete
// (a container runtime's veths, libvirt's bridges) are theirs: a rollback leaves them.
// Netdevs of profiles follow the profiles participant (Configurator), which puts the
// profile set of the checkpoint back in force.
//
// Extension point: other daemons join a checkpoint as Participants. capture() runs at
// CheckpointCreate and returns the closure that restores what it captured; confirm drops
// it, rollback runs it. fwd and dnsd-controller will register over D-Bus
// (org.alopex.Link1.Checkpoints gains a Join method then); in-process participants use
// add_participant() today.
//
// Not restored: renames, and DHCP leases (the clients keep running; a lease is not
// permanent configuration).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/netlink/state.hpp"
#include "alopex/sd.hpp"
#include "rtnl/rtnl.hpp"

namespace alopex::linkd {

class Manager;

// What a checkpoint keeps of the kernel. Pure data.
struct CheckpointState {
    struct LinkSnap {
        std::string name;
        bool up = false;
        uint32_t mtu = 0;
        int master = 0;
        // What it takes to create the link again (see netlink::Link).
        std::string kind;
        int link = 0;
        bool link_netns = false;
        uint16_t vlan_id = 0;
        bool stp = false;
        uint8_t bond_mode = 0;
        bool operator==(const LinkSnap &) const = default;
    };
    std::map<int, LinkSnap> links;
    std::map<netlink::AddressKey, netlink::Address> addresses;
    std::map<netlink::RouteKey, netlink::Route> routes;
};

// Pure: the part of `kernel` a checkpoint covers.
CheckpointState capture(const netlink::Snapshot &kernel);

// Pure: the requests that turn `now` back into `then`, in a safe order (links, removals,
// additions). Links that no longer exist are skipped.
std::vector<rtnl::Request> rollback_requests(const CheckpointState &then, const CheckpointState &now);

// Netdevs created (by name) or deleted (by ifindex) through linkd while a checkpoint is
// active.
struct NetdevLog {
    std::set<std::string> created;
    std::set<int> deleted;
};

// Pure: the requests that delete the netdevs `log` created and create again the ones it
// deleted (as `then` knows them). What cannot be done is explained in `notes`: a name
// taken again, a VLAN's parent or a veth's peer (in another namespace) gone.
std::vector<rtnl::Request> netdev_rollback_requests(const CheckpointState &then, const CheckpointState &now,
                                                    const NetdevLog &log, std::vector<std::string> &notes);

// Pure: `s` with ifindexes renumbered through `map` (old -> new), for links created again.
CheckpointState renumber(const CheckpointState &s, const std::map<int, int> &map);

struct Participant {
    std::string name;
    std::function<std::function<void()>()> capture;   // returns the restore action
};

class Checkpoints {
public:
    static Result<std::unique_ptr<Checkpoints>> create(sd_event *event, sd_bus *bus, Manager &manager,
                                                       rtnl::Client &client);
    ~Checkpoints();
    Checkpoints(const Checkpoints &) = delete;
    Checkpoints &operator=(const Checkpoints &) = delete;

    void add_participant(Participant p) { participants_.push_back(std::move(p)); }

    // Returns the checkpoint's object path.
    Result<std::string> create_checkpoint(uint32_t timeout_s);
    Result<> confirm(const std::string &path);
    Result<> rollback(const std::string &path);

    int bus_create(sd_bus_message *m, sd_bus_error *ret);
    int bus_confirm(sd_bus_message *m, sd_bus_error *ret);
    int bus_rollback(sd_bus_message *m, sd_bus_error *ret);

private:
    struct Checkpoint {
        CheckpointState state;
        NetdevLog netdevs;
        std::vector<std::function<void()>> restores;
        EventSourcePtr timer;
    };
    Checkpoints(sd_event *event, Manager &manager, rtnl::Client &client);
    static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) noexcept;
    // Records a netdev request the Manager ran (CreateNetdev, DeleteNetdev) in every active
    // checkpoint.
    void note(const rtnl::Request &done);
    struct NetdevOutcome {
        std::map<int, int> recreated;   // old ifindex -> new
        std::set<int> deleted;
    };
    NetdevOutcome restore_netdevs(Checkpoint &c, const std::string &path, size_t &changes, size_t &failed);
    void restore(Checkpoint &c, const char *why, const std::string &path);

    sd_event *event_;
    Manager &manager_;
    rtnl::Client &client_;
    SlotPtr slot_;
    uint64_t next_id_ = 1;
    std::map<std::string, std::unique_ptr<Checkpoint>> active_;
    std::vector<Participant> participants_;
};

} // namespace alopex::linkd
