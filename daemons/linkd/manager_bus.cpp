// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Link1.Manager at /org/alopex/Link1. Every mutating method: read and validate
// the arguments (InvalidArgument naming the argument, NoSuchLink), then polkit
// (org.alopex.link.configure, asynchronous: the handler runs again with the same message
// when polkit has answered, so it re-reads and re-validates), then the kernel request.
// SetZone and RenameLink change which firewall zone a link is in (directly, or through
// fwd's name patterns and iifname/oifname rules, which linkd cannot see): they need
// org.alopex.firewall.configure as well.
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <map>
#include <variant>

#include "alopex-config.h"
#include "alopex/ipc/firewall1.hpp"
#include "alopex/ipc/link1.hpp"
#include "alopex/log.hpp"
#include "manager.hpp"
#include "validate.hpp"

namespace alopex::linkd {

namespace l1 = ipc::link1;

namespace {

const sd_bus_vtable manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Links", "ao", bus::property<&Manager::prop_links>, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Connectivity", "s", bus::property<&Manager::prop_connectivity>, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("StateGeneration", "t", bus::property<&Manager::prop_generation>, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_METHOD_WITH_ARGS(l1::method::Version, SD_BUS_NO_ARGS, SD_BUS_RESULT("s", version),
                            bus::method<&Manager::bus_version>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::SetLinkUp, SD_BUS_ARGS("i", ifindex), SD_BUS_NO_RESULT,
                            bus::method<&Manager::bus_set_link_up>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::SetLinkDown, SD_BUS_ARGS("i", ifindex),
                            SD_BUS_NO_RESULT, bus::method<&Manager::bus_set_link_down>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::SetMtu, SD_BUS_ARGS("i", ifindex, "u", mtu),
                            SD_BUS_NO_RESULT, bus::method<&Manager::bus_set_mtu>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::AddAddress, SD_BUS_ARGS("i", ifindex, "s", address),
                            SD_BUS_NO_RESULT, bus::method<&Manager::bus_add_address>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::RemoveAddress, SD_BUS_ARGS("i", ifindex, "s", address),
                            SD_BUS_NO_RESULT, bus::method<&Manager::bus_remove_address>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::AddRoute,
                            SD_BUS_ARGS("s", to, "s", via, "i", ifindex, "u", metric, "u", table),
                            SD_BUS_NO_RESULT, bus::method<&Manager::bus_add_route>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::RemoveRoute,
                            SD_BUS_ARGS("s", to, "s", via, "i", ifindex, "u", metric, "u", table),
                            SD_BUS_NO_RESULT, bus::method<&Manager::bus_remove_route>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::Renew, SD_BUS_ARGS("i", ifindex), SD_BUS_NO_RESULT,
                            bus::method<&Manager::bus_renew>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::Release, SD_BUS_ARGS("i", ifindex), SD_BUS_NO_RESULT,
                            bus::method<&Manager::bus_release>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::Reload, SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                            bus::method<&Manager::bus_reload>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::CreateNetdev,
                            SD_BUS_ARGS("s", name, "s", kind, "a{sv}", options),
                            SD_BUS_NO_RESULT, bus::method<&Manager::bus_create_netdev>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::DeleteNetdev, SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                            bus::method<&Manager::bus_delete_netdev>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::RenameLink, SD_BUS_ARGS("i", ifindex, "s", name),
                            SD_BUS_NO_RESULT, bus::method<&Manager::bus_rename_link>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(l1::method::SetZone, SD_BUS_ARGS("i", ifindex, "s", zone),
                            SD_BUS_NO_RESULT, bus::method<&Manager::bus_set_zone>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

// Kernel errnos that mean the caller asked for something impossible.
const char *error_name(const Error &e)
{
    if (!e.bus_name.empty())
        return e.bus_name.c_str();
    switch (e.code) {
    case EINVAL:
    case ERANGE:
    case EEXIST:
    case ESRCH:
    case EADDRNOTAVAIL:
    case EBUSY:
    case EOPNOTSUPP:
        return bus_error::InvalidArgument;
    case ENODEV:
        return bus_error::NoSuchLink;
    default:
        return bus_error::IOError;
    }
}

const char *member_of(sd_bus_message *m)
{
    const char *s = sd_bus_message_get_member(m);
    return s ? s : "?";
}

// Re-reads the arguments from the start: the handler may run twice for one message.
template <typename... T> Result<std::tuple<T...>> args(sd_bus_message *m)
{
    sd_bus_message_rewind(m, 1);
    return bus::read<T...>(m);
}

using OptionValue = std::variant<bool, int64_t, std::string>;

// Reads a{sv} with boolean, integer and string values; anything else is refused.
Result<std::map<std::string, OptionValue>> read_options(sd_bus_message *m)
{
    std::map<std::string, OptionValue> out;
    auto bad = [](std::string_view what) {
        return bus_fail(bus_error::InvalidArgument, "options: {}", what);
    };
    if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
        return bad("not an a{sv}");
    for (;;) {
        int r = sd_bus_message_enter_container(m, 'e', "sv");
        if (r < 0)
            return bad("malformed entry");
        if (r == 0)
            break;
        const char *key = nullptr;
        if (sd_bus_message_read_basic(m, 's', &key) < 0)
            return bad("malformed key");
        const char *contents = nullptr;
        char type = 0;
        if (sd_bus_message_peek_type(m, &type, &contents) < 0 || type != 'v' || !contents ||
            std::strlen(contents) != 1)
            return bad(fmt::format("'{}' must hold a boolean, an integer or a string", key));
        if (sd_bus_message_enter_container(m, 'v', contents) < 0)
            return bad("malformed value");
        OptionValue v;
        union {
            int b;
            uint8_t y;
            int16_t n;
            uint16_t q;
            int32_t i;
            uint32_t u;
            int64_t x;
            uint64_t t;
            const char *s;
        } raw{};
        char c = contents[0];
        if (std::string_view("bynqiuxts").find(c) == std::string_view::npos ||
            sd_bus_message_read_basic(m, c, &raw) < 0)
            return bad(fmt::format("'{}' must hold a boolean, an integer or a string", key));
        switch (c) {
        case 'b': v = raw.b != 0; break;
        case 'y': v = int64_t{raw.y}; break;
        case 'n': v = int64_t{raw.n}; break;
        case 'q': v = int64_t{raw.q}; break;
        case 'i': v = int64_t{raw.i}; break;
        case 'u': v = int64_t{raw.u}; break;
        case 'x': v = raw.x; break;
        case 't':
            if (raw.t > INT64_MAX)
                return bad(fmt::format("'{}' is out of range", key));
            v = static_cast<int64_t>(raw.t);
            break;
        default: v = std::string(raw.s); break;
        }
        if (sd_bus_message_exit_container(m) < 0 || sd_bus_message_exit_container(m) < 0)
            return bad("malformed entry");
        if (!out.emplace(key, std::move(v)).second)
            return bad(fmt::format("'{}' given twice", key));
    }
    if (sd_bus_message_exit_container(m) < 0)
        return bad("malformed array");
    return out;
}

} // namespace

Result<> Manager::attach_bus()
{
    sd_bus_slot *slot = nullptr;
    int r = sd_bus_add_object_vtable(bus_, &slot, l1::path, l1::manager_interface,
                                     manager_vtable, this);
    if (r < 0)
        return failf(-r, "cannot add the {} vtable: {}", l1::manager_interface, strerror(-r));
    manager_slot_.reset(slot);
    r = sd_bus_add_fallback_vtable(bus_, &slot, l1::link_prefix, l1::link_interface,
                                   link_vtable(), &Manager::find_link, this);
    if (r < 0)
        return failf(-r, "cannot add the {} vtable: {}", l1::link_interface, strerror(-r));
    link_slot_.reset(slot);
    r = sd_bus_add_node_enumerator(bus_, &slot, l1::link_prefix, &Manager::enumerate_links, this);
    if (r < 0)
        return failf(-r, "cannot add the link enumerator: {}", strerror(-r));
    enum_slot_.reset(slot);
    r = sd_bus_add_object_manager(bus_, &slot, l1::path);
    if (r < 0)
        return failf(-r, "cannot add the object manager: {}", strerror(-r));
    objman_slot_.reset(slot);
    return {};
}

int Manager::authorize(sd_bus_message *m, sd_bus_error *ret)
{
    return authorize_action(m, l1::polkit_action, ret);
}

int Manager::authorize_action(sd_bus_message *m, const char *action, sd_bus_error *ret)
{
    return authorize_actions(m, {action}, ret);
}

int Manager::authorize_actions(sd_bus_message *m, std::initializer_list<const char *> actions,
                               sd_bus_error *ret)
{
    if (!authority_)
        return sd_bus_error_set(ret, bus_error::NotAuthorized, "no polkit authority");
    int r = authority_->check(m, actions, ret);
    if (r < 0) {
        const char *sender = sd_bus_message_get_sender(m);
        log::notice({{"ALOPEX_OP", member_of(m)}, {"ALOPEX_SENDER", sender ? sender : "?"}},
                    "{} from {} refused: {}", member_of(m), sender ? sender : "?",
                    ret && ret->message ? ret->message : "not authorized");
    }
    return r;
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

int Manager::run(sd_bus_message *m, sd_bus_error *ret, const rtnl::Request &req)
{
    if (!executor_)
        return sd_bus_error_set(ret, l1::error::Unavailable,
                                "rtnetlink requests are not available in this build");
    auto r = executor_(req);
    if (!r) {
        log::warning({{"ALOPEX_OP", member_of(m)}}, "{}: {}", member_of(m), r.error().to_string());
        return bus::set_error(ret, error_name(r.error()), r.error().to_string());
    }
    log::info({{"ALOPEX_OP", member_of(m)}}, "{}: {}", member_of(m), req.what);
    return sd_bus_reply_method_return(m, nullptr);
}

#define TRY_ARG(expr)                                                                     \
    do {                                                                                  \
        if (auto r_ = (expr); !r_)                                                        \
            return bus::set_error(ret, r_.error());                                       \
    } while (0)
#define AUTHORIZE()                                                                       \
    do {                                                                                  \
        int a_ = authorize(m, ret);                                                       \
        if (a_ <= 0)                                                                      \
            return a_ < 0 ? a_ : 1;                                                       \
    } while (0)
// The link action, then the firewall's (for what moves a link between firewall zones).
#define AUTHORIZE_ZONE_CHANGE()                                                           \
    do {                                                                                  \
        int a_ = authorize_actions(m, {l1::polkit_action, ipc::firewall1::polkit_action}, \
                                   ret);                                                  \
        if (a_ <= 0)                                                                      \
            return a_ < 0 ? a_ : 1;                                                       \
    } while (0)

int Manager::bus_version(sd_bus_message *m, sd_bus_error *)
{
    return bus::reply(m, std::string(ALOPEX_VERSION));
}

int Manager::prop_links(sd_bus_message *reply, sd_bus_error *)
{
    int r = sd_bus_message_open_container(reply, 'a', "o");
    for (auto it = links_.begin(); r >= 0 && it != links_.end(); ++it)
        r = sd_bus_message_append_basic(reply, 'o', link_path(it->first).c_str());
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int Manager::prop_connectivity(sd_bus_message *reply, sd_bus_error *)
{
    return bus::append(reply, std::string(to_string(connectivity_)));
}

int Manager::prop_generation(sd_bus_message *reply, sd_bus_error *)
{
    return bus::append(reply, generation_);
}

namespace {
int set_link_updown(Manager &mgr, sd_bus_message *m, sd_bus_error *ret, bool up);
}

int Manager::bus_set_link_up(sd_bus_message *m, sd_bus_error *ret)
{
    return set_link_updown(*this, m, ret, true);
}

int Manager::bus_set_link_down(sd_bus_message *m, sd_bus_error *ret)
{
    return set_link_updown(*this, m, ret, false);
}

int Manager::bus_set_mtu(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<int32_t, uint32_t>(m);
    TRY_ARG(a);
    auto [ifindex, mtu] = *a;
    auto l = require_link(ifindex);
    TRY_ARG(l);
    TRY_ARG(check_mtu(mtu));
    AUTHORIZE();
    rtnl::Request req;
    req.op = rtnl::Request::Op::SetLink;
    req.link.ifindex = ifindex;
    req.link.mtu = mtu;
    req.what = fmt::format("MTU {} on {}", mtu, (*l)->kernel().name);
    return run(m, ret, req);
}

namespace {
rtnl::AddressSpec address_spec(int32_t ifindex, const net::Prefix &p)
{
    rtnl::AddressSpec a;
    a.ifindex = ifindex;
    a.family = static_cast<uint8_t>(p.family());
    a.address = p.address();
    a.prefixlen = static_cast<uint8_t>(p.length());
    return a;
}
} // namespace

int Manager::bus_add_address(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<int32_t, std::string>(m);
    TRY_ARG(a);
    auto [ifindex, text] = *a;
    auto l = require_link(ifindex);
    TRY_ARG(l);
    auto p = net::Prefix::parse(text, "address", {.bare = true});
    TRY_ARG(p);
    AUTHORIZE();
    rtnl::Request req;
    req.op = rtnl::Request::Op::AddAddress;
    req.address = address_spec(ifindex, *p);
    req.what = fmt::format("address {} on {}", *p, (*l)->kernel().name);
    int r = run(m, ret, req);
    if (r >= 0)
        note_owned_address(ifindex, req.address.family, p->address(), req.address.prefixlen, Origin::Static);
    return r;
}

int Manager::bus_remove_address(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<int32_t, std::string>(m);
    TRY_ARG(a);
    auto [ifindex, text] = *a;
    auto l = require_link(ifindex);
    TRY_ARG(l);
    auto p = net::Prefix::parse(text, "address", {.bare = true});
    TRY_ARG(p);
    auto spec = address_spec(ifindex, *p);
    if (!state_.addresses.contains(netlink::AddressKey{ifindex, spec.family, spec.address, spec.prefixlen}))
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("address: {} is not on {}", *p, (*l)->kernel().name));
    AUTHORIZE();
    rtnl::Request req;
    req.op = rtnl::Request::Op::RemoveAddress;
    req.address = spec;
    req.what = fmt::format("address {} on {}", *p, (*l)->kernel().name);
    int r = run(m, ret, req);
    if (r >= 0)
        forget_owned_address(ifindex, spec.family, spec.address, spec.prefixlen);
    return r;
}

namespace {
int route_method(Manager &mgr, sd_bus_message *m, sd_bus_error *ret, bool add);
}

int Manager::bus_add_route(sd_bus_message *m, sd_bus_error *ret)
{
    return route_method(*this, m, ret, true);
}

int Manager::bus_remove_route(sd_bus_message *m, sd_bus_error *ret)
{
    return route_method(*this, m, ret, false);
}

// Renew/Release: one link argument, polkit, then the DHCP hook.
int Manager::run_link_hook(sd_bus_message *m, sd_bus_error *ret, const std::function<Result<>(int)> &hook,
                           const char *method)
{
    auto a = args<int32_t>(m);
    TRY_ARG(a);
    TRY_ARG(require_link(std::get<0>(*a)));
    AUTHORIZE();
    if (!hook)
        return sd_bus_error_setf(ret, l1::error::Unavailable, "%s: the DHCP client is not available", method);
    auto r = hook(std::get<0>(*a));
    if (!r)
        return bus::set_error(ret, error_name(r.error()), r.error().to_string());
    return sd_bus_reply_method_return(m, nullptr);
}

int Manager::bus_renew(sd_bus_message *m, sd_bus_error *ret)
{
    return run_link_hook(m, ret, hooks.renew, "Renew");
}

int Manager::bus_release(sd_bus_message *m, sd_bus_error *ret)
{
    return run_link_hook(m, ret, hooks.release, "Release");
}

int Manager::bus_reload(sd_bus_message *m, sd_bus_error *ret)
{
    AUTHORIZE();
    if (!hooks.reload)
        return sd_bus_error_set(ret, l1::error::Unavailable,
                                "Reload: link profiles are not available");
    auto r = hooks.reload();
    if (!r)
        return bus::set_error(ret, error_name(r.error()), r.error().to_string());
    return sd_bus_reply_method_return(m, nullptr);
}

int Manager::bus_set_zone(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<int32_t, std::string>(m);
    TRY_ARG(a);
    auto [ifindex, zone] = *a;
    TRY_ARG(require_link(ifindex));
    TRY_ARG(check_zone(zone));
    AUTHORIZE_ZONE_CHANGE();
    set_zone(ifindex, zone);
    return sd_bus_reply_method_return(m, nullptr);
}

int Manager::bus_rename_link(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<int32_t, std::string>(m);
    TRY_ARG(a);
    auto [ifindex, name] = *a;
    auto l = require_link(ifindex);
    TRY_ARG(l);
    TRY_ARG(check_ifname(name, "name"));
    if (const LinkState *other = link_by_name(name); other && other->ifindex() != ifindex)
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("name: '{}' is taken by link {}", name, other->ifindex()));
    // A new name can move the link into another of fwd's pattern zones and changes which
    // iifname/oifname rules match it.
    AUTHORIZE_ZONE_CHANGE();
    std::string old = (*l)->kernel().name;
    if (old == name)
        return sd_bus_reply_method_return(m, nullptr);
    if (!executor_)
        return run(m, ret, {});
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
    if (was_up)
        if (auto r = executor_(down); !r)
            return bus::set_error(ret, error_name(r.error()), r.error().to_string());
    auto r = executor_(rename);
    if (was_up)
        if (auto u = executor_(up); !u)
            log::warning({{"ALOPEX_LINK", old}}, "{}", u.error().to_string());
    if (!r)
        return bus::set_error(ret, error_name(r.error()), r.error().to_string());
    log::info({{"ALOPEX_LINK", name}, {"ALOPEX_OP", "RenameLink"}}, "{}", rename.what);
    return sd_bus_reply_method_return(m, nullptr);
}

int Manager::bus_delete_netdev(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<std::string>(m);
    TRY_ARG(a);
    const std::string &name = std::get<0>(*a);
    TRY_ARG(check_ifname(name, "name"));
    const LinkState *l = link_by_name(name);
    if (!l)
        return bus::set_error(ret, bus_error::NoSuchLink,
                              fmt::format("name: no link named '{}'", name));
    if (!parse_kind(l->kernel().kind))
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("name: '{}' is a {} link, not a bridge, vlan, veth or "
                                          "bond",
                                          name, l->kernel().kind.empty() ? "physical" : l->kernel().kind));
    AUTHORIZE();
    rtnl::Request req;
    req.op = rtnl::Request::Op::DeleteLink;
    req.ifindex = l->ifindex();
    req.what = fmt::format("delete {} {}", l->kernel().kind, name);
    return run(m, ret, req);
}

int Manager::bus_create_netdev(sd_bus_message *m, sd_bus_error *ret)
{
    auto a = args<std::string, std::string>(m);
    TRY_ARG(a);
    auto [name, kind_text] = *a;
    auto opts = read_options(m);
    TRY_ARG(opts);
    TRY_ARG(check_ifname(name, "name"));
    if (link_by_name(name))
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("name: a link named '{}' exists", name));
    auto kind = parse_kind(kind_text);
    TRY_ARG(kind);
    rtnl::Request req;
    req.op = rtnl::Request::Op::CreateNetdev;
    rtnl::NetdevSpec &s = req.netdev;
    s.name = name;
    s.kind = *kind;
    auto fail_opt = [&](const std::string &key, std::string_view what) {
        return bus::set_error(ret, bus_error::InvalidArgument,
                              fmt::format("options.{}: {}", key, what));
    };
    bool have_id = false;
    for (const auto &[key, v] : *opts) {
        const auto *i = std::get_if<int64_t>(&v);
        const auto *str = std::get_if<std::string>(&v);
        const auto *b = std::get_if<bool>(&v);
        if (key == "mtu") {
            if (!i || !check_mtu(static_cast<uint32_t>(*i)) || *i > 65535)
                return fail_opt(key, "must be an integer from 68 to 65535");
            s.mtu = static_cast<uint32_t>(*i);
        } else if (key == "mac") {
            if (!str)
                return fail_opt(key, "must be a string");
            auto mac = parse_mac(*str, "options.mac");
            TRY_ARG(mac);
            s.mac = *mac;
        } else if (key == "stp" && s.kind == rtnl::NetdevKind::Bridge) {
            if (!b)
                return fail_opt(key, "must be a boolean");
            s.stp = *b;
        } else if (key == "parent" && s.kind == rtnl::NetdevKind::Vlan) {
            if (!str)
                return fail_opt(key, "must be a link name");
            const LinkState *p = link_by_name(*str);
            if (!p)
                return bus::set_error(ret, bus_error::NoSuchLink,
                                      fmt::format("options.parent: no link named '{}'", *str));
            s.parent = p->ifindex();
        } else if (key == "id" && s.kind == rtnl::NetdevKind::Vlan) {
            if (!i || *i < 1 || *i > 4094)
                return fail_opt(key, "must be an integer from 1 to 4094");
            s.vlan_id = static_cast<uint16_t>(*i);
            have_id = true;
        } else if (key == "peer" && s.kind == rtnl::NetdevKind::Veth) {
            if (!str)
                return fail_opt(key, "must be a string");
            TRY_ARG(check_ifname(*str, "options.peer"));
            if (*str == name || link_by_name(*str))
                return fail_opt(key, fmt::format("a link named '{}' exists", *str));
            s.peer = *str;
        } else if (key == "mode" && s.kind == rtnl::NetdevKind::Bond) {
            if (!str || !valid_bond_mode(*str))
                return fail_opt(key, "must be one of balance-rr, active-backup, balance-xor, "
                                     "broadcast, 802.3ad, balance-tlb, balance-alb");
            s.bond_mode = *str;
        } else {
            return fail_opt(key, fmt::format("unknown option for kind {}", kind_text));
        }
    }
    if (s.kind == rtnl::NetdevKind::Vlan && (!s.parent || !have_id))
        return bus::set_error(ret, bus_error::InvalidArgument,
                              "options: a vlan needs 'parent' and 'id'");
    if (s.kind == rtnl::NetdevKind::Veth && s.peer.empty())
        return bus::set_error(ret, bus_error::InvalidArgument, "options: a veth needs 'peer'");
    AUTHORIZE();
    req.what = fmt::format("create {} {}", kind_text, name);
    return run(m, ret, req);
}

namespace {

int set_link_updown(Manager &mgr, sd_bus_message *m, sd_bus_error *ret, bool up)
{
    auto a = args<int32_t>(m);
    if (!a)
        return bus::set_error(ret, a.error());
    int32_t ifindex = std::get<0>(*a);
    if (auto r = check_ifindex(ifindex); !r)
        return bus::set_error(ret, r.error());
    const LinkState *l = mgr.link(ifindex);
    if (!l)
        return bus::set_error(ret, bus_error::NoSuchLink,
                              fmt::format("ifindex: no link with index {}", ifindex));
    rtnl::Request req;
    req.op = rtnl::Request::Op::SetLink;
    req.link.ifindex = ifindex;
    req.link.up = up;
    req.what = fmt::format("{} {}", l->kernel().name, up ? "up" : "down");
    return mgr.authorize_and_run(m, ret, req);
}

int route_method(Manager &mgr, sd_bus_message *m, sd_bus_error *ret, bool add)
{
    auto a = args<std::string, std::string, int32_t, uint32_t, uint32_t>(m);
    if (!a)
        return bus::set_error(ret, a.error());
    auto [to, via, ifindex, metric, table] = *a;
    auto spec = route_spec(to, via, ifindex, metric, table);
    if (!spec)
        return bus::set_error(ret, spec.error());
    if (ifindex != 0 && !mgr.link(ifindex))
        return bus::set_error(ret, bus_error::NoSuchLink,
                              fmt::format("ifindex: no link with index {}", ifindex));
    rtnl::Request req;
    req.op = add ? rtnl::Request::Op::AddRoute : rtnl::Request::Op::RemoveRoute;
    req.route = *spec;
    if (!add) {
        req.route.protocol = 0;      // any protocol
        req.route.scope = 255;       // RT_SCOPE_NOWHERE: any scope
    }
    req.what = fmt::format("route {}/{}{}{} table {} metric {}", spec->dst, spec->dst_len,
                           via.empty() ? "" : " via ", via,
                           spec->table, metric);
    uint32_t t = spec->table;
    return mgr.authorize_and_run(m, ret, req, [&mgr, add, t] {
        if (add)
            mgr.manage_table(t);   // follow the routes of the table it now uses
    });
}

} // namespace

int Manager::authorize_and_run(sd_bus_message *m, sd_bus_error *ret, const rtnl::Request &req,
                               const std::function<void()> &before)
{
    AUTHORIZE();
    if (before)
        before();
    return run(m, ret, req);
}

} // namespace alopex::linkd
