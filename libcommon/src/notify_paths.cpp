// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstdlib>
#include <string>

#include <systemd/sd-daemon.h>

#include "alopex/notify.hpp"
#include "alopex/paths.hpp"

namespace alopex::notify {

void ready(std::string_view status)
{
    if (status.empty())
        sd_notify(0, "READY=1");
    else
        sd_notify(0, ("READY=1\nSTATUS=" + std::string(status)).c_str());
}
void status(std::string_view status) { sd_notify(0, ("STATUS=" + std::string(status)).c_str()); }
void reloading() { sd_notify(0, "RELOADING=1"); }
void stopping() { sd_notify(0, "STOPPING=1"); }
void enable_watchdog(sd_event *event) { sd_event_set_watchdog(event, 1); }

} // namespace alopex::notify

namespace alopex::paths {
namespace {
std::filesystem::path from_env(const char *var, std::filesystem::path fallback)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return fallback;
    std::string s(v);
    auto colon = s.find(':');
    if (colon != std::string::npos)
        s.resize(colon);
    return s;
}
} // namespace

std::filesystem::path config_dir() { return from_env("CONFIGURATION_DIRECTORY", "/etc/alopex"); }
std::filesystem::path state_dir(std::string_view daemon)
{
    return from_env("STATE_DIRECTORY", std::filesystem::path("/var/lib/alopex") / daemon);
}
std::filesystem::path runtime_dir(std::string_view daemon)
{
    return from_env("RUNTIME_DIRECTORY", std::filesystem::path("/run/alopex") / daemon);
}

Result<BusPtr> open_system_bus()
{
    sd_bus *raw = nullptr;
    int r = sd_bus_open_system(&raw);
    if (r < 0)
        return failf(-r, "cannot connect to the system bus: {}", strerror(-r));
    return BusPtr(raw);
}

} // namespace alopex::paths
