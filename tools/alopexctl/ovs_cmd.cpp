// SPDX-License-Identifier: GPL-2.0-or-later
#include "ovs_cmd.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/paths.hpp"
#include "naming.hpp"
#include "settings.hpp"

namespace alopexctl {
namespace pa = alopex::ipc::portagent1;
namespace cli = alopex::cli;
using alopex::failf;
using cli::Cell;
using Op = OvsRequest::Op;

namespace {

template <typename T> alopex::Result<T> number(std::string_view s, T max, std::string_view what)
{
    T v{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max)
        return failf(EINVAL, "ovs {}: a number from 0 to {}, not '{}'", what, max, cli::printable(s));
    return v;
}

alopex::Result<std::string> ifname(std::string_view s, std::string_view usage)
{
    if (!alopex::net::valid_ifname(s))
        return failf(EINVAL, "ovs {}: not an interface name: '{}'", usage, cli::printable(s));
    return std::string(s);
}

template <Op O> alopex::Result<OvsRequest> no_args(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 0, 0, "ovs", O == Op::ports ? "ports" : O == Op::plan ? "plan" : "reload"));
    return OvsRequest{.op = O};
}

alopex::Result<OvsRequest> parse_attach(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 1, 4096, "ovs", "attach NAME..."));
    OvsRequest r{.op = Op::attach};
    for (auto w : a.words) {
        ALOPEX_TRY(n, ifname(w, "attach"));
        r.names.push_back(std::move(n));
    }
    return r;
}

template <Op O> alopex::Result<OvsRequest> one_name(const cli::Args &a)
{
    std::string_view usage = O == Op::detach ? "detach NAME" : "remove-interface NAME";
    ALOPEX_TRY_VOID(cli::count_words(a.words, 1, 1, "ovs", usage));
    ALOPEX_TRY(n, ifname(a.words[0], usage));
    return OvsRequest{.op = O, .names = {std::move(n)}};
}

alopex::Result<OvsRequest> parse_name(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 2, 2, "ovs", "name CONTAINER INDEX"));
    ALOPEX_TRY(index, number<unsigned>(a.words[1], 65535, "name: INDEX"));
    return OvsRequest{.op = Op::name, .container = std::string(a.words[0]), .index = index};
}

alopex::Result<OvsRequest> parse_create(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 3, 3, "ovs", "create-interface RAW CONTAINER VMID"));
    ALOPEX_TRY(raw, ifname(a.words[0], "create-interface"));
    ALOPEX_TRY(vmid, number<uint32_t>(a.words[2], 999'999'999, "create-interface: VMID"));
    return OvsRequest{.op = Op::create, .raw = std::move(raw), .container = std::string(a.words[1]), .vmid = vmid};
}

alopex::Result<OvsRequest> parse_uplink(const cli::Args &a)
{
    ALOPEX_TRY_VOID(cli::count_words(a.words, 2, 3, "ovs", "uplink BRIDGE NIC [SECONDS]"));
    ALOPEX_TRY(bridge, ifname(a.words[0], "uplink"));
    ALOPEX_TRY(nic, ifname(a.words[1], "uplink"));
    OvsRequest r{.op = Op::uplink, .raw = std::move(nic), .bridge = std::move(bridge)};
    if (a.words.size() == 3) {
        ALOPEX_TRY(t, number<uint32_t>(a.words[2], 3600, "uplink: SECONDS"));
        r.timeout_s = t;
    }
    return r;
}

const cli::Verb<OvsRequest> verbs[] = {
    {{"ports"}, "", "the ports of the agent's bridge", no_args<Op::ports>, {}, true},
    {{"attach"}, "NAME...", "attach links to the bridge (whatever their names)", parse_attach},
    {{"detach"}, "NAME", "detach the agent's port, and keep it off", one_name<Op::detach>},
    {{"plan"}, "", "what the agent would change now (a dry run)", no_args<Op::plan>},
    {{"name"}, "CONTAINER INDEX", "the name naming_template gives (alopex-ovs-agent.toml)", parse_name},
    {{"create-interface"}, "RAW CONTAINER VMID", "rename RAW to vi<VMID> and attach it", parse_create},
    {{"remove-interface"}, "NAME", "detach a container's interface and delete it", one_name<Op::remove>},
    {{"reload"}, "", "re-read alopex-ovs-agent.toml", no_args<Op::reload>},
    {{"uplink"}, "BRIDGE NIC [SECONDS]", "move NIC behind BRIDGE in a checkpoint\n(confirm within SECONDS, default 60)",
     parse_uplink},
};

cli::Document one(cli::Section s)
{
    cli::Document doc;
    doc.sections.push_back(std::move(s));
    return doc;
}

int run_name(Context &ctx, const OvsRequest &r)
{
    auto settings = alopex::ovs::load_settings(alopex::paths::config_dir() / "ovs-agent.toml");
    if (!settings)
        return Context::fail(settings.error());
    std::string name = alopex::ovs::render_name(settings->naming_template, r.container, r.index);
    if (ctx.json()) {
        fmt::print("{}\n", nlohmann::json{{"name", name}}.dump());
        return exit_ok;
    }
    fmt::print("{}\n", name);   // alone on its line, as $(alopexctl ovs name ...) wants it
    return exit_ok;
}

} // namespace

