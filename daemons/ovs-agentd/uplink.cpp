// SPDX-License-Identifier: GPL-2.0-or-later
#include "uplink.hpp"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "alopex/log.hpp"
#include "port_ops.hpp"
#include "settings.hpp"

namespace alopex::ovs {

namespace manager = ipc::link1::manager;
namespace checkpoints = ipc::link1::checkpoints;
using json = nlohmann::json;

namespace {

constexpr uint32_t linkd_grace_s = 30;   // linkd's checkpoint outlives the agent's deadline
constexpr unsigned internal_tries = 250;  // 5 s for ovs-vswitchd to make the internal interface
constexpr uint64_t internal_poll = 20'000;

uint64_t realtime_now()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000 + uint64_t(ts.tv_nsec) / 1000;
}

// The NIC's addresses to move: global or site scope, permanent (DHCP leases and
// autoconfigured IPv6 addresses have lifetimes). `leased`: one had a lifetime.
std::vector<std::string> movable_addresses(const netlink::Snapshot &k, int ifindex, std::string *leased = nullptr)
{
    std::vector<std::string> out;
    for (const auto &[key, a] : k.addresses) {
        if (a.ifindex != ifindex || a.scope >= RT_SCOPE_LINK)
            continue;
        std::string text = fmt::format("{}/{}", a.address.to_string(), a.prefixlen);
        bool permanent = a.valid_lft == 0xffffffff && (a.family == AF_INET || (a.flags & IFA_F_PERMANENT));
        if (!permanent) {
            if (leased && a.family == AF_INET && leased->empty())
                *leased = text;
            continue;
        }
        out.push_back(std::move(text));
    }
    return out;
}

struct MovedRoute {
    std::string to, via;
    uint32_t metric = 0, table = 0;
};

std::vector<MovedRoute> movable_routes(const netlink::Snapshot &k, int ifindex)
{
    std::vector<MovedRoute> out;
    for (const auto &[key, r] : k.routes) {
        if (r.oif != ifindex || (r.protocol != RTPROT_BOOT && r.protocol != RTPROT_STATIC))
            continue;
        MovedRoute m;
        m.to = r.dst_len == 0 ? "default" : fmt::format("{}/{}", r.dst.to_string(), r.dst_len);
        m.via = r.gateway.empty() ? "" : r.gateway.to_string();
        m.metric = r.priority;
        m.table = r.table == RT_TABLE_MAIN ? 0 : r.table;
        out.push_back(std::move(m));
    }
    return out;
}

} // namespace

std::string migration_text(const Migration &m)
{
    return json{{"checkpoint", m.checkpoint}, {"nic", m.nic}, {"created", m.created}, {"deadline", m.deadline}}.dump();
}

Result<Migration> parse_migration(std::string_view text)
{
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("checkpoint") || !j["checkpoint"].is_string() ||
        !j.contains("nic") || !j["nic"].is_string() || !j.contains("created") || !j["created"].is_boolean() ||
        !j.contains("deadline") || !j["deadline"].is_number_unsigned())
        return failf(EINVAL, "not a migration mark: {}", text.substr(0, 200));
    Migration m;
    m.checkpoint = j["checkpoint"];
    m.nic = j["nic"];
    m.created = j["created"];
    m.deadline = j["deadline"];
    if (!m.checkpoint.starts_with("/") || !valid_ifname(m.nic))
        return failf(EINVAL, "not a migration mark: {}", text.substr(0, 200));
    return m;
}

struct Uplink::Run {
    Migration m;
    uint32_t timeout_s = 0;
    int nic = 0, internal = 0;
    std::vector<std::string> addresses;
    std::vector<MovedRoute> routes;
    std::vector<std::string> dns_servers, dns_domains;
    bool checkpointed = false, attached = false;
    Done done;
};

Uplink::~Uplink() = default;

