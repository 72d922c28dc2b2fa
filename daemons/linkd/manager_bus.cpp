// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Link1.Manager at /org/alopex/Link1, bound to the declaration generated from
// ipc/org.alopex.Link1.xml (bus::Vtable). Every mutating method: the arguments are read and
// checked (InvalidArgument naming the argument, NoSuchLink), then polkit
// (org.alopex.link.configure, asynchronous: bus::Call runs the handler again with the same
// message once polkit has answered, so it re-reads and re-checks), then the kernel request.
// SetZone and RenameLink change which firewall zone a link is in (directly, or through
// fwd's name patterns and iifname/oifname rules, which linkd cannot see): they need
// org.alopex.firewall.configure as well.
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "alopex-config.h"
#include "alopex/bus/audit.hpp"
#include "alopex/ipc/firewall1.hpp"
#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "alopex/log.hpp"
#include "manager.hpp"
#include "validate.hpp"

namespace alopex::linkd {

namespace l1 = ipc::link1;

namespace {

const bus::Vtable<Manager> &manager_vtable()
{
    namespace m = l1::manager::method;
    namespace p = l1::manager::property;
    static const auto vt =
        bus::Vtable<Manager>(l1::manager::spec)
            .method(m::Version, &Manager::bus_version)
            .method(m::SetLinkUp, &Manager::bus_set_link_up)
            .method(m::SetLinkDown, &Manager::bus_set_link_down)
            .method(m::SetMtu, &Manager::bus_set_mtu)
            .method(m::AddAddress, &Manager::bus_add_address)
            .method(m::RemoveAddress, &Manager::bus_remove_address)
            .method(m::AddRoute, &Manager::bus_add_route)
            .method(m::RemoveRoute, &Manager::bus_remove_route)
            .method(m::Renew, &Manager::bus_renew)
            .method(m::Release, &Manager::bus_release)
            .method(m::Reload, &Manager::bus_reload)
            .method(m::CreateNetdev, &Manager::bus_create_netdev)
            .method(m::DeleteNetdev, &Manager::bus_delete_netdev)
            .method(m::RenameLink, &Manager::bus_rename_link)
            .method(m::SetZone, &Manager::bus_set_zone)
            .method(m::SetDNS, &Manager::bus_set_dns)
            .method(m::RevertDNS, &Manager::bus_revert_dns)
            .property(p::Links,
                      [](const Manager &x) {
                          std::vector<bus::ObjectPath> out;
                          out.reserve(x.links().size());
                          for (const auto &[ifindex, _] : x.links())
                              out.push_back(bus::ObjectPath{Manager::link_path(ifindex)});
                          return out;
                      })
            .property(p::Connectivity, [](const Manager &x) { return std::string(to_string(x.connectivity())); })
            .property(p::StateGeneration, [](const Manager &x) { return x.generation(); })
            .property(p::Startup, [](const Manager &x) { return x.starting(); });
    return vt;
}

rtnl::AddressSpec address_spec(int32_t ifindex, const net::Prefix &p)
{
    rtnl::AddressSpec a;
    a.ifindex = ifindex;
    a.family = static_cast<uint8_t>(p.family());
    a.address = p.address();
    a.prefixlen = static_cast<uint8_t>(p.length());
    return a;
}

// The ledger record of one method call: started before the action (the caller's uid is
// asked of the bus while it waits for its answer), sent once the action succeeded and the
// bus has answered; never if the action failed.
struct Audit {
    RecordSink sink;
    std::string action;
    std::optional<std::string> details;
    bool committed = false;