alopex::Result<OvsRequest> parse_ovs_args(std::span<const std::string_view> words)
{
    ALOPEX_TRY(args, cli::parse_args(words, {}, "ovs"));
    return cli::parse_verb<OvsRequest>("ovs", verbs, args);
}

cli::Document ovs_ports_document(const std::vector<pa::PortInfo> &ports)
{
    cli::Section s({"PORT", "AGENT", "OFPORT", "TAG", {"TRUNKS", false}, "CONTAINER", "VMID", "ERROR"});
    s.json_key = "ports";
    s.when_empty = "(no ports)";
    for (const auto &p : ports) {
        std::vector<std::string> trunks;
        for (auto t : p.trunks)
            trunks.push_back(std::to_string(t));
        nlohmann::json j{{"port", p.name},     {"agent", p.ours}, {"ofport", p.ofport},
                         {"tag", p.tag < 0 ? nlohmann::json() : nlohmann::json(p.tag)},
                         {"trunks", p.trunks}, {"container", p.container},
                         {"vmid", p.vmid},     {"error", p.error}};
        s.add({p.name, Cell::yes_no(p.ours), p.ofport > 0 ? Cell(p.ofport) : Cell::none(),
               p.tag < 0 ? Cell::none() : Cell(p.tag), trunks.empty() ? Cell::none() : Cell::list(trunks, ","),
               p.container.empty() ? Cell::none() : Cell(p.container), p.vmid ? Cell(p.vmid) : Cell::none(),
               p.error.empty() ? Cell::none() : Cell(p.error)},
              j);
    }
    return one(std::move(s));
}

cli::Document ovs_attach_document(const std::vector<pa::AttachResult> &results)
{
    cli::Section s({"PORT", "OFPORT", "ERROR"});
    s.json_key = "attached";
    for (const auto &r : results)
        s.add({r.name, r.ofport > 0 ? Cell(r.ofport) : Cell::none(), r.error.empty() ? Cell::none() : Cell(r.error)},
              nlohmann::json{{"port", r.name}, {"ofport", r.ofport}, {"error", r.error}});
    return one(std::move(s));
}

cli::Document ovs_plan_document(const std::vector<pa::Change> &changes)
{
    cli::Section s({"ACTION", "PORT", "DETAIL"});
    s.json_key = "plan";
    s.when_empty = "(nothing to do)";
    for (const auto &c : changes)
        s.add({c.action, c.port, c.detail}, nlohmann::json{{"action", c.action}, {"port", c.port}, {"detail", c.detail}});
    return one(std::move(s));
}

int run_ovs(Context &ctx, const OvsRequest &r)
{
    if (r.op == Op::name)
        return run_name(ctx, r);
    auto bus = ctx.bus();
    if (!bus)
        return Context::fail(bus.error());
    switch (r.op) {
    case Op::ports: {
        auto p = pa::list_ports(*bus);
        return p ? ctx.print(ovs_ports_document(*p)) : Context::fail(p.error());
    }
    case Op::attach: {
        auto a = pa::attach_ports(*bus, r.names);
        if (!a)
            return Context::fail(a.error());
        int rc = ctx.print(ovs_attach_document(*a));
        for (const auto &x : *a)
            if (!x.error.empty())
                return exit_failure;
        return rc;
    }
    case Op::detach: {
        auto d = pa::detach_port(*bus, r.names.front());
        return d ? ctx.print(cli::Document()) : Context::fail(d.error());
    }
    case Op::plan: {
        auto p = pa::plan(*bus);
        return p ? ctx.print(ovs_plan_document(*p)) : Context::fail(p.error());
    }
    case Op::create: {
        auto c = pa::create_container_interface(*bus, r.raw, r.container, r.vmid);
        if (!c)
            return Context::fail(c.error());
        return ctx.print(ovs_attach_document({{c->first, c->second, ""}}));
    }
    case Op::remove: {
        auto d = pa::remove_container_interface(*bus, r.names.front());
        return d ? ctx.print(cli::Document()) : Context::fail(d.error());
    }
    case Op::reload: {
        auto p = pa::reload(*bus);
        if (!p)
            return Context::fail(p.error());
        return ctx.print(pending_restart_document(*p));
    }
    case Op::uplink: {
        auto u = pa::migrate_uplink(*bus, r.bridge, r.raw, r.timeout_s);
        if (!u)
            return Context::fail(u.error());
        cli::Section s({"CHECKPOINT", "INTERFACE", "CONFIRM WITHIN"});
        s.json_key = "uplink";
        s.add({u->first, u->second, fmt::format("{}s", r.timeout_s)},
              nlohmann::json{{"checkpoint", u->first}, {"interface", u->second}, {"timeout_s", r.timeout_s}});
        s.footer = fmt::format("confirm with: alopexctl checkpoint confirm {}", u->first);
        return ctx.print(one(std::move(s)));
    }
    case Op::name:
        break;
    }
    return exit_ok;
}

std::vector<cli::Command> ovs_commands(Context &ctx)
{
    return cli::verb_commands<OvsRequest>("ovs", verbs, [&ctx](alopex::Result<OvsRequest> r) {
        return r ? run_ovs(ctx, *r) : Context::usage_error(r.error());
    });
}

} // namespace alopexctl
