// SPDX-License-Identifier: GPL-2.0-or-later
#include "bus_api.hpp"

#include <fmt/format.h>

#include "alopex-config.h"
#include "alopex/bus/audit.hpp"
#include "alopex/ipc/devovs_spec.hpp"
#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/portagent1.hpp"
#include "alopex/ipc/portagent1_spec.hpp"
#include "alopex/log.hpp"
#include "broker1_client.hpp"
#include "port_ops.hpp"
#include "port_view.hpp"
#include "settings.hpp"

namespace alopex::ovs {

namespace api = ipc::portagent1::api;
namespace legacy = ipc::devovs::portagent1;

namespace {

constexpr const char *action = ipc::portagent1::polkit_action;

// The bridge (other than `ours`) that has a port named `name`, or "".
std::string other_bridge_of(const ovsdb::Replica &r, std::string_view ours, std::string_view name)
{
    for (const auto &[uuid, row] : r.rows("Bridge")) {
        std::string bridge = name_of(row);
        if (bridge == ours)
            continue;
        for (const auto &[pu, port] : bridge_ports(r, {uuid, &row}))
            if (name_of(*port) == name)
                return bridge;
    }
    return "";
}

const PortView *find_port(const std::vector<PortView> &ports, std::string_view name)
{
    for (const auto &p : ports)
        if (p.name == name)
            return &p;
    return nullptr;
}

std::string vlan_text(const PortSpec &s)
{
    std::string out = s.tag ? fmt::format("tag={}", *s.tag) : "untagged";
    if (!s.trunks.empty())
        out += fmt::format(" trunks={}", fmt::join(s.trunks, ","));
    return out;
}

} // namespace

const bus::Vtable<PortAgentBus> &api_vtable()
{
    namespace m = api::method;
    namespace p = api::property;
    static const auto vt =
        bus::Vtable<PortAgentBus>(api::spec)
            .method(m::Version, &PortAgentBus::version)
            .method(m::ListPorts, &PortAgentBus::list_ports)
            .method(m::AttachPort, [](PortAgentBus &b, bus::Call &c, std::string name) {
                b.attach_port(c, std::move(name), [](bus::PendingReply &r, int64_t ofport) { r.reply(ofport); });
            })
            .method(m::AttachPorts, &PortAgentBus::attach_ports)
            .method(m::DetachPort, &PortAgentBus::detach_port)
            .method(m::CreateContainerInterface,
                    [](PortAgentBus &b, bus::Call &c, std::string raw, std::string container, uint32_t vmid) {
                        b.create_interface(c, std::move(raw), std::move(container), vmid,
                                           [](bus::PendingReply &r, const std::string &name, int64_t ofport) {
                                               r.reply(name, ofport);
                                           });
                    })
            .method(m::RemoveContainerInterface, [](PortAgentBus &b, bus::Call &c, std::string name) {
                b.remove_interface(c, std::move(name), [](bus::PendingReply &r) { r.reply(); });
            })
            .method(m::Plan, &PortAgentBus::plan)
            .method(m::MigrateUplink, &PortAgentBus::migrate_uplink)
            .method(m::Reload, &PortAgentBus::reload)
            .property(p::Bridge, [](const PortAgentBus &b) { return b.agent_.settings().bridge; })
            .property(p::Prefixes, [](const PortAgentBus &b) { return b.agent_.settings().prefixes; })
            .property(p::Connected, [](const PortAgentBus &b) { return b.agent_.replica() != nullptr; })
            .property(p::Counters, [](const PortAgentBus &b) {
                const AgentStats &s = b.agent_.stats();
                return std::map<std::string, uint64_t>{{"transactions", s.transactions}, {"retries", s.retries},
                                                       {"failures", s.failures},         {"attached", s.attached},
                                                       {"detached", s.detached},         {"attach-failed", s.attach_failed}};
            });
    return vt;
}

// nm-monitor's names, each twice, on the same handlers with its reply strings.
const bus::Vtable<PortAgentBus> &devovs_vtable()
{
    namespace m = legacy::method;
    auto ping = [](PortAgentBus &, bus::Call &c) { c.reply(std::string("pong")); };
    auto list = [](PortAgentBus &b, bus::Call &c) { b.list_port_names(c); };
    auto add = [](PortAgentBus &b, bus::Call &c, std::string name) {
        b.attach_port(c, std::move(name), [](bus::PendingReply &r, int64_t) { r.reply(); });
    };
    auto del = [](PortAgentBus &b, bus::Call &c, std::string name) { b.detach_port(c, std::move(name)); };
    auto create = [](PortAgentBus &b, bus::Call &c, std::string raw, std::string container, uint32_t vmid) {
        b.create_interface(c, std::move(raw), std::move(container), vmid,
                           [vmid](bus::PendingReply &r, const std::string &, int64_t) {
                               r.reply(fmt::format("Container interface created for VMID {}", vmid));
                           });
    };
    auto remove = [](PortAgentBus &b, bus::Call &c, std::string name) {
        std::string text = fmt::format("Container interface {} removed", name);
        b.remove_interface(c, std::move(name), [text](bus::PendingReply &r) { r.reply(text); });
    };
    static const auto vt = bus::Vtable<PortAgentBus>(legacy::spec)
                               .method(m::Ping, ping)
                               .method(m::ping, ping)
                               .method(m::ListPorts, list)
                               .method(m::list_ports, list)
                               .method(m::AddPort, add)
                               .method(m::add_port, add)
                               .method(m::DelPort, del)
                               .method(m::del_port, del)
                               .method(m::CreateContainerInterface, create)
                               .method(m::create_container_interface, create)
                               .method(m::RemoveContainerInterface, remove)
                               .method(m::remove_container_interface, remove);
    return vt;
}

Result<std::unique_ptr<PortAgentBus>> PortAgentBus::create(sd_event *event, sd_bus *bus, Agent &agent,
                                                           ipc::broker1::Recorder *recorder, Reload reload)
{
    std::unique_ptr<PortAgentBus> b(new PortAgentBus(event, bus, agent, recorder, std::move(reload)));
    ALOPEX_TRY(a, b->service_.add(ipc::portagent1::path, api_vtable(), *b));
    b->api_ = std::move(a);
    ALOPEX_TRY(d, b->service_.add(ipc::devovs::path, devovs_vtable(), *b));
    b->devovs_ = std::move(d);
    PortAgentBus *self = b.get();
    b->uplink_ = std::make_unique<Uplink>(
        event, agent, b->linkd_,
        [recorder](std::string action, std::string details) {
            if (recorder)
                recorder->record(std::move(action), std::move(details));
        },
        [self](uint64_t usec, std::function<void()> fn) { self->later(usec, std::move(fn)); });
    return b;
}

PortAgentBus::~PortAgentBus() = default;

Result<> PortAgentBus::request_names()
{
    for (const char *name : {ipc::portagent1::service, ipc::devovs::service})
        if (int r = sd_bus_request_name(service_.bus(), name, 0); r < 0)
            return failf(-r, "cannot own {}: {}", name, strerror(-r));
    log::info("D-Bus service registered: {} at {}, {} at {}", ipc::portagent1::service, ipc::portagent1::path,
              ipc::devovs::service, ipc::devovs::path);
    return {};
}

void PortAgentBus::port_attached(const std::string &name, int64_t ofport)
{
    if (auto r = service_.emit(ipc::portagent1::path, api::spec, api::signal::PortAttached, name, ofport); !r)
        log::warning("{}", r.error().message);
}

void PortAgentBus::port_detached(const std::string &name)
{
    if (auto r = service_.emit(ipc::portagent1::path, api::spec, api::signal::PortDetached, name); !r)
        log::warning("{}", r.error().message);
}

void PortAgentBus::connection_changed()
{
    service_.changed(ipc::portagent1::path, api::spec, api::property::Connected);
}

const ovsdb::Replica *PortAgentBus::connected(bus::Call &c)
{
    const ovsdb::Replica *r = agent_.replica();
    if (!r)
        c.fail(bus_error::IOError, "ovsdb-server is not connected (yet): the bridge's state is not known");
    return r;
}

bool PortAgentBus::check_link(bus::Call &c, const std::string &name, const char *arg)
{
    if (!valid_ifname(name)) {
        c.invalid(arg, "not an interface name: '{}'", name);
        return false;
    }
    if (!agent_.ifindex_of(name)) {
        c.fail(bus_error::NoSuchLink, "{}: no link {}", arg, name);
        return false;
    }
    return true;
}

void PortAgentBus::record(const bus::Call &c, const char *what)
{
    if (recorder_)
        bus::call_details_async(c, {}, [rec = recorder_, what](std::string d) { rec->record(what, std::move(d)); });
}

void PortAgentBus::version(bus::Call &c)
{
    c.reply(std::string(ALOPEX_VERSION));
}

void PortAgentBus::list_ports(bus::Call &c)
{
    const ovsdb::Replica *r = connected(c);
    if (!r)
        return;
    std::vector<std::tuple<std::string, bool, int64_t, int32_t, std::vector<uint16_t>, std::string, uint32_t, std::string>>
        out;
    for (const auto &p : port_views(*r, agent_.settings().bridge))
        out.emplace_back(p.name, p.ours, p.ofport.value_or(0), p.tag ? int32_t{*p.tag} : -1, p.trunks, p.container,
                         p.vmid, p.error);
    c.reply(out);
}

void PortAgentBus::list_port_names(bus::Call &c)
{
    const ovsdb::Replica *r = connected(c);
    if (!r)
        return;
    std::vector<std::string> out;
    for (const auto &p : port_views(*r, agent_.settings().bridge))
        out.push_back(p.name);
    c.reply(out);
}

void PortAgentBus::attach_port(bus::Call &c, std::string name, std::function<void(bus::PendingReply &, int64_t)> ok)
{
    const ovsdb::Replica *r = connected(c);
    if (!r || !check_link(c, name, "name"))
        return;
    if (std::string other = other_bridge_of(*r, agent_.settings().bridge, name); !other.empty()) {
        c.invalid("name", "{} is a port of bridge {}", name, other);
        return;
    }
    if (!c.authorize(action))
        return;
    record(c, "ovs.AttachPort");
    agent_.attach(PortSpec{name, "", vmid_of(name), std::nullopt, {}},
                  [p = std::make_shared<bus::PendingReply>(c.defer()), ok](Result<int64_t> res) {
                      res ? ok(*p, *res) : p->fail(res.error());
                  });
}

void PortAgentBus::attach_ports(bus::Call &c, std::vector<std::string> names)
{
    const ovsdb::Replica *r = connected(c);
    if (!r)
        return;
    if (names.empty() || names.size() > 4096) {
        c.invalid("names", "1 to 4096 names, not {}", names.size());
        return;
    }
    for (size_t i = 0; i < names.size(); ++i) {
        std::string arg = fmt::format("names[{}]", i);
        if (!check_link(c, names[i], arg.c_str()))
            return;
        if (std::string other = other_bridge_of(*r, agent_.settings().bridge, names[i]); !other.empty()) {
            c.invalid(arg, "{} is a port of bridge {}", names[i], other);
            return;
        }
    }
    if (!c.authorize(action))
        return;
    record(c, "ovs.AttachPorts");
    struct Batch {
        bus::PendingReply reply;
        std::vector<std::tuple<std::string, int64_t, std::string>> results;
        size_t left;
    };
    auto batch = std::make_shared<Batch>(Batch{c.defer(), {}, names.size()});
    for (size_t i = 0; i < names.size(); ++i) {
        batch->results.emplace_back(names[i], -1, "");
        agent_.attach(PortSpec{names[i], "", vmid_of(names[i]), std::nullopt, {}}, [batch, i](Result<int64_t> res) {
            auto &[name, ofport, why] = batch->results[i];
            res ? void(ofport = *res) : void(why = res.error().message);
            if (--batch->left == 0)
                batch->reply.reply(batch->results);
        });
    }
}

void PortAgentBus::detach_port(bus::Call &c, std::string name)
{
    const ovsdb::Replica *r = connected(c);
    if (!r)
        return;
    if (!valid_ifname(name)) {
        c.invalid("name", "not an interface name: '{}'", name);
        return;
    }
    auto ports = port_views(*r, agent_.settings().bridge);
    const PortView *p = find_port(ports, name);
    if (!p) {
        c.fail(bus_error::NoSuchId, "name: {} is no port of {}", name, agent_.settings().bridge);
        return;
    }
    if (!p->ours) {
        c.invalid("name", "{} is not the agent's port (no external_ids:alopex-owner): left alone", name);
        return;
    }
    if (!c.authorize(action))
        return;
    record(c, "ovs.DetachPort");
    agent_.detach(name, [p = std::make_shared<bus::PendingReply>(c.defer())](Result<> res) {
        res ? p->reply() : p->fail(res.error());
    });
}

void PortAgentBus::plan(bus::Call &c)
{
    if (!connected(c))
        return;
    Plan p = agent_.plan_now();
    std::vector<std::tuple<std::string, std::string, std::string>> out;
    for (const auto &s : p.attach)
        out.emplace_back("attach", s.name, vlan_text(s));
    for (const auto &n : p.detach)
        out.emplace_back("detach", n, agent_.ifindex_of(n) ? "asked (DetachPort)" : "its link is gone");
    for (const auto &s : p.retag)
        out.emplace_back("retag", s.name, vlan_text(s));
    for (const auto &n : p.elsewhere)
        out.emplace_back("elsewhere", n, "a port of another bridge: left alone");
    c.reply(out);
}

void PortAgentBus::migrate_uplink(bus::Call &c, std::string bridge, std::string nic, uint32_t timeout_s)
{
    if (!c.ok(uplink_->check(bridge, nic, timeout_s)) || !c.authorize(action) ||
        !c.authorize(ipc::link1::polkit_action))
        return;
    record(c, "ovs.MigrateUplink");
    uplink_->migrate(nic, timeout_s, [p = std::make_shared<bus::PendingReply>(c.defer())](Result<Migration> m) {
        m ? p->reply(bus::ObjectPath{m->checkpoint}, m->bridge) : p->fail(m.error());
    });
}

void PortAgentBus::reload(bus::Call &c)
{
    if (!c.authorize(action))
        return;
    auto r = reload_("D-Bus");
    if (!r) {
        c.fail(Error{EINVAL, r.error().message, bus_error::InvalidArgument});
        return;
    }
    service_.changed(ipc::portagent1::path, api::spec, api::property::Prefixes);
    record(c, "ovs.Reload");
    c.reply(*r);
}

} // namespace alopex::ovs