    void arrived(std::string d)
    {
        if (committed)
            sink(action, std::move(d));
        else
            details = std::move(d);
    }
    void commit()
    {
        committed = true;
        if (details)
            sink(action, std::move(*details));
    }
};

std::shared_ptr<Audit> start_audit(const RecordSink &sink, const bus::Call &c, std::string_view result_json = {})
{
    if (!sink)
        return nullptr;
    auto a = std::make_shared<Audit>(Audit{sink, fmt::format("link.{}", c.member()), std::nullopt, false});
    bus::call_details_async(c, result_json, [a](std::string d) { a->arrived(std::move(d)); });
    return a;
}

// The link action, then the firewall's (for what moves a link between firewall zones).
bool authorize_zone_change(bus::Call &c)
{
    return c.authorize(l1::polkit_action) && c.authorize(ipc::firewall1::polkit_action);
}

} // namespace

Result<> Manager::attach_bus()
{
    ALOPEX_TRY(mreg, service_->add(l1::path, manager_vtable(), *this));
    manager_reg_ = std::move(mreg);
    link_vtable_ = make_link_vtable(*this);
    ALOPEX_TRY(lreg, service_->add_subtree<LinkState>(
                         l1::link_prefix, *link_vtable_, [this](std::string_view p) { return find_link(p); },
                         [this] {
                             std::vector<std::string> out;
                             out.reserve(links_.size());
                             for (const auto &[ifindex, _] : links_)
                                 out.push_back(link_path(ifindex));
                             return out;
                         }));
    link_reg_ = std::move(lreg);
    ALOPEX_TRY(om, service_->add_object_manager(l1::path));
    objman_slot_ = std::move(om);
    return {};
}

Result<const LinkState *> Manager::require_link(int32_t ifindex, std::string_view arg)
{
    if (auto r = check_ifindex(ifindex, arg); !r)
        return std::unexpected(r.error());
    const LinkState *l = link(ifindex);
    if (!l)
        return bus_fail(bus_error::NoSuchLink, "{}: no link with index {}", arg, ifindex);
    return l;
}

void Manager::record(std::string action, std::string details)
{
    if (record_)
        record_(std::move(action), std::move(details));
}

void Manager::audit(const bus::Call &c, std::string_view result_json)
{
    if (auto a = start_audit(record_, c, result_json))
        a->commit();
}

std::function<void()> Manager::begin_audit(const bus::Call &c, std::string_view result_json)
{
    return [a = start_audit(record_, c, result_json)] {
        if (a)
            a->commit();
    };
}

void Manager::run(bus::Call &c, const rtnl::Request &req, std::function<void()> then)
{
    if (!executor_) {
        c.fail(l1::error::Unavailable, "rtnetlink requests are not available in this build");
        return;
    }
    std::string member(c.member());
    auto audit = start_audit(record_, c);
    auto reply = std::make_shared<bus::PendingReply>(c.defer());
    executor_(req, [this, req, member, audit, reply, then = std::move(then)](Result<> r) {
        if (!r) {
            log::warning({{"ALOPEX_OP", member}}, "{}: {}", member, r.error().to_string());
            reply->fail(r.error());
            return;
        }
        log::info({{"ALOPEX_OP", member}}, "{}: {}", member, req.what);
        if (then)
            then();
        hooks.request_done(req);
        if (audit)
            audit->commit();
        reply->reply();
    });
}

void Manager::bus_version(bus::Call &c) { c.reply(std::string(ALOPEX_VERSION)); }

void Manager::set_link_updown(bus::Call &c, int32_t ifindex, bool up)
{
    auto l = require_link(ifindex);
    if (!c.ok(l) || !c.authorize(l1::polkit_action))
        return;
    rtnl::Request req;
    req.op = rtnl::Request::Op::SetLink;
    req.link.ifindex = ifindex;
    req.link.up = up;
    req.what = fmt::format("{} {}", (*l)->kernel().name, up ? "up" : "down");
    run(c, req);
}

void Manager::bus_set_link_up(bus::Call &c, int32_t ifindex) { set_link_updown(c, ifindex, true); }

void Manager::bus_set_link_down(bus::Call &c, int32_t ifindex) { set_link_updown(c, ifindex, false); }

void Manager::bus_set_mtu(bus::Call &c, int32_t ifindex, uint32_t mtu)
{
    auto l = require_link(ifindex);
    if (!c.ok(l) || !c.ok(check_mtu(mtu)) || !c.authorize(l1::polkit_action))
        return;
    rtnl::Request req;
    req.op = rtnl::Request::Op::SetLink;
    req.link.ifindex = ifindex;
    req.link.mtu = mtu;
    req.what = fmt::format("MTU {} on {}", mtu, (*l)->kernel().name);
    run(c, req);
}

void Manager::bus_add_address(bus::Call &c, int32_t ifindex, std::string text)
{
    auto l = require_link(ifindex);
    if (!c.ok(l))
        return;
    auto p = net::Prefix::parse(text, "address", {.bare = true});
    if (!c.ok(p) || !c.authorize(l1::polkit_action))
        return;
    rtnl::Request req;
    req.op = rtnl::Request::Op::AddAddress;
    req.address = address_spec(ifindex, *p);
    req.what = fmt::format("address {} on {}", *p, (*l)->kernel().name);
    run(c, req, [this, ifindex, a = req.address] {
        note_owned_address(ifindex, a.family, a.address, a.prefixlen, Origin::Static);
    });
}

void Manager::bus_remove_address(bus::Call &c, int32_t ifindex, std::string text)
{
    auto l = require_link(ifindex);
    if (!c.ok(l))
        return;
    auto p = net::Prefix::parse(text, "address", {.bare = true});
    if (!c.ok(p))
        return;
    auto spec = address_spec(ifindex, *p);
    if (!snapshot().addresses.contains(netlink::AddressKey{ifindex, spec.family, spec.address, spec.prefixlen})) {
        c.invalid("address", "{} is not on {}", *p, (*l)->kernel().name);
        return;
    }
    if (!c.authorize(l1::polkit_action))
        return;
    rtnl::Request req;
    req.op = rtnl::Request::Op::RemoveAddress;
    req.address = spec;
    req.what = fmt::format("address {} on {}", *p, (*l)->kernel().name);
    run(c, req, [this, ifindex, spec] { forget_owned_address(ifindex, spec.family, spec.address, spec.prefixlen); });
}

void Manager::route_method(bus::Call &c, const std::string &to, const std::string &via, int32_t ifindex,
                           uint32_t metric, uint32_t table, bool add)
{
    auto spec = route_spec(to, via, ifindex, metric, table);
    if (!c.ok(spec))
        return;
    if (ifindex != 0 && !link(ifindex)) {
        c.fail(bus_error::NoSuchLink, "ifindex: no link with index {}", ifindex);
        return;
    }
    if (!c.authorize(l1::polkit_action))
        return;
    rtnl::Request req;
    req.op = add ? rtnl::Request::Op::AddRoute : rtnl::Request::Op::RemoveRoute;
    req.route = *spec;
    if (!add) {
        req.route.protocol = 0;      // any protocol
        req.route.scope = 255;       // RT_SCOPE_NOWHERE: any scope
    }
    req.what = fmt::format("route {}/{}{}{} table {} metric {}", spec->dst, spec->dst_len,
                           via.empty() ? "" : " via ", via, spec->table, metric);
    if (add)
        manage_table(spec->table);   // follow the routes of the table it now uses
    run(c, req);
}

void Manager::bus_add_route(bus::Call &c, std::string to, std::string via, int32_t ifindex, uint32_t metric,
                            uint32_t table)
{
    route_method(c, to, via, ifindex, metric, table, true);
}

void Manager::bus_remove_route(bus::Call &c, std::string to, std::string via, int32_t ifindex, uint32_t metric,
                               uint32_t table)
{
    route_method(c, to, via, ifindex, metric, table, false);
}

// Renew/Release: one link argument, polkit, then the DHCP hook.
void Manager::run_link_hook(bus::Call &c, int32_t ifindex, const std::function<Result<>(int)> &hook)
{
    if (!c.ok(require_link(ifindex)) || !c.authorize(l1::polkit_action))
        return;
    if (!hook) {
        c.fail(l1::error::Unavailable, "{}: the DHCP client is not available", c.member());
        return;
    }
    if (!c.ok(hook(ifindex)))
        return;
    audit(c);
    c.reply();
}

void Manager::bus_renew(bus::Call &c, int32_t ifindex) { run_link_hook(c, ifindex, hooks.renew); }

void Manager::bus_release(bus::Call &c, int32_t ifindex) { run_link_hook(c, ifindex, hooks.release); }

void Manager::bus_reload(bus::Call &c)
{
    if (!c.authorize(l1::polkit_action))
        return;
    if (!hooks.reload) {
        c.fail(l1::error::Unavailable, "Reload: link profiles are not available");
        return;
    }
    auto audit = begin_audit(c);
    auto reply = std::make_shared<bus::PendingReply>(c.defer());
    hooks.reload([audit, reply](Result<> r) {
        if (!r) {
            reply->fail(r.error());
            return;
        }
        audit();
        reply->reply();
    });
}

void Manager::bus_set_zone(bus::Call &c, int32_t ifindex, std::string zone)
{
    if (!c.ok(require_link(ifindex)) || !c.ok(check_zone(zone)) || !authorize_zone_change(c))
        return;
    set_zone(ifindex, zone);
    audit(c);
    c.reply();
}

void Manager::bus_rename_link(bus::Call &c, int32_t ifindex, std::string name)
{
    auto l = require_link(ifindex);
    if (!c.ok(l) || !c.ok(check_ifname(name, "name")))
        return;
    if (const LinkState *other = link_by_name(name); other && other->ifindex() != ifindex) {
        c.invalid("name", "'{}' is taken by link {}", name, other->ifindex());
        return;
    }
    // A new name can move the link into another of fwd's pattern zones and changes which
    // iifname/oifname rules match it.
    if (!authorize_zone_change(c))
        return;
    std::string old = (*l)->kernel().name;
    if (old == name) {
        c.reply();
        return;
    }
    if (!executor_) {
        run(c, {});
        return;
    }
    // The kernel renames only links that are down: take it down and up again around it.
    bool was_up = (*l)->kernel().flags & 1 /* IFF_UP */;
    rtnl::Request down, rename, up;
    down.op = rename.op = up.op = rtnl::Request::Op::SetLink;
    down.link.ifindex = rename.link.ifindex = up.link.ifindex = ifindex;
    down.link.up = false;
    up.link.up = true;
    rename.link.name = name;
    down.what = fmt::format("{} down for renaming", old);
    up.what = fmt::format("{} up after renaming", name);
    rename.what = fmt::format("rename {} to {}", old, name);
    // down, rename, up: each when the kernel has answered the one before.
    struct Rename {
        std::shared_ptr<bus::PendingReply> reply;
        rtnl::Request rename, up;
        bool was_up;
        std::string old, name;
        std::shared_ptr<Audit> audit;
    };
    auto st = std::make_shared<Rename>(
        Rename{std::make_shared<bus::PendingReply>(), rename, up, was_up, old, name, start_audit(record_, c)});
    *st->reply = c.defer();
    auto finish = [this, st](Result<> r) {
        if (!r) {
            st->reply->fail(r.error());
            return;
        }
        log::info({{"ALOPEX_LINK", st->name}, {"ALOPEX_OP", "RenameLink"}}, "{}", st->rename.what);
        if (st->audit)
            st->audit->commit();
        st->reply->reply();
    };
    auto do_rename = [this, st, finish] {
        executor_(st->rename, [this, st, finish](Result<> r) {
            if (!st->was_up) {
                finish(std::move(r));
                return;
            }
            executor_(st->up, [st, finish, r = std::move(r)](Result<> u) mutable {
                if (!u)
                    log::warning({{"ALOPEX_LINK", st->old}}, "{}", u.error().to_string());
                finish(std::move(r));
            });
        });
    };
    if (!was_up) {
        do_rename();
        return;
    }
    executor_(down, [st, do_rename](Result<> r) {
        if (!r) {
            st->reply->fail(r.error());
            return;
        }
        do_rename();
    });
}

void Manager::bus_delete_netdev(bus::Call &c, std::string name)
{
    if (!c.ok(check_ifname(name, "name")))
        return;
    const LinkState *l = link_by_name(name);
    if (!l) {
        c.fail(bus_error::NoSuchLink, "name: no link named '{}'", name);
        return;
    }
    if (!parse_kind(l->kernel().kind)) {
        c.invalid("name", "'{}' is a {} link, not a bridge, vlan, veth or bond", name,
                  l->kernel().kind.empty() ? "physical" : l->kernel().kind);
        return;
    }
    if (!c.authorize(l1::polkit_action))
        return;
    rtnl::Request req;
    req.op = rtnl::Request::Op::DeleteLink;
    req.ifindex = l->ifindex();
    req.what = fmt::format("delete {} {}", l->kernel().kind, name);
    run(c, req);
}

Result<rtnl::NetdevSpec> Manager::netdev_spec(const std::string &name, const std::string &kind_text,
                                              const bus::Options &o) const
{
    ALOPEX_TRY_VOID(check_ifname(name, "name"));
    if (link_by_name(name))
        return bus_fail(bus_error::InvalidArgument, "name: a link named '{}' exists", name);
    ALOPEX_TRY(kind, parse_kind(kind_text));
    rtnl::NetdevSpec s;
    s.name = name;
    s.kind = kind;
    ALOPEX_TRY(mtu, o.integer("mtu", 68, 65535));
    if (mtu)
        s.mtu = static_cast<uint32_t>(*mtu);
    ALOPEX_TRY(mac_text, o.string("mac"));
    if (mac_text) {
        ALOPEX_TRY(mac, parse_mac(*mac_text, "options.mac"));
        s.mac = mac;
    }
    // The kind's own options; what no kind takes is refused by done().
    std::optional<std::string> parent, peer, mode;
    std::optional<int64_t> id;
    switch (kind) {
    case rtnl::NetdevKind::Bridge: {
        ALOPEX_TRY(stp, o.boolean("stp"));
        s.stp = stp;
        break;
    }
    case rtnl::NetdevKind::Vlan: {
        ALOPEX_TRY(p, o.string("parent"));
        ALOPEX_TRY(i, o.integer("id", 1, 4094));
        parent = std::move(p);
        id = i;
        break;
    }
    case rtnl::NetdevKind::Veth: {
        ALOPEX_TRY(p, o.string("peer"));
        peer = std::move(p);
        break;
    }
    case rtnl::NetdevKind::Bond: {
        ALOPEX_TRY(m, o.string("mode"));
        mode = std::move(m);
        break;
    }
    }
    ALOPEX_TRY_VOID(o.done(fmt::format("for kind {}", kind_text)));
    if (parent) {
        const LinkState *p = link_by_name(*parent);
        if (!p)
            return bus_fail(bus_error::NoSuchLink, "options.parent: no link named '{}'", *parent);
        s.parent = p->ifindex();
    }
    if (id)
        s.vlan_id = static_cast<uint16_t>(*id);
    if (kind == rtnl::NetdevKind::Vlan && (!parent || !id))
        return bus_fail(bus_error::InvalidArgument, "options: a vlan needs 'parent' and 'id'");
    if (peer) {
        ALOPEX_TRY_VOID(check_ifname(*peer, "options.peer"));
        if (*peer == name || link_by_name(*peer))
            return std::unexpected(o.error("peer", fmt::format("a link named '{}' exists", *peer)));
        s.peer = *peer;
    }
    if (kind == rtnl::NetdevKind::Veth && !peer)
        return bus_fail(bus_error::InvalidArgument, "options: a veth needs 'peer'");
    if (mode && !valid_bond_mode(*mode))
        return std::unexpected(o.error("mode", "must be one of balance-rr, active-backup, balance-xor, "
                                               "broadcast, 802.3ad, balance-tlb, balance-alb"));
    if (mode)
        s.bond_mode = *mode;
    return s;
}

void Manager::bus_create_netdev(bus::Call &c, std::string name, std::string kind, bus::Options options)
{
    auto spec = netdev_spec(name, kind, options);
    if (!c.ok(spec) || !c.authorize(l1::polkit_action))
        return;
    rtnl::Request req;
    req.op = rtnl::Request::Op::CreateNetdev;
    req.netdev = std::move(*spec);
    req.what = fmt::format("create {} {}", kind, name);
    run(c, req);
}

} // namespace alopex::linkd
