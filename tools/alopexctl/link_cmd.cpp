// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl link ...`: the verbs (words, usage, parser) in one table, and their calls.
#include "link_cmd.hpp"

#include <charconv>

#include <fmt/format.h>

#include "alopex/bus/blocking.hpp"
#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"

namespace alopexctl {
namespace l1 = alopex::ipc::link1;
namespace mm = alopex::ipc::link1::manager::method;
namespace cli = alopex::cli;
using alopex::failf;
using Op = LinkRequest::Op;

namespace {

alopex::Result<uint32_t> parse_u32(std::string_view what, std::string_view s)
{
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        return failf(EINVAL, "{}: not a non-negative integer: '{}'", what, cli::printable(s));
    return v;
}

// TO [via GW] [dev LINK] [metric N] [table N]
alopex::Result<LinkRequest> parse_route(const cli::Args &a, Op op)
{
    const auto &w = a.words;
    LinkRequest r;
    r.op = op;
    if (w.empty())
        return failf(EINVAL, "link route: missing destination");
    r.to = std::string(w[0]);
    for (size_t i = 1; i < w.size(); i += 2) {
        if (i + 1 >= w.size())
            return failf(EINVAL, "link route: '{}' needs a value", cli::printable(w[i]));
        std::string_view k = w[i], v = w[i + 1];
        if (k == "via" || k == "gateway") {
            r.via = std::string(v);
        } else if (k == "dev") {
            r.link = std::string(v);
        } else if (k == "metric") {
            ALOPEX_TRY(n, parse_u32("metric", v));
            r.metric = n;
        } else if (k == "table") {
            ALOPEX_TRY(n, parse_u32("table", v));
            r.table = n;
        } else {
            return failf(EINVAL, "link route: unknown keyword '{}'", cli::printable(k));
        }
    }
    if (r.via.empty() && r.link.empty())
        return failf(EINVAL, "link route: needs 'via GATEWAY' or 'dev LINK'");
    return r;
}

// VERB LINK
alopex::Result<LinkRequest> one_link(const cli::Args &a, Op op, std::string_view verb)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 1, 1, "link", fmt::format("{} LINK", verb)));
    return LinkRequest{.op = op, .link = std::string(a.words[0])};
}

alopex::Result<LinkRequest> no_args(const cli::Args &a, Op op, std::string_view verb)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 0, 0, "link", verb));
    return LinkRequest{.op = op};
}

alopex::Result<LinkRequest> parse_set(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 3, 3, "link", "set LINK mtu|zone|name VALUE"));
    LinkRequest r{.link = std::string(a.words[0])};
    std::string_view what = a.words[1], value = a.words[2];
    if (what == "mtu") {
        ALOPEX_TRY(n, parse_u32("mtu", value));
        r.op = Op::set_mtu;
        r.mtu = n;
    } else if (what == "zone" || what == "name") {
        r.op = what == "zone" ? Op::set_zone : Op::rename;
        r.value = std::string(value);
    } else {
        return failf(EINVAL, "link set: unknown property '{}' (mtu, zone or name)", cli::printable(what));
    }
    return r;
}

template <Op O> alopex::Result<LinkRequest> parse_addr(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 2, 2, "link",
                                     fmt::format("addr {} LINK ADDRESS/PREFIX", O == Op::addr_add ? "add" : "del")));
    return LinkRequest{.op = O, .link = std::string(a.words[0]), .value = std::string(a.words[1])};
}

const cli::Verb<LinkRequest> verbs[] = {
    {{"list"}, "", "links with state, MTU, zone and addresses", +[](const cli::Args &a) { return no_args(a, Op::list, "list"); }, {}, true},
    {{"show"}, "LINK", "one link in detail (LINK: a name or an index)", +[](const cli::Args &a) { return one_link(a, Op::show, "show"); }},
    {{"up"}, "LINK", "set the link administratively up", +[](const cli::Args &a) { return one_link(a, Op::up, "up"); }},
    {{"down"}, "LINK", "set the link administratively down", +[](const cli::Args &a) { return one_link(a, Op::down, "down"); }},
    {{"set"}, "LINK mtu N | zone Z | name NEW", "change the MTU, the firewall zone or the name", parse_set},
    {{"addr|address", "add"}, "LINK ADDRESS/PREFIX", "add an address", parse_addr<Op::addr_add>},
    {{"addr|address", "del"}, "LINK ADDRESS/PREFIX", "remove an address", parse_addr<Op::addr_del>},
    {{"route", "add"},
     "TO [via GW] [dev LINK] [metric N] [table N]",
     "add a route; TO is a network or 'default'",
     +[](const cli::Args &a) { return parse_route(a, Op::route_add); }},
    {{"route", "del"},
     "TO [via GW] [dev LINK] [metric N] [table N]",
     "remove a route",
     +[](const cli::Args &a) { return parse_route(a, Op::route_del); }},
    {{"renew"}, "LINK", "renew the DHCPv4 lease", +[](const cli::Args &a) { return one_link(a, Op::renew, "renew"); }},
    {{"release"}, "LINK", "release the DHCPv4 lease", +[](const cli::Args &a) { return one_link(a, Op::release, "release"); }},
    {{"reload"}, "", "re-read the link profiles", +[](const cli::Args &a) { return no_args(a, Op::reload, "reload"); }},
};

