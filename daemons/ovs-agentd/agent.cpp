// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <linux/rtnetlink.h>

#include <nlohmann/json.hpp>

#include "alopex/log.hpp"
#include "port_ops.hpp"

namespace alopex::ovs {

using json = nlohmann::json;

Result<std::unique_ptr<Agent>> Agent::create(sd_event *event, AgentConfig config, OvsdbConnection::Connect connect,
                                             Events events)
{
    std::unique_ptr<Agent> a(new Agent(event, std::move(config), std::move(events)));
    Agent *self = a.get();
    sd_event_source *s = nullptr;
    // Accuracy 1 µs: "at once" is at once. With 1 ms, sd-event may put the wakeup
    // anywhere in [time, time + 1 ms] to coalesce it with others, and did: a veth's
    // attach waited up to a millisecond before its transaction was even built.
    if (int r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, UINT64_MAX, 1, on_debounce, self); r < 0)
        return failf(-r, "debounce timer: {}", strerror(-r));
    a->debounce_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    if (int r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, UINT64_MAX, 10'000, on_confirm_timer, self); r < 0)
        return failf(-r, "confirmation timer: {}", strerror(-r));
    a->confirm_timer_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);

    netlink::MonitorOptions mo;   // addresses and configured routes: what MigrateUplink moves
    mo.route_filter = [](const netlink::RouteHeader &h) {
        return h.table != RT_TABLE_LOCAL && h.type == RTN_UNICAST &&
               (h.protocol == RTPROT_BOOT || h.protocol == RTPROT_STATIC || h.protocol == RTPROT_DHCP ||
                h.protocol == RTPROT_RA);
    };
    netlink::MonitorCallbacks mc;
    mc.on_event = [self](const netlink::Event &e) {
        if (std::holds_alternative<netlink::Link>(e.object))
            self->schedule();
    };
    mc.on_synced = [self](bool) { self->schedule(); };
    mc.on_error = [](const Error &e) { log::warning("rtnetlink: {}", e.message); };
    ALOPEX_TRY(monitor, netlink::Monitor::create(event, mo, std::move(mc)));
    a->monitor_ = std::move(monitor);

    ovsdb::Session::Callbacks cb;
    cb.synced = [self] {
        log::info("ovsdb-server: synced, {} rows", self->ovsdb_->session().replica()->size());
        self->resolve_waiters();
        self->schedule();
        if (self->events_.connection)
            self->events_.connection(true);
    };
    cb.lost = [self](const std::string &) {
        if (self->events_.connection)
            self->events_.connection(false);
    };
    cb.changed = [self](const std::vector<ovsdb::RowChange> &) {
        self->confirm_.check(*self->ovsdb_->session().replica());
        self->resolve_waiters();
        self->arm_confirm_timer();
        self->schedule();
    };
    ALOPEX_TRY(conn, OvsdbConnection::create(event, std::move(connect),
                                             {"Open_vSwitch", monitored(), a->config_.probe_interval}, std::move(cb),
                                             {}));
    a->ovsdb_ = std::move(conn);
    return a;
}

Agent::~Agent() = default;

uint64_t Agent::now() const
{
    uint64_t n = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &n);
    return n;
}

std::set<std::string> Agent::links() const
{
    std::set<std::string> out;
    for (const auto &[index, link] : monitor_->state().links)
        out.insert(link.name);
    return out;
}

Plan Agent::plan_now() const
{
    const ovsdb::Replica *r = ovsdb_->session().replica();
    if (!r || !ovsdb_->live())
        return {};
    return plan(*r, config_.settings.bridge, links(), config_.settings.prefixes, config_.settings.vlans, requests_);
}

bool Agent::settled() const noexcept
{
    return ovsdb_->live() && monitor_->links_synced() && !busy_ && !scheduled_ && confirm_.waiting() == 0 &&
           renaming_.empty();
}

// At once when the last reconcile is a debounce window ago (after the loop's current
// dispatch, so that what one read of the netlink socket brought is one plan), else at
// the window's end: events are coalesced without the first one waiting.
void Agent::schedule()
{
    if (scheduled_)
        return;
    scheduled_ = true;
    sd_event_source_set_time(debounce_.get(), std::max(now(), last_run_ + config_.settings.debounce_usec));
    sd_event_source_set_enabled(debounce_.get(), SD_EVENT_ONESHOT);
}

void Agent::reconcile()
{
    scheduled_ = false;
    last_run_ = now();
    if (busy_) {
        again_ = true;
        return;
    }
    const ovsdb::Replica *r = ovsdb_->session().replica();
    if (!r || !ovsdb_->live() || !monitor_->links_synced())
        return;   // the sync that comes schedules again
    if (config_.settings.create_bridge && !find_bridge(*r, config_.settings.bridge).row) {
        create_bridge();
        return;
    }
    const Settings &s = config_.settings;
    auto have = links();
    std::erase_if(requests_.exclude, [&](const std::string &n) { return !have.contains(n); });   // the link went
    std::erase_if(keep_name_, [&](const std::string &n) { return !have.contains(n); });
    Plan p = plan(*r, s.bridge, have, s.prefixes, s.vlans, requests_);
    if (s.enable_rename && events_.rename)
        hold_for_rename(p);
    if (p.empty()) {
        last_problem_.clear();
        if (events_.converged)
            events_.converged();
        return;
    }
    auto ops = change_ops(*r, s.bridge, p.attach, p.detach, p.retag);
    if (!ops) {
        if (ops.error().message != last_problem_)
            log::warning("{} (nothing attached until it changes)", ops.error().message);
        last_problem_ = ops.error().message;
        std::vector<std::string> names;
        for (const auto &spec : p.attach)
            names.push_back(spec.name);
        fail_waiters(names, p.detach, ops.error());
        return;
    }
    last_problem_.clear();
    std::vector<std::string> attach, detach = p.detach;
    for (const auto &spec : p.attach)
        attach.push_back(spec.name);
    for (const auto &spec : p.retag)
        log::info("{} on {}: VLAN tag {}, trunks [{}], as [ports.{}] says", spec.name, config_.settings.bridge,
                  spec.tag ? std::to_string(*spec.tag) : std::string("none"), fmt::join(spec.trunks, ","), spec.name);
    busy_ = true;
    ++stats_.transactions;
    ovsdb_->session().transact(*ops, [this, attach, detach](Result<json> res) { done(std::move(res), attach, detach); });
}

