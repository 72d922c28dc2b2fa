// SPDX-License-Identifier: GPL-2.0-or-later
// Checkpoints: CheckpointCreate(timeout) snapshots what an administrator changes through
// linkd (links' administrative state, MTU and controller, permanent addresses of global
// and site scope, static and boot-protocol routes of the followed tables, and the netdevs
// linkd creates or deletes); unless confirmed in time, or on CheckpointRollback, the
// kernel is put back (the client that asked may be long gone: the deadline is linkd's
// own timer). A rollback is a job of the ChangeQueue: it waits for a profile round or a
// DHCP lease in flight, plans from the state it then finds, and nothing waits for the
// kernel meanwhile; CheckpointRollback answers once the kernel has answered every
// request of it (the outcome, "N change(s), M failed", is logged and recorded).
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
//
// Persistence: with a state directory, every pending checkpoint is also a file there
// (checkpoint_file.hpp), so it outlives linkd: written before CheckpointCreate answers
// (a checkpoint that cannot be kept is refused) and again when a netdev is created or
// deleted under it, removed on confirm and after a rollback. At start the files of this
// boot are read back under their old object paths; after the first dump an overdue one
// is rolled back at once and the others wait for their deadline again (CLOCK_BOOTTIME,
// so time spent suspended counts). Files of an earlier boot are removed: a reboot has
// already put the kernel back. What participants captured lives in memory only: after a
// restart the profiles in force are the ones read from the files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/bus/object.hpp"
#include "alopex/netlink/state.hpp"
#include "alopex/sd.hpp"
#include "change_queue.hpp"
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
    bool operator==(const CheckpointState &) const = default;
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
    bool operator==(const NetdevLog &) const = default;
};

// Pure: the requests that delete the netdevs `log` created and create again the ones it
// deleted (as `then` knows them). What cannot be done is explained in `notes`: a name
// taken again, a VLAN's parent or a veth's peer (in another namespace) gone.
std::vector<rtnl::Request> netdev_rollback_requests(const CheckpointState &then, const CheckpointState &now,
                                                    const NetdevLog &log, std::vector<std::string> &notes);

// Pure: `s` with ifindexes renumbered through `map` (old -> new), for links created again.
CheckpointState renumber(const CheckpointState &s, const std::map<int, int> &map);

// CheckpointCreate's timeout_s is 1..max_checkpoint_timeout_s; at most max_checkpoints
// are pending at once (each is a file in the state directory).
inline constexpr uint32_t max_checkpoint_timeout_s = 24 * 3600;
inline constexpr size_t max_checkpoints = 32;

struct Participant {
    std::string name;
    std::function<std::function<void()>()> capture;   // returns the restore action
};

class Checkpoints {
public:
    // `state_dir` empty: checkpoints live in memory only. Otherwise the pending ones of
    // this boot are read from there now and resumed after the Manager's first dump.
    // org.alopex.Link1.Checkpoints is served on the Manager's bus::Service (if it has one).
    static Result<std::unique_ptr<Checkpoints>> create(sd_event *event, Manager &manager, ChangeQueue &queue,
                                                       std::filesystem::path state_dir = {});
    ~Checkpoints();
    Checkpoints(const Checkpoints &) = delete;
    Checkpoints &operator=(const Checkpoints &) = delete;

    void add_participant(Participant p) { participants_.push_back(std::move(p)); }

    // Returns the checkpoint's object path.
    Result<std::string> create_checkpoint(uint32_t timeout_s);
    Result<> confirm(const std::string &path);
    // Takes the checkpoint out at once (NoSuchId if it is not active) and queues its
    // rollback; `done` runs once the kernel has answered every request of it.
    Result<> rollback(const std::string &path, std::function<void()> done = {});

    // org.alopex.Link1.Checkpoints (checkpoint_bus.cpp), behind polkit's org.alopex.checkpoint.
    void bus_create(bus::Call &c, uint32_t timeout_s);
    void bus_confirm(bus::Call &c, bus::ObjectPath checkpoint);
    void bus_rollback(bus::Call &c, bus::ObjectPath checkpoint);

private:
    struct Checkpoint {
        uint64_t id = 0;
        uint64_t deadline_usec = 0;   // CLOCK_BOOTTIME
        CheckpointState state;
        NetdevLog netdevs;
        std::vector<std::function<void()>> restores;
        EventSourcePtr timer;
    };
    // What a rollback's netdev step did.
    struct NetdevOutcome {
        std::map<int, int> recreated;   // old ifindex -> new
        std::set<int> deleted;
    };
    // A rollback under way: the checkpoint taken out, and what its steps found.
    struct Rollback {
        std::unique_ptr<Checkpoint> c;
        std::string path;
        const char *why = "";
        size_t changes = 0, failed = 0;
        NetdevOutcome netdevs;
        std::function<void()> done;
        ChangeQueue::Finish finish;
    };
    Checkpoints(sd_event *event, Manager &manager, ChangeQueue &queue, std::filesystem::path dir);
    Result<> arm(const std::string &path, Checkpoint &c);
    // The file of `c` (checkpoint_file.hpp); a no-op without a state directory.
    Result<> persist(const Checkpoint &c) const;
    void forget(const Checkpoint &c) const;
    // At start: read the files back (load), and after the first dump roll back the
    // overdue ones and arm the others (resume).
    void load();
    void resume();
    static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) noexcept;
    // Records a netdev request the Manager ran (CreateNetdev, DeleteNetdev) in every active
    // checkpoint.
    void note(const rtnl::Request &done);
    void restore_netdevs(std::shared_ptr<Rollback> rb);
    void restore_state(std::shared_ptr<Rollback> rb);
    void finish_rollback(Rollback &rb);
    // Takes the active checkpoint `path` out and queues its rollback (the three steps
    // above); its file goes when the rollback is done, then `done` runs.
    void roll_back(const std::string &path, const char *why, std::function<void()> done = {});

    sd_event *event_;
    Manager &manager_;
    ChangeQueue &queue_;
    bus::Registration registration_;
    std::filesystem::path dir_;
    std::string boot_id_;
    uint64_t next_id_ = 1;
    std::map<std::string, std::unique_ptr<Checkpoint>> active_;
    std::vector<Participant> participants_;
};

} // namespace alopex::linkd
