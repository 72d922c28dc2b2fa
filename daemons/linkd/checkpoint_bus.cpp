// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Link1.Checkpoints at /org/alopex/Link1: CheckpointCreate, CheckpointConfirm,
// CheckpointRollback, each behind polkit's org.alopex.checkpoint.
#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "checkpoint.hpp"
#include "manager.hpp"

namespace alopex::linkd {
namespace {

namespace l1 = ipc::link1;

const bus::Vtable<Checkpoints> &checkpoint_vtable()
{
    namespace m = l1::checkpoints::method;
    static const auto vt = bus::Vtable<Checkpoints>(l1::checkpoints::spec)
                               .method(m::CheckpointCreate, &Checkpoints::bus_create)
                               .method(m::CheckpointConfirm, &Checkpoints::bus_confirm)
                               .method(m::CheckpointRollback, &Checkpoints::bus_rollback);
    return vt;
}

} // namespace

Result<std::unique_ptr<Checkpoints>> Checkpoints::create(sd_event *event, Manager &manager, ChangeQueue &queue,
                                                         std::filesystem::path state_dir)
{
    std::unique_ptr<Checkpoints> c(new Checkpoints(event, manager, queue, std::move(state_dir)));
    // Pending checkpoints of this boot come back from the state directory; once the first
    // full dump (routes too) is in, the overdue ones are rolled back (before the profiles
    // are applied and Startup ends) and the others wait for their deadline again.
    c->load();
    if (manager.synced())
        c->resume();
    else
        manager.hooks.synced.add([self = c.get()] { self->resume(); });
    // Netdevs created or deleted over D-Bus are recorded in the active checkpoints. The
    // Manager outlives nothing it calls this from: both end with the event loop.
    manager.hooks.request_done.add([self = c.get()](const rtnl::Request &q) { self->note(q); });
    if (bus::Service *service = manager.service()) {
        ALOPEX_TRY(reg, service->add(l1::path, checkpoint_vtable(), *c));
        c->registration_ = std::move(reg);
    }
    return c;
}

// While linkd starts (Startup), a checkpoint method waits: it runs, polkit check and
// all, once the routes are in, an overdue checkpoint is rolled back and the first
// profile round is answered. A checkpoint taken earlier would not know the routes (its
// rollback would delete them).
void Checkpoints::bus_create(bus::Call &c, uint32_t timeout)
{
    if (manager_.starting()) {
        manager_.when_started(c.postpone());
        return;
    }
    if (timeout == 0 || timeout > max_checkpoint_timeout_s) {
        c.invalid("timeout_s", "{} is outside 1..{}", timeout, max_checkpoint_timeout_s);
        return;
    }
    if (!c.authorize(l1::checkpoint_action))
        return;
    auto path = create_checkpoint(timeout);
    if (!c.ok(path))
        return;
    manager_.audit(c, fmt::format("\"{}\"", *path));   // an object path needs no JSON escaping
    c.reply(bus::ObjectPath{*path});
}

void Checkpoints::bus_confirm(bus::Call &c, bus::ObjectPath path)
{
    if (manager_.starting()) {
        manager_.when_started(c.postpone());
        return;
    }
    if (!c.authorize(l1::checkpoint_action) || !c.ok(confirm(path.value)))
        return;
    manager_.audit(c);
    c.reply();
}

// The rollback itself is recorded too ("link.checkpoint.rollback", with what it did). The
// answer comes once the kernel has answered the rollback's requests.
void Checkpoints::bus_rollback(bus::Call &c, bus::ObjectPath path)
{
    if (manager_.starting()) {
        manager_.when_started(c.postpone());
        return;
    }
    if (!c.authorize(l1::checkpoint_action))
        return;
    if (!active_.contains(path.value)) {
        c.ok(rollback(path.value));   // NoSuchId
        return;
    }
    auto audit = manager_.begin_audit(c);
    auto reply = std::make_shared<bus::PendingReply>(c.defer());
    (void)rollback(path.value, [audit, reply] {
        audit();
        reply->reply();
    });
}

} // namespace alopex::linkd