void Agent::done(Result<json> res, std::vector<std::string> attached, std::vector<std::string> detached)
{
    busy_ = false;
    if (!res && res.error().code == EAGAIN) {   // the bridge changed under it: again, on the fresh copy
        ++stats_.retries;
        reconcile();
        return;
    }
    if (!res) {
        ++stats_.failures;
        log::warning("ovsdb-server refused the change: {}", res.error().message);
        for (const auto &n : attached)
            if (events_.failed)
                events_.failed(n, res.error().message);
        fail_waiters(attached, detached, Error{EIO, "ovsdb-server refused the change: " + res.error().message, {}});
    } else {
        for (const auto &n : detached) {
            ++stats_.detached;
            log::info("detached {} from {}", n, config_.settings.bridge);
            if (events_.detached)
                events_.detached(n);
        }
        auto cfg = next_cfg_of(*res);
        if (!attached.empty() && cfg) {
            confirm_.expect(*cfg, attached, now() + config_.confirm_timeout, [this](Outcome o) {
                for (const auto &[name, ofport] : o.attached) {
                    ++stats_.attached;
                    log::info("attached {} to {} (ofport {})", name, config_.settings.bridge, ofport);
                    if (events_.attached)
                        events_.attached(name, ofport);
                }
                for (const auto &[name, why] : o.failed) {
                    ++stats_.attach_failed;
                    log::warning("{} on {}: {}", name, config_.settings.bridge, why);
                    if (events_.failed)
                        events_.failed(name, why);
                    fail_waiters({name}, {}, Error{EIO, fmt::format("{}: {}", name, why), {}});
                }
            });
            confirm_.check(*ovsdb_->session().replica());
            arm_confirm_timer();
        }
    }
    if (std::exchange(again_, false))
        schedule();
}

void Agent::create_bridge()
{
    busy_ = true;
    ++stats_.transactions;
    log::info("creating bridge {} (datapath {})", config_.settings.bridge, config_.settings.datapath_type);
    ovsdb_->session().transact(create_bridge_ops(config_.settings.bridge, config_.settings.datapath_type), [this](Result<json> res) {
        busy_ = false;
        if (!res && res.error().code != EAGAIN) {   // EAGAIN: someone made it meanwhile
            ++stats_.failures;
            log::warning("creating bridge {}: {}", config_.settings.bridge, res.error().message);
            return;
        }
        if (res && events_.bridge_created)
            events_.bridge_created(config_.settings.bridge);
        schedule();
    });
}

void Agent::ensure_bridge(std::function<void(Result<bool>)> done)
{
    const ovsdb::Replica *r = replica();
    if (!r) {
        done(failf(EIO, "ovsdb-server is not connected"));
        return;
    }
    if (find_bridge(*r, config_.settings.bridge).row) {
        done(false);
        return;
    }
    ++stats_.transactions;
    log::info("creating bridge {} (datapath {})", config_.settings.bridge, config_.settings.datapath_type);
    ovsdb_->session().transact(create_bridge_ops(config_.settings.bridge, config_.settings.datapath_type),
                               [this, done](Result<json> res) {
                                   if (!res && res.error().code == EAGAIN) {   // someone made it meanwhile
                                       done(false);
                                   } else if (!res) {
                                       done(std::unexpected(res.error()));
                                   } else {
                                       if (events_.bridge_created)
                                           events_.bridge_created(config_.settings.bridge);
                                       done(true);
                                   }
                                   schedule();
                               });
}

void Agent::arm_confirm_timer()
{
    uint64_t at = confirm_.next_deadline();
    for (const auto &[name, w] : attach_waiters_)
        at = std::min(at, w.deadline);
    for (const auto &[name, w] : detach_waiters_)
        at = std::min(at, w.deadline);
    sd_event_source_set_time(confirm_timer_.get(), at);
    sd_event_source_set_enabled(confirm_timer_.get(), at == UINT64_MAX ? SD_EVENT_OFF : SD_EVENT_ONESHOT);
}

int Agent::on_debounce(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *a = static_cast<Agent *>(userdata);
    return log::contained("reconcile", [a] { a->reconcile(); });
}

int Agent::on_confirm_timer(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *a = static_cast<Agent *>(userdata);
    return log::contained("confirmations", [a] {
        a->confirm_.advance(a->now());
        a->expire_waiters(a->now());
        a->arm_confirm_timer();
    });
}

} // namespace alopex::ovs
