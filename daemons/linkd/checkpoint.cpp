// SPDX-License-Identifier: GPL-2.0-or-later
// Checkpoints: what is captured and how it is put back (pure), the timers, and the
// rollback as a job of the ChangeQueue in three steps (netdevs, then links, addresses and
// routes, then the participants), each after the kernel's answers to the one before.
#include "checkpoint.hpp"

#include <net/if.h>   // before linux/if.h (libc-compat)
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/log.hpp"
#include "manager.hpp"

namespace alopex::linkd {
namespace {

bool covered(const netlink::Address &a)
{
    return (a.flags & IFA_F_PERMANENT) && (a.scope == RT_SCOPE_UNIVERSE || a.scope == RT_SCOPE_SITE);
}

bool covered(const netlink::Route &r)
{
    return (r.protocol == RTPROT_STATIC || r.protocol == RTPROT_BOOT) && r.type == RTN_UNICAST;
}

rtnl::Request address_request(const netlink::Address &a, bool add, const std::string &link)
{
    rtnl::Request q;
    q.op = add ? rtnl::Request::Op::AddAddress : rtnl::Request::Op::RemoveAddress;
    q.address.ifindex = a.ifindex;
    q.address.family = a.family;
    q.address.address = a.address;
    q.address.prefixlen = a.prefixlen;
    q.address.scope = a.scope;
    q.address.noprefixroute = (a.flags & IFA_F_NOPREFIXROUTE) != 0;
    if (a.family == AF_INET)
        q.address.broadcast_as = a.broadcast;   // as it was: with `ip addr add` alone, none
    q.what = fmt::format("checkpoint: {} {}/{} on {}", add ? "restore" : "remove", a.address, a.prefixlen, link);
    return q;
}

rtnl::Request route_request(const netlink::Route &r, bool add)
{
    rtnl::Request q;
    q.op = add ? rtnl::Request::Op::AddRoute : rtnl::Request::Op::RemoveRoute;
    q.route.family = r.family;
    q.route.dst = r.dst_len ? r.dst : net::Address();
    q.route.dst_len = r.dst_len;
    q.route.gateway = r.gateway;
    q.route.prefsrc = r.prefsrc;
    q.route.oif = r.oif;
    q.route.table = r.table;
    q.route.metric = r.priority;
    q.route.scope = r.scope;
    q.route.protocol = r.protocol;
    q.route.type = r.type;
    q.what = fmt::format("checkpoint: {} route {}/{}{} table {}", add ? "restore" : "remove", r.dst, r.dst_len,
                         r.gateway.empty() ? "" : fmt::format(" via {}", r.gateway), r.table);
    return q;
}

} // namespace

CheckpointState capture(const netlink::Snapshot &kernel)
{
    CheckpointState s;
    for (const auto &[index, l] : kernel.links)
        s.links[index] = {l.name, (l.flags & IFF_UP) != 0, l.mtu, l.master, l.kind, l.link, l.link_netns,
                          l.vlan_id,  l.stp,  l.bond_mode};
    for (const auto &[k, a] : kernel.addresses)
        if (covered(a))
            s.addresses.emplace(k, a);
    for (const auto &[k, r] : kernel.routes)
        if (covered(r))
            s.routes.emplace(k, r);
    return s;
}

std::vector<rtnl::Request> rollback_requests(const CheckpointState &then, const CheckpointState &now)
{
    std::vector<rtnl::Request> out;
    auto name = [&](int index) {
        auto it = now.links.find(index);
        return it == now.links.end() ? std::to_string(index) : it->second.name;
    };
    for (const auto &[index, was] : then.links) {
        auto it = now.links.find(index);
        if (it == now.links.end() || it->second == was)
            continue;
        rtnl::Request q;
        q.op = rtnl::Request::Op::SetLink;
        q.link.ifindex = index;
        if (it->second.up != was.up)
            q.link.up = was.up;
        if (it->second.mtu != was.mtu)
            q.link.mtu = was.mtu;
        // Back into its bridge or bond, or out of one; not into one that is gone.
        if (it->second.master != was.master && (was.master == 0 || now.links.contains(was.master)))
            q.link.controller = was.master;
        if (!q.link.up && !q.link.mtu && !q.link.controller)
            continue;   // a rename is not rolled back
        q.what = fmt::format("checkpoint: restore {} (up {}, mtu {}{})", it->second.name, was.up, was.mtu,
                             q.link.controller ? fmt::format(", controller {}", name(was.master)) : "");
        out.push_back(std::move(q));
    }
    for (const auto &[k, r] : now.routes)
        if (!then.routes.contains(k) && now.links.contains(r.oif))
            out.push_back(route_request(r, false));
    for (const auto &[k, a] : now.addresses)
        if (!then.addresses.contains(k))
            out.push_back(address_request(a, false, name(a.ifindex)));
    for (const auto &[k, a] : then.addresses)
        if (!now.addresses.contains(k) && now.links.contains(a.ifindex))
            out.push_back(address_request(a, true, name(a.ifindex)));
    for (const auto &[k, r] : then.routes)
        if (!now.routes.contains(k) && (r.oif == 0 || now.links.contains(r.oif)))
            out.push_back(route_request(r, true));
    return out;
}

namespace {

const std::pair<const int, CheckpointState::LinkSnap> *find_name(const CheckpointState &s, const std::string &name)
{
    for (const auto &entry : s.links)
        if (entry.second.name == name)
            return &entry;
    return nullptr;
}

} // namespace

std::vector<rtnl::Request> netdev_rollback_requests(const CheckpointState &then, const CheckpointState &now,
                                                    const NetdevLog &log, std::vector<std::string> &notes)
{
    std::vector<rtnl::Request> out;
    for (const auto &name : log.created) {
        const auto *l = find_name(now, name);
        // Gone already, or the name now belongs to a link that was there before.
        if (!l || then.links.contains(l->first))
            continue;
        rtnl::Request q;
        q.op = rtnl::Request::Op::DeleteLink;
        q.ifindex = l->first;
        q.what = fmt::format("checkpoint: delete {} {} (created after the checkpoint)", l->second.kind, name);
        out.push_back(std::move(q));
    }
    std::set<int> done;
    for (int index : log.deleted) {
        auto it = then.links.find(index);
        if (it == then.links.end() || now.links.contains(index) || done.contains(index))
            continue;
        const auto &was = it->second;
        if (find_name(now, was.name)) {
            notes.push_back(fmt::format("{}: not created again, a link has that name now", was.name));
            continue;
        }
        rtnl::Request q;
        q.op = rtnl::Request::Op::CreateNetdev;
        q.what = fmt::format("checkpoint: create {} {} again", was.kind, was.name);
        rtnl::NetdevSpec &spec = q.netdev;
        spec.name = was.name;
        auto other = then.links.find(was.link);
        if (was.kind == "bridge") {
            spec.kind = rtnl::NetdevKind::Bridge;
            spec.stp = was.stp;
        } else if (was.kind == "bond") {
            spec.kind = rtnl::NetdevKind::Bond;
            spec.bond_mode = std::to_string(was.bond_mode);
        } else if (was.kind == "vlan") {
            const auto *parent = other == then.links.end() ? nullptr : find_name(now, other->second.name);
            if (!parent) {
                notes.push_back(fmt::format("{}: not created again, its parent link is gone", was.name));
                continue;
            }
            spec.kind = rtnl::NetdevKind::Vlan;
            spec.parent = parent->first;
            spec.vlan_id = was.vlan_id;
        } else if (was.kind == "veth") {
            if (was.link_netns || other == then.links.end()) {
                notes.push_back(fmt::format("{}: not created again, its peer was in another namespace", was.name));
                continue;
            }
            if (find_name(now, other->second.name)) {
                notes.push_back(fmt::format("{}: not created again, a link has its peer's name {} now", was.name,
                                            other->second.name));
                continue;
            }
            spec.kind = rtnl::NetdevKind::Veth;
            spec.peer = other->second.name;
            done.insert(other->first);
        } else {
            notes.push_back(fmt::format("{}: not created again, linkd does not create {} links", was.name,
                                        was.kind.empty() ? "physical" : was.kind));
            continue;
        }
        done.insert(index);
        out.push_back(std::move(q));
    }
    return out;
}

CheckpointState renumber(const CheckpointState &s, const std::map<int, int> &map)
{
    auto to = [&](int index) {
        auto it = map.find(index);
        return it == map.end() ? index : it->second;
    };
    CheckpointState out;
    for (auto [index, l] : s.links) {
        l.master = to(l.master);
        l.link = l.link_netns ? l.link : to(l.link);
        out.links[to(index)] = std::move(l);
    }
    for (auto [k, a] : s.addresses) {
        a.ifindex = to(a.ifindex);
        out.addresses.emplace(netlink::key_of(a), std::move(a));
    }
    for (auto [k, r] : s.routes) {
        r.oif = to(r.oif);
        out.routes.emplace(netlink::key_of(r), std::move(r));
    }
    return out;
}

Checkpoints::Checkpoints(sd_event *event, Manager &manager, ChangeQueue &queue, std::filesystem::path dir)
    : event_(event), manager_(manager), queue_(queue), dir_(std::move(dir))
{
}

Checkpoints::~Checkpoints() = default;

Result<std::string> Checkpoints::create_checkpoint(uint32_t timeout_s)
{
    if (active_.size() >= max_checkpoints)
        return bus_fail(bus_error::TooLarge, "checkpoint: {} are pending already, the most there may be",
                        max_checkpoints);
    auto c = std::make_unique<Checkpoint>();
    c->id = next_id_++;
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_BOOTTIME, &now);
    c->deadline_usec = now + uint64_t{timeout_s} * 1000000;
    c->state = capture(manager_.snapshot());
    // Kept on disk before anything else: a checkpoint that would die with linkd is refused.
    if (auto r = persist(*c); !r)
        return bus_fail(bus_error::IOError, "checkpoint: cannot be kept: {}", r.error().message);
    for (const auto &p : participants_)
        if (p.capture)
            c->restores.push_back(p.capture());
    std::string path = fmt::format("/org/alopex/Link1/checkpoint/{}", c->id);
    if (auto r = arm(path, *c); !r) {
        forget(*c);
        return std::unexpected(r.error());
    }
    auto [it, _] = active_.emplace(path, std::move(c));
    log::info("{}: created, rolled back in {} s unless confirmed ({} addresses, {} routes, {} links)", path,
              timeout_s, it->second->state.addresses.size(), it->second->state.routes.size(),
              it->second->state.links.size());
    return path;
}