Result<> Uplink::check(const std::string &bridge, const std::string &nic, uint32_t timeout_s) const
{
    const std::string &ours = agent_.settings().bridge;
    if (bridge != ours)
        return std::unexpected(Error{EINVAL, fmt::format("bridge: the agent keeps its ports on {}, not '{}'", ours,
                                                         bridge.substr(0, 64)),
                                     bus_error::InvalidArgument});
    if (!valid_ifname(nic) || nic == bridge)
        return std::unexpected(Error{EINVAL, fmt::format("nic: not a NIC to move: '{}'", nic.substr(0, 64)),
                                     bus_error::InvalidArgument});
    int ifindex = agent_.ifindex_of(nic);
    if (!ifindex)
        return std::unexpected(Error{ENODEV, fmt::format("nic: no link {}", nic), bus_error::NoSuchLink});
    if (timeout_s < 10 || timeout_s > 3600)
        return std::unexpected(Error{EINVAL, fmt::format("timeout_s: 10 to 3600, not {}", timeout_s),
                                     bus_error::InvalidArgument});
    if (running_ || pending_)
        return std::unexpected(Error{EBUSY,
                                     fmt::format("a migration of {} waits for its confirmation (checkpoint {})",
                                                 pending_ ? pending_->nic : running_->m.nic,
                                                 pending_ ? pending_->checkpoint : running_->m.checkpoint),
                                     bus_error::Busy});
    const ovsdb::Replica *r = agent_.replica();
    if (!r)
        return failf(EIO, "ovsdb-server is not connected (yet)");
    for (const auto &[uuid, row] : r->rows("Interface"))
        if (name_of(row) == nic)
            return std::unexpected(Error{EINVAL, fmt::format("nic: {} is an Open vSwitch port already", nic),
                                         bus_error::InvalidArgument});
    std::string leased;
    auto addresses = movable_addresses(agent_.kernel(), ifindex, &leased);
    if (!leased.empty())
        return std::unexpected(Error{EINVAL,
                                     fmt::format("nic: {} has an address with a lifetime ({}, a DHCP lease): give it a "
                                                 "static address first",
                                                 nic, leased),
                                     bus_error::InvalidArgument});
    if (addresses.empty())
        return std::unexpected(Error{EINVAL, fmt::format("nic: {} has no static address to move", nic),
                                     bus_error::InvalidArgument});
    return {};
}

void Uplink::migrate(const std::string &nic, uint32_t timeout_s, Done done)
{
    auto run = std::make_shared<Run>();
    run->m.bridge = agent_.settings().bridge;
    run->m.nic = nic;
    run->timeout_s = timeout_s;
    run->nic = agent_.ifindex_of(nic);
    run->addresses = movable_addresses(agent_.kernel(), run->nic);
    run->routes = movable_routes(agent_.kernel(), run->nic);
    run->done = std::move(done);
    running_ = run;
    log::info("migrating {} behind {}: {} address(es), {} route(s), {} s to confirm", nic, run->m.bridge,
              run->addresses.size(), run->routes.size(), timeout_s);
    step_checkpoint(run);
}

void Uplink::step_checkpoint(std::shared_ptr<Run> run)
{
    linkd_.call<bus::ObjectPath>(ipc::link1::service, ipc::link1::path, checkpoints::spec,
                              checkpoints::method::CheckpointCreate,
                              [this, run](Result<std::tuple<bus::ObjectPath>> r) {
                                  if (!r)
                                      return fail(run, Error{r.error().code,
                                                             "a checkpoint from alopex-linkd: " + r.error().message,
                                                             r.error().bus_name});
                                  run->m.checkpoint = std::get<0>(*r).value;
                                  run->checkpointed = true;
                                  run->m.deadline = realtime_now() + uint64_t(run->timeout_s) * 1'000'000;
                                  step_bridge(run);
                              },
                              run->timeout_s + linkd_grace_s);
}

void Uplink::step_bridge(std::shared_ptr<Run> run)
{
    agent_.ensure_bridge([this, run](Result<bool> created) {
        if (!created)
            return fail(run, created.error());
        run->m.created = *created;
        step_mark(run);
    });
}

void Uplink::step_mark(std::shared_ptr<Run> run)
{
    const ovsdb::Replica *r = agent_.replica();
    auto ops = r ? migration_mark_ops(*r, run->m.bridge, migration_text(run->m))
                 : Result<json>(failf(EIO, "ovsdb-server is not connected"));
    if (!ops)
        return fail(run, ops.error());
    agent_.ovsdb().session().transact(*ops, [this, run](Result<json> res) {
        if (!res)
            return fail(run, Error{res.error().code, "marking the bridge: " + res.error().message, {}});
        step_attach(run);
    });
}

