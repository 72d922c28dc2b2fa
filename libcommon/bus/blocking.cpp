// SPDX-License-Identifier: GPL-2.0-or-later
// Blocking calls for command-line tools; see blocking.hpp (never used by daemons).
#include <cstring>

#include "alopex/bus/blocking.hpp"

namespace alopex::bus::blocking {

namespace {

constexpr const char *properties_interface = "org.freedesktop.DBus.Properties";
constexpr const char *object_manager_interface = "org.freedesktop.DBus.ObjectManager";

Result<MessagePtr> new_call(sd_bus *bus, const char *service, const char *path, const char *iface,
                            const char *member)
{
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_call(bus, &raw, service, path, iface, member);
    if (r < 0)
        return failf(-r, "cannot build {}.{}: {}", iface, member, strerror(-r));
    MessagePtr msg(raw);
    (void)sd_bus_message_set_auto_start(raw, 0);
    return msg;
}

} // namespace

Result<MessagePtr> send(sd_bus *bus, sd_bus_message *msg)
{
    BusError error;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call(bus, msg, 0, &error, &raw);   // 0: the connection's timeout
    MessagePtr reply(raw);
    if (r < 0) {
        Error e{-r, error.is_set() ? error.message() : strerror(-r), {}};
        if (error.is_set())
            e.bus_name = error.name();
        return std::unexpected(std::move(e));
    }
    return reply;
}

Result<MessagePtr> get_property_reply(sd_bus *bus, const char *service, const char *path, const InterfaceSpec &iface,
                                      const PropertySpec &p, const std::string &have)
{
    ALOPEX_TRY(msg, bus::detail::new_property_get(bus, service, path, iface, p, have));
    return send(bus, msg.get());
}

Result<MessagePtr> get_all_reply(sd_bus *bus, const char *service, const char *path, const InterfaceSpec &iface)
{
    ALOPEX_TRY(msg, new_call(bus, service, path, properties_interface, "GetAll"));
    if (int r = sd_bus_message_append(msg.get(), "s", iface.name); r < 0)
        return failf(-r, "cannot build GetAll: {}", strerror(-r));
    return send(bus, msg.get());
}

Result<MessagePtr> managed_objects_reply(sd_bus *bus, const char *service, const char *manager)
{
    ALOPEX_TRY(msg, new_call(bus, service, manager, object_manager_interface, "GetManagedObjects"));
    return send(bus, msg.get());
}

} // namespace alopex::bus::blocking