Result<> Checkpoints::arm(const std::string &path, Checkpoint &c)
{
    sd_event_source *s = nullptr;
    int r = sd_event_add_time(event_, &s, CLOCK_BOOTTIME, c.deadline_usec, 10000, on_deadline, this);
    if (r < 0)
        return fail(-r, "cannot arm the checkpoint timer");
    c.timer.reset(s);
    sd_event_source_set_description(s, path.c_str());   // copied; on_deadline finds the entry by it
    return {};
}

void Checkpoints::note(const rtnl::Request &done)
{
    for (auto &[path, c] : active_) {
        if (done.op == rtnl::Request::Op::CreateNetdev)
            c->netdevs.created.insert(done.netdev.name);
        else if (done.op == rtnl::Request::Op::DeleteLink)
            c->netdevs.deleted.insert(done.ifindex);
        else
            continue;
        if (auto r = persist(*c); !r)
            log::err("{}: the netdev change is not on disk, a restart before the deadline forgets it: {}", path,
                     r.error().message);
    }
}

// Step 1 of a rollback: delete the netdevs created since the checkpoint and create again
// the ones deleted, planned from the state the queue found.
void Checkpoints::restore_netdevs(std::shared_ptr<Rollback> rb)
{
    std::vector<std::string> notes;
    auto reqs = netdev_rollback_requests(rb->c->state, capture(manager_.snapshot()), rb->c->netdevs, notes);
    for (const auto &n : notes)
        log::warning("{}: {}", rb->path, n);
    if (reqs.empty()) {
        restore_state(std::move(rb));
        return;
    }
    rb->changes += reqs.size();
    queue_.submit(reqs, [this, rb, reqs](Result<std::vector<Result<>>> results) {
        if (!results) {
            rb->failed += reqs.size();
            log::err("{}: rollback of netdevs failed: {}", rb->path, results.error().to_string());
            restore_state(rb);
            return;
        }
        for (size_t i = 0; i < reqs.size(); ++i) {
            const auto &q = reqs[i];
            if (!(*results)[i]) {
                ++rb->failed;
                log::warning("{}: {}", rb->path, (*results)[i].error().message);
                continue;
            }
            if (q.op == rtnl::Request::Op::DeleteLink) {
                rb->netdevs.deleted.insert(q.ifindex);
                continue;
            }
            // The monitor may not have seen the new links yet: ask the kernel for their indexes.
            for (const auto &name : {q.netdev.name, q.netdev.peer}) {
                const auto *old = name.empty() ? nullptr : find_name(rb->c->state, name);
                unsigned index = name.empty() ? 0 : if_nametoindex(name.c_str());
                if (old && index)
                    rb->netdevs.recreated[old->first] = static_cast<int>(index);
            }
        }
        restore_state(rb);
    });
}