// Every link object, one GetManagedObjects call.
alopex::Result<std::vector<l1::LinkInfo>> read_links(sd_bus *bus)
{
    ALOPEX_TRY(objects, alopex::bus::blocking::managed_objects(bus, l1::service, l1::path, l1::link_reader()));
    return l1::by_ifindex(std::move(objects));
}

// Calls a Manager method (names and signatures from ipc/org.alopex.Link1.xml); a change
// answers nothing: with --json, "{}".
template <typename... In> int call(Context &ctx, sd_bus *bus, const alopex::bus::MethodSpec &m, const In &...in)
{
    auto r = alopex::bus::blocking::call<>(bus, l1::service, l1::path, l1::manager::spec, m, in...);
    return r ? ctx.print(cli::Document()) : Context::fail(r.error());
}

} // namespace

alopex::Result<LinkRequest> parse_link_args(std::span<const std::string_view> words)
{
    ALOPEX_TRY(args, cli::parse_args(words, {}, "link"));
    return cli::parse_verb<LinkRequest>("link", verbs, args);
}

alopex::Result<l1::LinkInfo> find_link(const std::vector<l1::LinkInfo> &links, std::string_view ref)
{
    int index = 0;
    auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), index);
    bool numeric = !ref.empty() && ec == std::errc() && end == ref.data() + ref.size();
    for (const auto &l : links)
        if (l.name == ref || (numeric && l.ifindex == index))
            return l;
    return std::unexpected(alopex::Error{ENODEV, fmt::format("no such link: '{}'", cli::printable(ref)),
                                         alopex::bus_error::NoSuchLink});
}

int run_link(Context &ctx, const LinkRequest &r)
{
    auto bus = ctx.bus();
    if (!bus)
        return Context::fail(bus.error());
    if (r.op == Op::reload)
        return call(ctx, *bus, mm::Reload);
    auto links = read_links(*bus);
    if (!links)
        return Context::fail(links.error());
    if (r.op == Op::list)
        return ctx.print(links_document(*links));
    int32_t index = 0;
    if (!r.link.empty()) {
        auto l = find_link(*links, r.link);
        if (!l)
            return Context::fail(l.error());
        index = l->ifindex;
        if (r.op == Op::show)
            return ctx.print(link_detail_document(*l));
    }
    switch (r.op) {
    case Op::up:
        return call(ctx, *bus, mm::SetLinkUp, index);
    case Op::down:
        return call(ctx, *bus, mm::SetLinkDown, index);
    case Op::set_mtu:
        return call(ctx, *bus, mm::SetMtu, index, r.mtu);
    case Op::set_zone:
        return call(ctx, *bus, mm::SetZone, index, r.value);
    case Op::rename:
        return call(ctx, *bus, mm::RenameLink, index, r.value);
    case Op::addr_add:
        return call(ctx, *bus, mm::AddAddress, index, r.value);
    case Op::addr_del:
        return call(ctx, *bus, mm::RemoveAddress, index, r.value);
    case Op::route_add:
        return call(ctx, *bus, mm::AddRoute, r.to, r.via, index, r.metric, r.table);
    case Op::route_del:
        return call(ctx, *bus, mm::RemoveRoute, r.to, r.via, index, r.metric, r.table);
    case Op::renew:
        return call(ctx, *bus, mm::Renew, index);
    case Op::release:
        return call(ctx, *bus, mm::Release, index);
    case Op::list:
    case Op::show:
    case Op::reload:
        break;
    }
    return exit_ok;
}

std::vector<cli::Command> link_commands(Context &ctx)
{
    return cli::verb_commands<LinkRequest>("link", verbs, [&ctx](alopex::Result<LinkRequest> r) {
        return r ? run_link(ctx, *r) : Context::usage_error(r.error());
    });
}

} // namespace alopexctl