void Uplink::step_attach(std::shared_ptr<Run> run)
{
    agent_.attach(PortSpec{run->m.nic, "", std::nullopt, std::nullopt, {}}, [this, run](Result<int64_t> ofport) {
        if (!ofport)
            return fail(run, ofport.error());
        run->attached = true;
        step_internal(run, 0);
    });
}

// The bridge's internal interface in the kernel (polled: ovs-vswitchd makes it after
// the transaction), then up.
void Uplink::step_internal(std::shared_ptr<Run> run, unsigned tries)
{
    run->internal = agent_.ifindex_of(run->m.bridge);
    if (!run->internal) {
        if (tries >= internal_tries)
            return fail(run, Error{ETIMEDOUT, fmt::format("ovs-vswitchd made no interface {} within 5 s", run->m.bridge),
                                   {}});
        later_(internal_poll, [this, run, tries] {
            if (running_ == run)
                step_internal(run, tries + 1);
        });
        return;
    }
    linkd_.call<>(ipc::link1::service, ipc::link1::path, manager::spec, manager::method::SetLinkUp,
                  [this, run](Result<std::tuple<>> r) {
                      if (!r)
                          return fail(run, Error{r.error().code,
                                                 "setting " + run->m.bridge + " up through alopex-linkd: " +
                                                     r.error().message,
                                                 r.error().bus_name});
                      step_move(run, 0);
                  },
                  int32_t{run->internal});
}

// Addresses first (each added on the internal interface, then taken off the NIC), then
// routes (each off the NIC, which may have dropped it with its last address already,
// then on the internal interface): step `next` of 2 * (addresses + routes).
void Uplink::step_move(std::shared_ptr<Run> run, size_t next)
{
    size_t na = run->addresses.size() * 2, nr = run->routes.size() * 2;
    if (next >= na + nr)
        return step_dns(run, 0);
    auto then = [this, run, next](std::string what, bool must) {
        return [this, run, next, what, must](Result<std::tuple<>> r) {
            if (!r && must)
                return fail(run, Error{r.error().code, what + " through alopex-linkd: " + r.error().message,
                                       r.error().bus_name});
            step_move(run, next + 1);
        };
    };
    const char *svc = ipc::link1::service, *path = ipc::link1::path;
    if (next < na) {
        const std::string &a = run->addresses[next / 2];
        if (next % 2 == 0)
            linkd_.call<>(svc, path, manager::spec, manager::method::AddAddress,
                          then(fmt::format("adding {} to {}", a, run->m.bridge), true), int32_t{run->internal}, a);
        else
            linkd_.call<>(svc, path, manager::spec, manager::method::RemoveAddress,
                          then(fmt::format("removing {} from {}", a, run->m.nic), true), int32_t{run->nic}, a);
        return;
    }
    const MovedRoute &rt = run->routes[(next - na) / 2];
    if ((next - na) % 2 == 0)
        linkd_.call<>(svc, path, manager::spec, manager::method::RemoveRoute,
                      then("removing a route", false), rt.to, rt.via, int32_t{run->nic}, rt.metric, rt.table);
    else
        linkd_.call<>(svc, path, manager::spec, manager::method::AddRoute,
                      then(fmt::format("adding the route {} via {} to {}", rt.to, rt.via.empty() ? "-" : rt.via,
                                       run->m.bridge),
                           true),
                      rt.to, rt.via, int32_t{run->internal}, rt.metric, rt.table);
}

