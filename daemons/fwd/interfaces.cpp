// SPDX-License-Identifier: GPL-2.0-or-later
// Link and address events -> zone membership (interface maps) and zone address sets,
// incrementally: an event marks its link (by ifindex) dirty; once per loop iteration (a
// defer source below the netlink socket's priority, so a burst read in one go is one
// batch) the dirty links are looked up in the monitor's state (Monitor::state(), no copy
// of our own), compared with what each contributes now, and the differences go to the
// kernel as one element batch. Work per iteration is proportional to the links touched
// and their addresses, never to the number of links or addresses on the host. The first
// sync -> the first full apply.
//
// Which addresses a zone holds: every address on an interface of the zone, IPv4 and IPv6,
// including IPv6 link-local and tentative (DAD not finished) ones, but not those whose DAD
// failed (another node on the link has them). "@self" in a rule means "this host's
// addresses on that zone's interfaces"; a tentative address is this host's once DAD ends
// (the kernel does not deliver to it before), and holding it from the start keeps a rule
// such as "ssh to @self" from changing when DAD ends.
#include <linux/if_addr.h>

#include <utility>

#include <fmt/format.h>

#include "alopex/ipc/firewall1.hpp"
#include "alopex/ipc/firewall1_spec.hpp"
#include "alopex/log.hpp"
#include "compile/compile.hpp"
#include "manager.hpp"

