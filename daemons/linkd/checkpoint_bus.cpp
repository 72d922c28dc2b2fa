// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Link1.Checkpoints at /org/alopex/Link1: CheckpointCreate, CheckpointConfirm,
// CheckpointRollback, each behind polkit's org.alopex.checkpoint.
#include "alopex/bus.hpp"
#include "alopex/ipc/link1.hpp"
#include "checkpoint.hpp"
#include "manager.hpp"

namespace alopex::linkd {
namespace {

namespace l1 = ipc::link1;

const sd_bus_vtable checkpoint_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("CheckpointCreate", SD_BUS_ARGS("u", timeout_s), SD_BUS_RESULT("o", checkpoint),
                            bus::method<&Checkpoints::bus_create>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("CheckpointConfirm", SD_BUS_ARGS("o", checkpoint), SD_BUS_NO_RESULT,
                            bus::method<&Checkpoints::bus_confirm>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("CheckpointRollback", SD_BUS_ARGS("o", checkpoint), SD_BUS_NO_RESULT,
                            bus::method<&Checkpoints::bus_rollback>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

} // namespace

Result<std::unique_ptr<Checkpoints>> Checkpoints::create(sd_event *event, sd_bus *bus, Manager &manager,
                                                         rtnl::Client &client, std::filesystem::path state_dir)
{
    std::unique_ptr<Checkpoints> c(new Checkpoints(event, manager, client, std::move(state_dir)));
    // Pending checkpoints of this boot come back from the state directory; after the first
    // dump the overdue ones are rolled back (before the profiles are applied and READY=1)
    // and the others wait for their deadline again.
    c->load();
    if (manager.synced()) {
        c->resume();
    } else {
        manager.hooks.synced = [self = c.get(), inner = std::move(manager.hooks.synced)] {
            self->resume();
            if (inner)
                inner();
        };
    }
    // Netdevs created or deleted over D-Bus are recorded in the active checkpoints. The
    // Manager outlives nothing it calls this from: both end with the event loop.
    manager.executor() = [self = c.get(), inner = std::move(manager.executor())](const rtnl::Request &q) {
        auto r = inner(q);
        if (r)
            self->note(q);
        return r;
    };
    if (bus) {
        sd_bus_slot *slot = nullptr;
        int r = sd_bus_add_object_vtable(bus, &slot, l1::path, l1::checkpoint_interface, checkpoint_vtable, c.get());
        if (r < 0)
            return fail(-r, "cannot register org.alopex.Link1.Checkpoints");
        c->slot_.reset(slot);
    }
    return c;
}

int Checkpoints::bus_create(sd_bus_message *m, sd_bus_error *ret)
{
    auto args = bus::read<uint32_t>(m);
    if (!args)
        return bus::set_error(ret, args.error());
    auto [timeout] = *args;
    if (timeout == 0 || timeout > max_checkpoint_timeout_s)
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("timeout_s: {} is outside 1..{}", timeout, max_checkpoint_timeout_s));
    int a = manager_.authorize_action(m, l1::checkpoint_action, ret);
    if (a <= 0)
        return a < 0 ? a : 1;
    auto path = create_checkpoint(timeout);
    if (!path)
        return bus::set_error(ret, path.error());
    return bus::reply(m, bus::ObjectPath{*path});
}

namespace {

template <typename F> int path_method(sd_bus_message *m, sd_bus_error *ret, Manager &mgr, F &&act)
{
    auto args = bus::read<bus::ObjectPath>(m);
    if (!args)
        return bus::set_error(ret, args.error());
    auto [path] = *args;
    int a = mgr.authorize_action(m, l1::checkpoint_action, ret);
    if (a <= 0)
        return a < 0 ? a : 1;
    if (auto r = act(path.value); !r)
        return bus::set_error(ret, r.error());
    return sd_bus_reply_method_return(m, nullptr);
}

} // namespace

int Checkpoints::bus_confirm(sd_bus_message *m, sd_bus_error *ret)
{
    return path_method(m, ret, manager_, [this](const std::string &p) { return confirm(p); });
}

int Checkpoints::bus_rollback(sd_bus_message *m, sd_bus_error *ret)
{
    return path_method(m, ret, manager_, [this](const std::string &p) { return rollback(p); });
}

} // namespace alopex::linkd
