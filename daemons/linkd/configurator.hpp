// SPDX-License-Identifier: GPL-2.0-or-later
// Applies the profiles of $CONFIGURATION_DIRECTORY/links to the kernel: loads them (the
// last good set stays when a reload fails), plans against the Manager's state and sends
// the plan as one rtnetlink batch, a job of the ChangeQueue: the round ends when the
// kernel has answered (owned.json, the ledger record, intents and on_round follow the
// answers), and one round at a time is planned or in flight. Planning again after every
// link event makes the multi-round cases converge (a created netdev is configured once the kernel announces
// it; routes follow once their link is up), and a converged system plans nothing.
//
// What linkd created (netdevs, addresses, routes) is kept in $RUNTIME_DIRECTORY, which
// lives exactly as long as those kernel objects do (until reboot): a restarted linkd
// still removes only what it made.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/config.hpp"
#include "alopex/error.hpp"
#include "alopex/sd.hpp"
#include "change_queue.hpp"
#include "checkpoint.hpp"
#include "manager.hpp"
#include "profile/plan.hpp"
#include "profile/profile.hpp"
#include "rtnl/rtnl.hpp"

namespace alopex::linkd {

class Configurator {
public:
    // Non-movable: `this` is userdata of a defer source and of the Manager's hooks.
    static Result<std::unique_ptr<Configurator>> create(sd_event *event, Manager &manager, ChangeQueue &queue,
                                                        std::filesystem::path profiles_dir,
                                                        std::filesystem::path owned_file);
    ~Configurator();
    Configurator(const Configurator &) = delete;
    Configurator &operator=(const Configurator &) = delete;

    // Re-reads the profiles. A bad file is refused ("file:line:col: what") and the last
    // good set keeps applying. On success the new set is applied right away.
    Result<> reload();

    // Plans and sends one round now (normally scheduled after events); with a round
    // already queued or in flight, one more follows it.
    void apply();

    // Runs `then` once the round queued or in flight now, and the one a reload meanwhile
    // asks for, has finished (the kernel answered): at once when none is queued or in
    // flight. Reload() and SIGHUP answer through it,
    // so the profiles they read are in force when they do.
    void when_applied(std::function<void()> then);

    // Once the links and addresses are known, before the routes: publishes which links a
    // profile applies to (Managed) and their zones and DNS, as the first round will, so
    // that fwd and alopex-wait-online see them from the start. Changes nothing in the
    // kernel.
    void publish_matches();

    // Called after every round, once the kernel has answered, with the links a profile
    // applies to (the DHCP clients follow it).
    std::function<void(const std::vector<profile::LinkIntent> &)> on_intents;
    // Called after every round, also when there is no valid profile set to apply (linkd's
    // Startup ends after the first: its state is then in force).
    std::function<void()> on_round;

    // Joins checkpoints: a rollback puts the profile set in force at the checkpoint back
    // (the files stay as they are until the next Reload), so the profiles neither redo
    // what the rollback undid nor leave their netdevs changed.
    Participant checkpoint_participant();

    const profile::Owned &owned() const noexcept { return owned_; }
    bool managed(int ifindex) const;

private:
    Configurator(sd_event *event, Manager &manager, ChangeQueue &queue, std::filesystem::path dir,
                 std::filesystem::path owned_file);
    // One round: planned when the queue runs it, finished with the kernel's answers.
    struct Round {
        profile::Plan plan;
        profile::Owned before;
        netlink::Snapshot deleted;   // the links it deletes, as planned (their names)
    };
    void start_round(ChangeQueue::Finish finish);
    void finish_round(Round &round, const std::string &failures);
    void end_round();
    void publish(const std::vector<profile::LinkIntent> &links);
    void schedule();
    void install_hooks();
    void load_owned();
    // Records a round that sent requests in the ledger ("link.profile.apply").
    void record_round(const std::vector<rtnl::Request> &requests, const std::string &failures);
    void save_owned() const;
    static int on_defer(sd_event_source *, void *userdata) noexcept;

    sd_event *event_;
    Manager &manager_;
    ChangeQueue &queue_;
    std::filesystem::path dir_, owned_file_;
    config::LastGood<profile::Profiles> profiles_;
    profile::Owned owned_;
    std::vector<profile::LinkIntent> intents_;
    EventSourcePtr defer_;
    bool round_queued_ = false;  // a round is queued or in flight
    bool again_ = false;         // apply() was asked for meanwhile
    bool again_now_ = false;     // by a reload: not held back by a retry delay
    std::vector<std::function<void()>> applied_waiters_;
    std::string last_failures_;  // logged once, not on every identical round
    // The same requests failing round after round (a bond port the kernel refuses, a
    // VLAN whose parent is down): the next round waits, 0.5 s doubling to 60 s, instead
    // of following the events its own requests cause. A reload retries at once.
    EventSourcePtr retry_;
    uint64_t retry_delay_usec_ = 0;
    void hold_after_repeated_failure();
    void release_hold();
    static int on_retry(sd_event_source *, uint64_t, void *userdata) noexcept;
};

} // namespace alopex::linkd