namespace alopex::fwd {

namespace f1 = ipc::firewall1;
namespace api = ipc::firewall1::api;

const netlink::Snapshot &Manager::kernel() const
{
    static const netlink::Snapshot empty;
    return monitor_ ? monitor_->state() : empty;
}

std::string Manager::zone_for(const Model &model, const std::map<std::string, std::string> &explicit_zones,
                              int ifindex, const std::string &name) const
{
    // SetInterfaceZone over linkd's zones over the file's patterns. Assignments to zones
    // the model does not have are kept (in the state), not applied.
    if (auto e = explicit_zones.find(name); e != explicit_zones.end() && model.zones.contains(e->second))
        return e->second;
    if (auto l = linkd_zones_.find(ifindex); l != linkd_zones_.end() && model.zones.contains(l->second))
        return l->second;
    static const std::map<std::string, std::string> none;
    return compile::zone_of(model, none, name);
}

LinkMember Manager::member_of(const Model &model, const std::map<std::string, std::string> &assigned,
                              int ifindex) const
{
    LinkMember m;
    const auto &k = kernel();
    auto link = k.links.find(ifindex);
    if (link == k.links.end())
        return m;   // gone
    m.zone = zone_for(model, assigned, ifindex, link->second.name);
    if (m.zone.empty() || !model.zones.contains(m.zone))
        return LinkMember{};   // in no zone: it contributes nothing
    m.name = link->second.name;
    // The addresses of this link only: the snapshot is ordered by ifindex first.
    for (auto it = k.addresses.lower_bound(netlink::AddressKey{ifindex, 0, {}, 0});
         it != k.addresses.end() && it->first.ifindex == ifindex; ++it) {
        const auto &a = it->second;
        if (a.flags & IFA_F_DADFAILED)
            continue;   // another node's address
        if (!a.address.empty())
            ++m.hosts[a.address];
    }
    return m;
}

Membership Manager::desired(const Model &model, const std::map<std::string, std::string> &assigned) const
{
    Membership m;
    for (const auto &[index, _] : kernel().links) {
        LinkMember lm = member_of(model, assigned, index);
        if (lm.zone.empty())
            continue;
        m.interfaces.insert_or_assign(lm.name, lm.zone);
        auto &zone = m.addresses[lm.zone];
        for (const auto &[host, n] : lm.hosts)
            zone[host] += n;
        m.links.emplace(index, std::move(lm));
    }
    return m;
}

std::pair<std::set<int>, uint64_t> Manager::take_dirty()
{
    // A later event starts its own latency sample.
    return {std::exchange(dirty_, {}), std::exchange(pending_since_us_, 0)};
}

void Manager::give_back(const std::set<int> &links)
{
    // Tried again with the next event's batch (not at once: the kernel just refused).
    dirty_.insert(links.begin(), links.end());
}

void Manager::mark(int ifindex)
{
    dirty_.insert(ifindex);
    if (flush_)
        sd_event_source_set_enabled(flush_.get(), SD_EVENT_ONESHOT);
}

void Manager::mark_name(const std::string &name)
{
    for (const auto &[index, link] : kernel().links)
        if (link.name == name)
            mark(index);
    // A name that is in the maps but no longer on a link (renamed since) is cleaned up
    // by that link's own event.
}

Manager::MembershipChange Manager::plan_membership(const std::map<std::string, std::string> &assigned,
                                                  const std::set<int> &links) const
{
    const Model &model = *model_;
    MembershipChange c;
    // What each link contributes now, against what it contributed.
    for (int index : links) {
        LinkMember now = member_of(model, assigned, index);
        auto have = applied_.links.find(index);
        if (have == applied_.links.end() ? now.zone.empty() : have->second == now)
            continue;
        c.changed.emplace(index, std::move(now));
    }
    // Interface names: those of the changed links before (leaving), then after (joining),
    // so that a name passed from one link to another in one iteration ends right.
    static const LinkMember none;
    auto before = [&](int index) -> const LinkMember & {
        auto it = applied_.links.find(index);
        return it == applied_.links.end() ? none : it->second;
    };
    for (const auto &[index, now] : c.changed)
        if (const auto &old = before(index); !old.zone.empty())
            c.names.emplace(old.name, std::string());
    for (const auto &[index, now] : c.changed)
        if (!now.zone.empty())
            c.names.insert_or_assign(now.name, now.zone);
    // Address references: (zone, host) -> change in count.
    for (const auto &[index, now] : c.changed) {
        const auto &old = before(index);
        for (const auto &[host, n] : old.hosts)
            c.delta[{old.zone, host}] -= long(n);
        for (const auto &[host, n] : now.hosts)
            c.delta[{now.zone, host}] += long(n);
    }
    auto count_of = [&](const std::string &zone, const net::Address &host) -> long {
        auto z = applied_.addresses.find(zone);
        if (z == applied_.addresses.end())
            return 0;
        auto h = z->second.find(host);
        return h == z->second.end() ? 0 : long(h->second);
    };
    auto append = [](std::vector<nft::ElementOp> &out, std::vector<nft::ElementOp> ops) {
        out.insert(out.end(), std::make_move_iterator(ops.begin()), std::make_move_iterator(ops.end()));
    };
    std::vector<nft::ElementOp> moves, adds;
    for (const auto &[key, d] : c.delta) {
        long was = count_of(key.first, key.second), will = was + d;
        if (was > 0 && will <= 0)
            append(c.ops, compile::address_ops(key.first, key.second, false));
        else if (was <= 0 && will > 0)
            append(adds, compile::address_ops(key.first, key.second, true));
    }
    for (const auto &[name, zone] : c.names) {
        auto it = applied_.interfaces.find(name);
        const std::string &was = it == applied_.interfaces.end() ? none.zone : it->second;
        if (was != zone)
            append(moves, compile::interface_ops(model, name, was, zone));
    }
    append(c.ops, std::move(moves));
    append(c.ops, std::move(adds));
    return c;
}

void Manager::commit_membership(MembershipChange &c)
{
    bool interfaces_changed = false;
    for (const auto &[name, zone] : c.names) {
        auto it = applied_.interfaces.find(name);
        const std::string was = it == applied_.interfaces.end() ? std::string() : it->second;
        if (was == zone)
            continue;
        interfaces_changed = true;
        if (zone.empty()) {
            applied_.interfaces.erase(it);
            log::info({{"ALOPEX_LINK", name}, {"ALOPEX_ZONE", was}}, "{} left zone {}", name, was);
        } else {
            applied_.interfaces.insert_or_assign(name, zone);
            log::info({{"ALOPEX_LINK", name}, {"ALOPEX_ZONE", zone}}, "{} is in zone {}", name, zone);
        }
    }
    bool addresses_changed = false;
    for (const auto &[key, d] : c.delta) {
        if (d == 0)
            continue;
        auto &hosts = applied_.addresses[key.first];
        long will = long(hosts[key.second]) + d;
        addresses_changed |= (will > 0) != (long(hosts[key.second]) > 0);
        if (will > 0) {
            hosts[key.second] = unsigned(will);
        } else {
            hosts.erase(key.second);
            if (hosts.empty())
                applied_.addresses.erase(key.first);
        }
    }
    for (auto &[index, now] : c.changed) {
        if (now.zone.empty())
            applied_.links.erase(index);
        else
            applied_.links.insert_or_assign(index, std::move(now));
    }
    if (interfaces_changed)
        property_changed(api::property::Interfaces);
    if (addresses_changed)
        property_changed(api::property::ZoneAddresses);
}

void Manager::flush_membership(std::map<std::string, std::string> assigned,
                               std::function<void(Result<>, bool batch)> done)
{
    auto [taken, since] = take_dirty();
    (void)since;
    auto change = std::make_shared<MembershipChange>(plan_membership(assigned, taken));
    if (change->changed.empty()) {
        state_.interfaces = std::move(assigned);
        return done({}, false);
    }
    auto ops = change->ops;   // the batch; the plan is committed once the kernel has it
    const bool batch = !ops.empty();
    apply_elements(std::move(ops), "interfaces", [this, change, taken, batch, assigned = std::move(assigned),
                                                  done = std::move(done)](Result<> r) mutable {
        if (r) {
            commit_membership(*change);
            state_.interfaces = std::move(assigned);
            return done({}, batch);
        }
        // The full rebuild makes the table exactly right from the monitor's state, or
        // says which element the kernel refuses.
        log::warning("rebuilding the table instead of the refused element batch");
        give_back(taken);
        runtime::State next = state_;
        next.interfaces = std::move(assigned);
        rebuild(Target{&*model_, std::move(next), std::nullopt}, "interfaces",
                [done](Result<> b) { done(std::move(b), bool(b)); });
    });
}

int Manager::on_flush(sd_event_source *, void *userdata) noexcept
{
    auto *self = static_cast<Manager *>(userdata);
    try {
        self->flush_pending();
    } catch (const std::exception &e) {
        log::err("following links and addresses: {}", e.what());
    }
    return 0;
}

void Manager::flush_pending()
{
    // One flush waits in the queue at a time; it takes whatever is marked when its turn
    // comes (events that arrive meanwhile go in it too).
    if (!ready_ || dirty_.empty() || flush_queued_)
        return;
    flush_queued_ = true;
    enqueue([this](Next next) {
        flush_queued_ = false;
        if (dirty_.empty())
            return next();
        const uint64_t since = pending_since_us_;
        flush_membership(state_.interfaces, [this, since, next](Result<> r, bool batch) {
            if (!r) {
                // The marked links stay marked: the next event tries again (and times anew).
                log::err("following links and addresses: {}", r.error().to_string());
            } else if (batch && since) {
                histogram_.record(monotonic_us() - since);
                property_changed(api::property::LatencyHistogram);
            }
            next();
        });
    });
}

Result<> Manager::start_flushing()
{
    sd_event_source *src = nullptr;
    int r = sd_event_add_defer(event_, &src, &Manager::on_flush, this);
    if (r < 0)
        return failf(-r, "cannot add the membership source: {}", strerror(-r));
    flush_.reset(src);
    // Just below the netlink socket (at NORMAL; the bus is above): a burst of events
    // read in one go, or over several reads back to back, is one batch. (At NORMAL + 10
    // the address benchmark's p99 went from 0.4 ms to 11-13 ms under SCHED_FIFO; at
    // NORMAL + 1 it is as before.)
    sd_event_source_set_priority(src, SD_EVENT_PRIORITY_NORMAL + 1);
    sd_event_source_set_enabled(src, SD_EVENT_OFF);
    return {};
}

void Manager::handle(const netlink::Event &e)
{
    if (!ready_)
        return;   // the first full apply (on the first sync) takes everything in
    int ifindex = 0;
    if (const auto *l = std::get_if<netlink::Link>(&e.object)) {
        // A link change other than its name moves nothing.
        const auto *p = e.previous ? std::get_if<netlink::Link>(&*e.previous) : nullptr;
        if (e.change == netlink::Change::Changed && p && l->name == p->name)
            return;
        ifindex = l->ifindex;
    } else if (const auto *a = std::get_if<netlink::Address>(&e.object)) {
        // An address of a link in no zone changes nothing (unless the link is being
        // looked at anyway this iteration).
        if (!applied_.links.contains(a->ifindex) && !dirty_.contains(a->ifindex))
            return;
        ifindex = a->ifindex;
    } else {
        return;
    }
    // From the moment the event was read from the socket (not this call): an event that
    // waited behind earlier ones of the same read counts that wait.
    if (!pending_since_us_)
        pending_since_us_ = monitor_ && monitor_->received_us() ? monitor_->received_us() : monotonic_us();
    mark(ifindex);
    // A flood that never lets the socket run dry must not hold the batch back for ever.
    if (monotonic_us() - pending_since_us_ > options_.max_coalesce_us)
        flush_pending();
}

void Manager::set_linkd_zone(int ifindex, const std::string &zone)
{
    auto it = linkd_zones_.find(ifindex);
    if (it == linkd_zones_.end() ? zone.empty() : it->second == zone)
        return;
    if (zone.empty())
        linkd_zones_.erase(it);
    else
        linkd_zones_.insert_or_assign(ifindex, zone);
    log::info({{"ALOPEX_ZONE", zone}}, "alopex-linkd puts link {} in zone '{}'", ifindex, zone);
    if (ready_)
        mark(ifindex);   // else the first full apply takes it in
}

void Manager::hold_start(uint64_t max_us)
{
    if (ready_ || max_us == 0)
        return;
    held_ = true;
    sd_event_source *src = nullptr;
    int r = sd_event_add_time_relative(
        event_, &src, CLOCK_MONOTONIC, max_us, 0,
        [](sd_event_source *, uint64_t, void *userdata) noexcept -> int {
            auto *self = static_cast<Manager *>(userdata);
            log::info("alopex-linkd's zones not read in time: starting without them");
            self->release_start();
            return 0;
        },
        this);
    if (r < 0) {
        log::warning("cannot arm the start timer: {}", strerror(-r));
        held_ = false;
        return;
    }
    hold_timer_.reset(src);
}

void Manager::release_start()
{
    hold_timer_.reset();
    if (!held_)
        return;
    held_ = false;
    if (synced_ && !ready_)
        first_apply();
}

void Manager::handle_synced(bool initial)
{
    if (!initial) {
        // The resync delivered the differences as events: the dirty links are marked.
        log::info("resynced with the kernel after an overrun");
        return;
    }
    synced_ = true;
    log::info("links and addresses in: {} links, {} addresses", kernel().links.size(),
              kernel().addresses.size());
    if (held_)
        return;   // release_start() applies
    first_apply();
}

void Manager::first_apply()
{
    if (starting_)
        return;
    starting_ = true;
    // The Session takes over a table a previous fwd left (persist): the kernel goes from
    // that table to this one in one transaction, so there is never a moment without one.
    enqueue([this](Next next) {
        rebuild(Target{&*model_, std::nullopt, std::nullopt}, "start", [this, next](Result<> r) {
            if (!r) {
                if (on_fatal)
                    on_fatal(r.error());
                return next();
            }
            ready_ = true;
            // The start's success must not hide that the runtime state was unreadable.
            if (!load_error_.empty())
                set_last_error(std::exchange(load_error_, {}));
            arm_expiry();
            if (on_ready)
                on_ready();
            next();
        });
    });
}

} // namespace alopex::fwd