// Step 2: links, addresses and routes back as they were, once the netdevs are answered for.
void Checkpoints::restore_state(std::shared_ptr<Rollback> rb)
{
    const auto &netdevs = rb->netdevs;
    auto then = renumber(rb->c->state, netdevs.recreated);
    auto now = capture(manager_.snapshot());
    // What the netdev requests just did, which the monitor may report only later: deleted
    // links take their addresses and routes with them; created ones start down, alone
    // and without addresses.
    std::erase_if(now.links, [&](const auto &l) { return netdevs.deleted.contains(l.first); });
    std::erase_if(now.addresses, [&](const auto &a) { return netdevs.deleted.contains(a.second.ifindex); });
    std::erase_if(now.routes, [&](const auto &r) { return netdevs.deleted.contains(r.second.oif); });
    for (const auto &[old, index] : netdevs.recreated) {
        auto fresh = then.links.at(index);
        fresh.up = false;
        fresh.mtu = 0;
        fresh.master = 0;
        now.links[index] = fresh;
    }
    auto reqs = rollback_requests(then, now);
    rb->changes += reqs.size();
    if (reqs.empty()) {
        finish_rollback(*rb);
        return;
    }
    size_t count = reqs.size();
    queue_.submit(std::move(reqs), [this, rb, count](Result<std::vector<Result<>>> results) {
        if (!results) {
            rb->failed += count;
            log::err("{}: rollback failed: {}", rb->path, results.error().to_string());
        } else {
            for (const auto &r : *results)
                if (!r) {
                    ++rb->failed;
                    log::warning("{}: {}", rb->path, r.error().message);
                }
        }
        finish_rollback(*rb);
    });
}

