// SPDX-License-Identifier: GPL-2.0-or-later
#include "status.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/ipc/daemons.hpp"
#include "alopex/sd.hpp"

namespace alopexctl {
namespace cli = alopex::cli;

namespace {

std::string describe(const alopex::BusError &e, int r)
{
    if (e.is_set())
        return fmt::format("{}: {}", e.name(), e.message());
    return strerror(-r);
}

// NameHasOwner on the bus driver; a failed call counts as "not running" with an error.
bool has_owner(sd_bus *bus, const char *service, DaemonStatus &out)
{
    alopex::BusError e;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "NameHasOwner", &e, &raw, "s", service);
    alopex::MessagePtr reply(raw);
    if (r < 0) {
        out.error = "NameHasOwner: " + describe(e, r);
        return false;
    }
    int owned = 0;
    r = sd_bus_message_read(reply.get(), "b", &owned);
    if (r < 0) {
        out.error = std::string("NameHasOwner: bad reply: ") + strerror(-r);
        return false;
    }
    return owned != 0;
}

// Version() -> s, which every daemon of the suite has (also those without an interface
// spec in this tree yet).
void ask_version(sd_bus *bus, const char *service, const char *path, const char *interface, DaemonStatus &out)
{
    alopex::BusError e;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call_method(bus, service, path, interface, "Version", &e, &raw, "");
    alopex::MessagePtr reply(raw);
    if (r < 0) {
        out.error = "Version: " + describe(e, r);
        return;
    }
    const char *v = nullptr;
    r = sd_bus_message_read(reply.get(), "s", &v);
    if (r < 0) {
        out.error = std::string("Version: bad reply: ") + strerror(-r);
        return;
    }
    out.version = v;
}

int run_status(Context &ctx, const cli::Args &a)
{
    if (!a.words.empty())
        return Context::usage_error({EINVAL, fmt::format("status: unexpected argument '{}'", cli::printable(a.words[0])), {}});
    auto bus = ctx.bus();
    if (!bus)
        return Context::fail(bus.error());
    // A hung daemon must not hang the listing.
    sd_bus_set_method_call_timeout(*bus, 5 * 1000 * 1000);
    return ctx.print(status_document(query_status(*bus)));
}

} // namespace

// The names `prefix`.LABEL on the bus (ListNames), sorted; an error in `out`.
std::vector<std::string> instance_names(sd_bus *bus, const std::string &prefix, DaemonStatus &out)
{
    alopex::BusError e;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "ListNames", &e, &raw, "");
    alopex::MessagePtr reply(raw);
    std::vector<std::string> names;
    char **strv = nullptr;
    if (r < 0 || (r = sd_bus_message_read_strv(reply.get(), &strv)) < 0) {
        out.error = "ListNames: " + describe(e, r);
        return names;
    }
    for (char **p = strv; p && *p; ++p) {
        std::string n = *p;
        if (n.starts_with(prefix) && n.size() > prefix.size())
            names.push_back(std::move(n));
        free(*p);
    }
    free(strv);
    std::sort(names.begin(), names.end());
    return names;
}

// A daemon with one bus name per instance: a row per instance, or one "not running".
void query_instances(sd_bus *bus, const alopex::ipc::DaemonName &d, std::vector<DaemonStatus> &all)
{
    std::string prefix = std::string(d.service) + ".";
    DaemonStatus none{d.daemon, prefix + "*", false, std::nullopt, std::nullopt};
    auto names = instance_names(bus, prefix, none);
    if (names.empty()) {
        all.push_back(std::move(none));
        return;
    }
    for (const auto &n : names) {
        DaemonStatus s{d.daemon, n, true, std::nullopt, std::nullopt};
        std::string path = std::string(d.path) + "/" + n.substr(prefix.size());
        ask_version(bus, n.c_str(), path.c_str(), d.interface, s);
        all.push_back(std::move(s));
    }
}

std::vector<DaemonStatus> query_status(sd_bus *bus)
{
    std::vector<DaemonStatus> all;
    for (const auto &d : alopex::ipc::daemons) {
        if (d.per_instance) {
            query_instances(bus, d, all);
            continue;
        }
        DaemonStatus s{d.daemon, d.service, false, std::nullopt, std::nullopt};
        s.running = has_owner(bus, d.service, s);
        if (s.running)
            ask_version(bus, d.service, d.path, d.interface, s);
        all.push_back(std::move(s));
    }
    return all;
}

cli::Document status_document(const std::vector<DaemonStatus> &all)
{
    cli::Section s({"DAEMON", "BUS NAME", "STATE", "VERSION", {"ERROR", false}});
    s.json_key = "daemons";
    for (const auto &d : all) {
        nlohmann::json j{{"daemon", d.daemon}, {"service", d.service}, {"running", d.running}, {"version", nullptr}};
        if (d.version)
            j["version"] = *d.version;
        if (d.error)
            j["error"] = *d.error;
        // People see the error in place of the version; scripts get both fields.
        cli::Cell version(d.version.value_or(""));
        if (d.error)
            version.shown_as("error: " + *d.error);
        s.add({d.daemon, d.service, d.running ? "running" : "not running", std::move(version),
               cli::Cell(d.error.value_or(""))},
              j);
    }
    cli::Document doc;
    doc.sections.push_back(std::move(s));
    return doc;
}

std::vector<cli::Command> status_commands(Context &ctx)
{
    return {{{"status"},
             "",
             "list the alopex daemons, whether each is on the\nsystem bus, and its version",
             {},
             [&ctx](const cli::Args &a) { return run_status(ctx, a); }}};
}

} // namespace alopexctl
