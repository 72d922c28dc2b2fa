// SPDX-License-Identifier: GPL-2.0-or-later
#include "status.hpp"

#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/ipc/daemons.hpp"
#include "alopex/sd.hpp"
#include "table.hpp"

namespace alopexctl {
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

void ask_version(sd_bus *bus, const alopex::ipc::DaemonName &d, DaemonStatus &out)
{
    alopex::BusError e;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call_method(bus, d.service, d.path, d.interface, "Version", &e, &raw, "");
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

} // namespace

std::vector<DaemonStatus> query_status(sd_bus *bus)
{
    std::vector<DaemonStatus> all;
    for (const auto &d : alopex::ipc::daemons) {
        DaemonStatus s{d.daemon, d.service, false, std::nullopt, std::nullopt};
        s.running = has_owner(bus, d.service, s);
        if (s.running)
            ask_version(bus, d, s);
        all.push_back(std::move(s));
    }
    return all;
}

std::string format_status_table(const std::vector<DaemonStatus> &all)
{
    std::vector<Row> rows;
    for (const auto &s : all) {
        std::string state = s.running ? "running" : "not running";
        std::string version = s.version ? printable(*s.version) : "-";
        if (s.error)
            version = "error: " + printable(*s.error);
        rows.push_back({s.daemon, s.service, state, version});
    }
    return format_table({"DAEMON", "BUS NAME", "STATE", "VERSION"}, rows);
}

std::string format_status_json(const std::vector<DaemonStatus> &all)
{
    auto arr = nlohmann::json::array();
    for (const auto &s : all) {
        nlohmann::json j{{"daemon", s.daemon},
                         {"service", s.service},
                         {"running", s.running},
                         {"version", nullptr}};
        if (s.version)
            j["version"] = *s.version;
        if (s.error)
            j["error"] = *s.error;
        arr.push_back(std::move(j));
    }
    // Replace invalid UTF-8 from a misbehaving peer instead of throwing.
    return nlohmann::json{{"daemons", arr}}.dump(2, ' ', false,
                                                 nlohmann::json::error_handler_t::replace) +
           "\n";
}

} // namespace alopexctl