// Step 3, with the kernel's answers in: the participants, the log, the ledger, the file.
void Checkpoints::finish_rollback(Rollback &rb)
{
    auto &c = *rb.c;
    for (auto it = c.restores.rbegin(); it != c.restores.rend(); ++it)
        if (*it)
            (*it)();
    log::notice("{}: rolled back ({}): {} change(s), {} failed", rb.path, rb.why, rb.changes, rb.failed);
    manager_.record("link.checkpoint.rollback", nlohmann::json{{"checkpoint", rb.path},
                                                               {"why", rb.why},
                                                               {"changes", rb.changes},
                                                               {"failed", rb.failed}}
                                                    .dump());
    forget(c);
    auto done = std::move(rb.done);
    auto finish = std::move(rb.finish);
    if (done)
        done();
    if (finish)
        finish();
}

int Checkpoints::on_deadline(sd_event_source *s, uint64_t, void *userdata) noexcept
{
    auto self = static_cast<Checkpoints *>(userdata);
    try {
        const char *desc = nullptr;
        sd_event_source_get_description(s, &desc);
        std::string path = desc ? desc : "";
        if (self->active_.contains(path))
            self->roll_back(path, "not confirmed in time");
    } catch (const std::exception &e) {
        log::err("checkpoint rollback failed: {}", e.what());
    }
    return 0;
}

Result<> Checkpoints::confirm(const std::string &path)
{
    auto it = active_.find(path);
    if (it == active_.end())
        return bus_fail(bus_error::NoSuchId, "checkpoint: no active checkpoint {}", path);
    forget(*it->second);
    active_.erase(it);
    log::info("{}: confirmed", path);
    return {};
}

Result<> Checkpoints::rollback(const std::string &path, std::function<void()> done)
{
    if (!active_.contains(path))
        return bus_fail(bus_error::NoSuchId, "checkpoint: no active checkpoint {}", path);
    roll_back(path, "asked", std::move(done));
    return {};
}

void Checkpoints::roll_back(const std::string &path, const char *why, std::function<void()> done)
{
    auto it = active_.find(path);
    auto rb = std::make_shared<Rollback>();
    rb->c = std::move(it->second);
    rb->c->timer.reset();
    rb->path = path;
    rb->why = why;
    rb->done = std::move(done);
    active_.erase(it);
    // Its file stays until the rollback is done: a crash meanwhile rolls back at the next start.
    queue_.enqueue([this, rb](ChangeQueue::Finish finish) {
        rb->finish = std::move(finish);
        restore_netdevs(rb);
    });
}

} // namespace alopex::linkd
