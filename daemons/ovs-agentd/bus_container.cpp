// SPDX-License-Identifier: GPL-2.0-or-later
// CreateContainerInterface and RemoveContainerInterface (bus_api.hpp): the renames and
// deletions go through alopex-linkd (RenameLink, DeleteNetdev), the ports through the
// Agent.
#include <set>

#include <fmt/format.h>

#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "alopex/ipc/portagent1.hpp"
#include "alopex/log.hpp"
#include "bus_api.hpp"
#include "naming.hpp"
#include "port_ops.hpp"
#include "port_view.hpp"
#include "settings.hpp"

namespace alopex::ovs {

namespace manager = ipc::link1::manager;

namespace {

// linkd's error, saying what the agent asked of it.
Error linkd_error(const Error &e, const std::string &what)
{
    return Error{e.code, fmt::format("{} through alopex-linkd: {}", what, e.message), e.bus_name};
}

} // namespace

// vi<VMID> (or the template's name) not taken by another link or port; the raw link's
// own name counts as free (it is the link being named).
Result<std::string> PortAgentBus::container_name(const std::string &raw, const std::string &container,
                                                 uint32_t vmid) const
{
    std::set<std::string> taken = agent_.links();
    if (const ovsdb::Replica *r = agent_.replica())
        for (const auto &[uuid, row] : r->rows("Interface"))
            taken.insert(name_of(row));
    taken.erase(raw);
    auto is_taken = [&](const std::string &n) { return taken.contains(n); };
    if (vmid) {
        if (auto n = vi_name(vmid, is_taken))
            return *n;
        return failf(EEXIST, "vmid: vi{} and its suffixed names are all taken", vmid);
    }
    const std::string &tmpl = agent_.settings().naming_template;
    for (unsigned index = 0; index < 100; ++index)
        if (std::string n = render_name(tmpl, container, index); !is_taken(n))
            return n;
    return failf(EEXIST, "container_id: the names naming_template '{}' gives for '{}' are all taken", tmpl, container);
}

void PortAgentBus::create_interface(bus::Call &c, std::string raw, std::string container, uint32_t vmid,
                                    std::function<void(bus::PendingReply &, const std::string &, int64_t)> ok)
{
    const ovsdb::Replica *r = connected(c);
    if (!r || !check_link(c, raw, "raw_ifname"))
        return;
    if (!valid_container_name(container)) {
        c.invalid("container_id", "1 to 64 characters of [A-Za-z0-9_.:@-], not '{}'", container);
        return;
    }
    if (vmid != 0 && (vmid < 100 || vmid > 999'999'999)) {
        c.invalid("vmid", "0 (none) or 100 to 999999999, not {}", vmid);
        return;
    }
    auto name = container_name(raw, container, vmid);
    if (!c.ok(name) || !c.authorize(ipc::portagent1::polkit_action))
        return;
    record(c, "ovs.CreateContainerInterface");
    auto reply = std::make_shared<bus::PendingReply>(c.defer());
    PortSpec spec{*name, container, vmid ? std::optional<uint32_t>(vmid) : std::nullopt, std::nullopt, {}};
    // Asked for before the rename, so the renamed link is attached with what to record
    // with it (the rename's netlink event can come before linkd's reply).
    agent_.attach(spec, [reply, ok, n = *name](Result<int64_t> res) {
        res ? ok(*reply, n, *res) : reply->fail(res.error());
    });
    if (*name == raw)
        return;
    rename_link(agent_.ifindex_of(raw), raw, *name, [this, n = *name](Result<> res) {
        if (!res)
            agent_.cancel_attach(n, res.error());
    });
}

// linkd may not have seen a link that has just appeared (its netlink event comes after the
// agent's): NoSuchLink is asked again every 100 ms for up to 2 s.
void PortAgentBus::rename_link(int ifindex, const std::string &from, const std::string &to,
                               std::function<void(Result<>)> done, unsigned attempt)
{
    std::string what = fmt::format("renaming {} to {}", from, to);
    linkd_.call<>(ipc::link1::service, ipc::link1::path, manager::spec, manager::method::RenameLink,
                  [this, ifindex, from, to, done, what, attempt](Result<std::tuple<>> res) {
                      if (res)
                          return done({});
                      if (res.error().bus_name != bus_error::NoSuchLink || attempt >= 20 ||
                          agent_.ifindex_of(from) != ifindex)
                          return done(std::unexpected(linkd_error(res.error(), what)));
                      later(100'000, [this, ifindex, from, to, done, attempt] {
                          rename_link(ifindex, from, to, done, attempt + 1);
                      });
                  },
                  int32_t{ifindex}, to);
}

void PortAgentBus::later(uint64_t usec, std::function<void()> fn)
{
    uint64_t now = 0;
    sd_event_now(service_.event(), CLOCK_MONOTONIC, &now);
    sd_event_source *s = nullptr;
    int r = sd_event_add_time(service_.event(), &s, CLOCK_MONOTONIC, now + usec, 10'000, on_later, this);
    if (r < 0) {
        fn();   // no timer: at once
        return;
    }
    later_.emplace(s, std::pair{EventSourcePtr(s), std::move(fn)});
}

int PortAgentBus::on_later(sd_event_source *s, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<PortAgentBus *>(userdata);
    auto node = self->later_.extract(s);   // the source goes when this returns
    return log::contained("retry", [&] { node.mapped().second(); });
}

void PortAgentBus::remove_interface(bus::Call &c, std::string name, std::function<void(bus::PendingReply &)> ok)
{
    const ovsdb::Replica *r = connected(c);
    if (!r || !check_link(c, name, "name"))
        return;
    auto ports = port_views(*r, agent_.settings().bridge);
    const PortView *p = nullptr;
    for (const auto &v : ports)
        if (v.name == name)
            p = &v;
    if (p && !p->ours) {
        c.invalid("name", "{} is a port of {} that is not the agent's: left alone", name, agent_.settings().bridge);
        return;
    }
    if (!c.authorize(ipc::portagent1::polkit_action))
        return;
    record(c, "ovs.RemoveContainerInterface");
    auto reply = std::make_shared<bus::PendingReply>(c.defer());
    if (!p) {
        delete_link(name, reply, ok);
        return;
    }
    agent_.detach(name, [this, name, reply, ok](Result<> res) {
        if (!res) {
            reply->fail(res.error());
            return;
        }
        delete_link(name, reply, ok);
    });
}

void PortAgentBus::delete_link(const std::string &name, Pending reply, std::function<void(bus::PendingReply &)> ok)
{
    linkd_.call<>(ipc::link1::service, ipc::link1::path, manager::spec, manager::method::DeleteNetdev,
                  [reply, ok, name](Result<std::tuple<>> res) {
                      res ? ok(*reply) : reply->fail(linkd_error(res.error(), fmt::format("deleting {}", name)));
                  },
                  name);
}

} // namespace alopex::ovs