// The NIC's DNS servers and domains as linkd publishes them (its profile's, its run-time
// ones): given to the internal interface with SetDNS, and the NIC gets none (SetDNS
// with empty lists, so that its profile's do not come back on it meanwhile). linkd's
// checkpoint puts both links' run-time DNS back on rollback. Steps: 0 and 1 read the
// NIC's servers and domains, 2 sets the internal interface's, 3 the NIC's.
void Uplink::step_dns(std::shared_ptr<Run> run, int step)
{
    namespace link = ipc::link1::link;
    if (step == 2 && run->dns_servers.empty() && run->dns_domains.empty())
        step = 4;   // nothing to move
    if (step >= 4)
        return step_done(run);
    if (step < 2) {
        std::string nic_path = fmt::format("{}/{}", ipc::link1::link_prefix, run->nic);
        linkd_.get<std::vector<std::string>>(
            ipc::link1::service, nic_path.c_str(), link::spec,
            step == 0 ? link::property::DNSServers : link::property::DNSDomains,
            [this, run, step](Result<std::vector<std::string>> r) {
                if (!r)
                    return fail(run, Error{r.error().code,
                                           "the DNS of " + run->m.nic + " from alopex-linkd: " + r.error().message,
                                           r.error().bus_name});
                (step == 0 ? run->dns_servers : run->dns_domains) = std::move(*r);
                step_dns(run, step + 1);
            });
        return;
    }
    bool internal = step == 2;
    const std::string &name = internal ? run->m.bridge : run->m.nic;
    std::vector<std::string> none;
    linkd_.call<>(ipc::link1::service, ipc::link1::path, manager::spec, manager::method::SetDNS,
                  [this, run, step, name](Result<std::tuple<>> r) {
                      if (!r)
                          return fail(run, Error{r.error().code,
                                                 "setting the DNS of " + name + " through alopex-linkd: " +
                                                     r.error().message,
                                                 r.error().bus_name});
                      step_dns(run, step + 1);
                  },
                  int32_t{internal ? run->internal : run->nic}, internal ? run->dns_servers : none,
                  internal ? run->dns_domains : none);
}

void Uplink::step_done(std::shared_ptr<Run> run)
{
    running_.reset();
    pending_ = run->m;
    arm(run->m);
    record_("ovs.uplink.migrate",
            json{{"bridge", run->m.bridge}, {"nic", run->m.nic}, {"checkpoint", run->m.checkpoint},
                 {"addresses", run->addresses}, {"routes", run->routes.size()}, {"dns_servers", run->dns_servers},
                 {"dns_domains", run->dns_domains}}
                .dump());
    log::info("{} is behind {} now; rolled back at the deadline unless checkpoint {} is confirmed", run->m.nic,
              run->m.bridge, run->m.checkpoint);
    run->done(run->m);
}

// A step failed: what was done is undone at once (linkd's checkpoint rolled back, the
// NIC off the bridge, the bridge deleted if this migration made it), then the error.
void Uplink::fail(std::shared_ptr<Run> run, const Error &e)
{
    log::warning("migrating {} behind {}: {}; undoing it", run->m.nic, run->m.bridge, e.message);
    auto finish = [this, run, e](Result<>) {
        running_.reset();
        run->done(std::unexpected(e));
    };
    if (!run->checkpointed)
        return finish({});
    roll_back(run->m, finish);
}

void Uplink::arm(const Migration &m)
{
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_time(event_, &s, CLOCK_REALTIME, m.deadline, 100'000, on_deadline, this); r < 0) {
        log::err("cannot arm the uplink migration's deadline: {}", strerror(-r));
        return;
    }
    timer_.reset(s);
}

int Uplink::on_deadline(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<Uplink *>(userdata);
    return log::contained("uplink deadline", [self] { self->deadline(); });
}

