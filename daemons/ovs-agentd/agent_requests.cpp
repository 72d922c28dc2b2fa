// SPDX-License-Identifier: GPL-2.0-or-later
// The Agent's requests (agent.hpp): attach() and detach() from D-Bus, answered when the
// copy of the database shows them done, when their transaction failed, or at their
// deadline; and the settings that change live.
#include <cerrno>

#include "agent.hpp"
#include "alopex/log.hpp"
#include "port_view.hpp"

namespace alopex::ovs {

namespace {

// A request waits for its transaction's confirmation (confirm_timeout) and a little more,
// so that the confirmation's own failure, which says why, answers it first.
constexpr uint64_t request_slack = 2'000'000;

} // namespace

const ovsdb::Replica *Agent::replica() const
{
    return ovsdb_->live() ? ovsdb_->session().replica() : nullptr;
}

int Agent::ifindex_of(std::string_view name) const
{
    for (const auto &[index, link] : monitor_->state().links)
        if (link.name == name)
            return index;
    return 0;
}

void Agent::attach(PortSpec spec, Attached done)
{
    std::string name = spec.name;
    requests_.exclude.erase(name);
    requests_.attach.insert_or_assign(name, std::move(spec));
    attach_waiters_.emplace(name, AttachWaiter{now() + config_.confirm_timeout + request_slack, std::move(done)});
    resolve_waiters();
    arm_confirm_timer();
    schedule();
}

void Agent::detach(std::string name, Detached done)
{
    requests_.attach.erase(name);
    requests_.exclude.insert(name);
    detach_waiters_.emplace(name, DetachWaiter{now() + config_.confirm_timeout + request_slack, std::move(done)});
    resolve_waiters();
    arm_confirm_timer();
    schedule();
}

void Agent::update_settings(const Settings &s)
{
    Settings next = s;   // all of it but what waits for a restart
    const Settings &cur = config_.settings;
    next.bridge = cur.bridge;
    next.create_bridge = cur.create_bridge;
    next.datapath_type = cur.datapath_type;
    next.block_tag = cur.block_tag;
    config_.settings = std::move(next);
    schedule();
}

// What the copy shows done: a requested port on the bridge (its request is then the
// database's to remember) with an ofport, or with ovs-vswitchd's error; a detached one
// off it. Answers after the bookkeeping, so a callback may make new requests.
void Agent::resolve_waiters()
{
    const ovsdb::Replica *r = replica();
    if (!r || (attach_waiters_.empty() && detach_waiters_.empty() && requests_.attach.empty()))
        return;
    std::map<std::string, PortView, std::less<>> ports;
    for (auto &v : port_views(*r, config_.settings.bridge))
        ports.emplace(v.name, std::move(v));
    std::vector<std::pair<Attached, Result<int64_t>>> attached;
    std::vector<Detached> detached;
    for (auto it = requests_.attach.begin(); it != requests_.attach.end();)
        it = ports.contains(it->first) ? requests_.attach.erase(it) : std::next(it);
    for (auto it = attach_waiters_.begin(); it != attach_waiters_.end();) {
        auto p = ports.find(it->first);
        if (p == ports.end() || !p->second.ofport) {
            ++it;
            continue;
        }
        if (*p->second.ofport > 0)
            attached.emplace_back(std::move(it->second.done), *p->second.ofport);
        else
            attached.emplace_back(std::move(it->second.done),
                                  failf(EIO, "{}: ovs-vswitchd could not open it: {}", it->first,
                                        p->second.error.empty() ? "no reason given" : p->second.error));
        it = attach_waiters_.erase(it);
    }
    for (auto it = detach_waiters_.begin(); it != detach_waiters_.end();) {
        if (ports.contains(it->first)) {
            ++it;
            continue;
        }
        detached.push_back(std::move(it->second.done));
        it = detach_waiters_.erase(it);
    }
    for (auto &[done, res] : attached)
        done(std::move(res));
    for (auto &done : detached)
        done({});
}

void Agent::fail_waiters(const std::vector<std::string> &attach, const std::vector<std::string> &detach, const Error &e)
{
    std::vector<Attached> a;
    std::vector<Detached> d;
    for (const auto &name : attach) {
        requests_.attach.erase(name);
        for (auto [it, end] = attach_waiters_.equal_range(name); it != end;)
            a.push_back(std::move(it->second.done)), it = attach_waiters_.erase(it);
    }
    for (const auto &name : detach)
        for (auto [it, end] = detach_waiters_.equal_range(name); it != end;)
            d.push_back(std::move(it->second.done)), it = detach_waiters_.erase(it);
    for (auto &done : a)
        done(std::unexpected(e));
    for (auto &done : d)
        done(std::unexpected(e));
}

void Agent::expire_waiters(uint64_t at)
{
    std::vector<std::string> attach, detach;
    for (const auto &[name, w] : attach_waiters_)
        if (w.deadline <= at)
            attach.push_back(name);
    for (const auto &[name, w] : detach_waiters_)
        if (w.deadline <= at)
            detach.push_back(name);
    std::string why = ovsdb_->live() ? "not done in time (no such link, or ovs-vswitchd is not applying changes)"
                                     : "not done in time: ovsdb-server is not connected";
    for (const auto &name : attach)
        fail_waiters({name}, {}, Error{ETIMEDOUT, fmt::format("{}: {}", name, why), {}});
    for (const auto &name : detach)
        fail_waiters({}, {name}, Error{ETIMEDOUT, fmt::format("{}: {}", name, why), {}});
}

} // namespace alopex::ovs