// The deadline: linkd is asked to roll the checkpoint back. It did: the agent undoes its
// part. It has no such checkpoint: confirmed (keep, clear the mark) — unless the NIC holds
// addresses again, which means linkd rolled it back by itself while the agent was away.
void Uplink::deadline()
{
    timer_.reset();
    if (!pending_)
        return;
    Migration m = *pending_;
    linkd_.call<>(ipc::link1::service, ipc::link1::path, checkpoints::spec, checkpoints::method::CheckpointRollback,
                  [this, m](Result<std::tuple<>> r) {
                      auto done = [this, m](std::string outcome) {
                          return [this, m, outcome](Result<> res) {
                              pending_.reset();
                              if (!res)
                                  log::warning("uplink {} ({}): {}", m.nic, outcome, res.error().message);
                              record_("ovs.uplink." + outcome,
                                      json{{"bridge", m.bridge}, {"nic", m.nic}, {"checkpoint", m.checkpoint}}.dump());
                          };
                      };
                      int nic = agent_.ifindex_of(m.nic);
                      bool readdressed = nic && !movable_addresses(agent_.kernel(), nic).empty();
                      if (r || readdressed) {
                          log::info("uplink migration of {} not confirmed: rolled back", m.nic);
                          undo_ovs(m, done("rollback"));
                      } else if (r.error().bus_name == bus_error::NoSuchId) {
                          log::info("uplink migration of {} behind {} confirmed", m.nic, m.bridge);
                          clear_mark(m, done("confirmed"));
                      } else {
                          log::warning("rolling back the uplink migration of {}: {}; again in 5 s", m.nic,
                                       r.error().message);
                          Migration later = m;
                          later.deadline = realtime_now() + 5'000'000;
                          arm(later);
                      }
                  },
                  bus::ObjectPath{m.checkpoint});
}

void Uplink::roll_back(const Migration &m, std::function<void(Result<>)> done)
{
    linkd_.call<>(ipc::link1::service, ipc::link1::path, checkpoints::spec, checkpoints::method::CheckpointRollback,
                  [this, m, done](Result<std::tuple<>> r) {
                      if (!r)
                          log::warning("rolling back checkpoint {}: {}", m.checkpoint, r.error().message);
                      undo_ovs(m, done);
                  },
                  bus::ObjectPath{m.checkpoint});
}

// The NIC off the bridge (if it is on it), then the bridge deleted if the migration made
// it, else its mark cleared.
void Uplink::undo_ovs(const Migration &m, std::function<void(Result<>)> done)
{
    auto rest = [this, m, done](Result<>) {
        const ovsdb::Replica *r = agent_.replica();
        if (!r)
            return done(failf(EIO, "ovsdb-server is not connected"));
        if (!m.created)
            return clear_mark(m, done);
        auto ops = delete_bridge_ops(*r, m.bridge);
        if (!ops)
            return done(ops.error().code == ENOENT ? Result<>() : Result<>(std::unexpected(ops.error())));
        agent_.ovsdb().session().transact(*ops, [done](Result<json> res) {
            done(res ? Result<>() : Result<>(std::unexpected(res.error())));
        });
    };
    bool on_bridge = false;
    if (const ovsdb::Replica *r = agent_.replica())
        for (const auto &[uuid, port] : bridge_ports(*r, find_bridge(*r, m.bridge)))
            on_bridge = on_bridge || name_of(*port) == m.nic;
    if (!on_bridge)
        return rest({});
    agent_.detach(m.nic, rest);
}

void Uplink::clear_mark(const Migration &m, std::function<void(Result<>)> done)
{
    const ovsdb::Replica *r = agent_.replica();
    auto ops = r ? migration_mark_ops(*r, m.bridge, "") : Result<json>(failf(EIO, "ovsdb-server is not connected"));
    if (!ops)
        return done(ops.error().code == ENOENT ? Result<>() : Result<>(std::unexpected(ops.error())));
    agent_.ovsdb().session().transact(*ops, [done](Result<json> res) {
        done(res ? Result<>() : Result<>(std::unexpected(res.error())));
    });
}

void Uplink::resume()
{
    const ovsdb::Replica *r = agent_.replica();
    if (!r || running_ || pending_)
        return;
    BridgeRef b = find_bridge(*r, agent_.settings().bridge);
    if (!b.row)
        return;
    const ovsdb::Atom *mark = b.row->get("external_ids").find(ovsdb::Atom{std::string(migration_key)});
    if (!mark || !std::holds_alternative<std::string>(*mark))
        return;
    auto m = parse_migration(std::get<std::string>(*mark));
    if (!m) {
        log::warning("bridge {}: {}", agent_.settings().bridge, m.error().message);
        return;
    }
    m->bridge = agent_.settings().bridge;
    log::info("an uplink migration of {} is pending (checkpoint {}): rolled back at its deadline unless confirmed",
              m->nic, m->checkpoint);
    pending_ = *m;
    arm(*m);
}

} // namespace alopex::ovs
