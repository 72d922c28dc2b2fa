// SPDX-License-Identifier: GPL-2.0-or-later
#include "linkd/linkd_zones.hpp"

#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "alopex/ipc/link1.hpp"
#include "link1_client.hpp"

namespace alopex::fwd {

namespace l1 = ipc::link1;

Result<std::unique_ptr<LinkdZones>> LinkdZones::start(sd_bus *bus, Callback cb)
{
    std::unique_ptr<LinkdZones> z(new LinkdZones(bus, std::move(cb)));
    ALOPEX_TRY_VOID(z->subscribe());
    z->request_read();   // linkd may already run; a missing service is just no reply
    return z;
}

LinkdZones::~LinkdZones() = default;

Result<std::map<std::string, std::string>> LinkdZones::zones_of(sd_bus_message *reply)
{
    auto links = l1::parse_managed_objects(reply);
    if (!links)
        return std::unexpected(links.error());
    std::map<std::string, std::string> zones;
    for (const auto &l : *links)
        if (!l.zone.empty() && !l.name.empty())
            zones[l.name] = l.zone;
    return zones;
}

Result<std::map<std::string, std::string>> LinkdZones::read_once(sd_bus *bus, uint64_t timeout_us)
{
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_call(bus, &raw, l1::service, l1::path,
                                           "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
    if (r < 0)
        return failf(-r, "GetManagedObjects: {}", strerror(-r));
    MessagePtr call(raw);
    sd_bus_message_set_auto_start(call.get(), 0);
    BusError error;
    sd_bus_message *reply_raw = nullptr;
    r = sd_bus_call(bus, call.get(), timeout_us, &error, &reply_raw);
    if (r < 0)
        return failf(-r, "{}", error.is_set() ? error.message() : strerror(-r));
    MessagePtr reply(reply_raw);
    return zones_of(reply.get());
}

Result<> LinkdZones::subscribe()
{
    auto add = [&](SlotPtr &slot, const char *sender, const char *path, const char *iface,
                   const char *member, sd_bus_message_handler_t h) -> Result<> {
        sd_bus_slot *s = nullptr;
        int r = sd_bus_match_signal_async(bus_, &s, sender, path, iface, member, h, nullptr, this);
        if (r < 0)
            return failf(-r, "cannot subscribe to {}: {}", member, strerror(-r));
        slot.reset(s);
        return {};
    };
    ALOPEX_TRY_VOID(add(owner_slot_, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                        "org.freedesktop.DBus", "NameOwnerChanged", on_owner));
    ALOPEX_TRY_VOID(add(added_slot_, l1::service, l1::path, "org.freedesktop.DBus.ObjectManager",
                        "InterfacesAdded", on_objects));
    ALOPEX_TRY_VOID(add(removed_slot_, l1::service, l1::path, "org.freedesktop.DBus.ObjectManager",
                        "InterfacesRemoved", on_objects));
    // PropertiesChanged of the link objects' Link interface only (the bus filters by path
    // namespace and arg0, so linkd's other changes never wake fwd); the handler still
    // checks, and looks at the changed names.
    const std::string match = fmt::format(
        "type='signal',sender='{}',interface='org.freedesktop.DBus.Properties',"
        "member='PropertiesChanged',path_namespace='{}',arg0='{}'",
        l1::service, l1::link_prefix, l1::link_interface);
    sd_bus_slot *s = nullptr;
    if (int r = sd_bus_add_match_async(bus_, &s, match.c_str(), on_properties, nullptr, this); r < 0)
        return failf(-r, "cannot subscribe to PropertiesChanged: {}", strerror(-r));
    props_slot_.reset(s);
    return {};
}

void LinkdZones::request_read()
{
    if (call_slot_) {
        again_ = true;
        return;
    }
    sd_bus_slot *s = nullptr;
    int r = sd_bus_call_method_async(bus_, &s, l1::service, l1::path,
                                     "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                     on_reply, this, "");
    if (r >= 0)
        call_slot_.reset(s);
}

int LinkdZones::on_owner(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<LinkdZones *>(userdata);
    const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
    if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !name)
        return 0;
    if (std::string_view(name) == l1::service && new_owner && *new_owner)
        self->request_read();
    return 0;
}

int LinkdZones::on_objects(sd_bus_message *, void *userdata, sd_bus_error *) noexcept
{
    static_cast<LinkdZones *>(userdata)->request_read();
    return 0;
}

int LinkdZones::on_properties(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<LinkdZones *>(userdata);
    const char *path = sd_bus_message_get_path(m);
    if (!path || std::strncmp(path, l1::link_prefix, std::strlen(l1::link_prefix)) != 0)
        return 0;
    const char *iface = nullptr;
    if (sd_bus_message_read(m, "s", &iface) < 0 || !iface ||
        std::string_view(iface) != l1::link_interface)
        return 0;
    bool relevant = false;
    // a{sv} changed, then as invalidated.
    if (sd_bus_message_enter_container(m, 'a', "{sv}") > 0) {
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
            const char *key = nullptr;
            if (sd_bus_message_read(m, "s", &key) < 0 || !key)
                return 0;
            std::string_view k(key);
            relevant |= k == "Zone" || k == "Name";
            if (sd_bus_message_skip(m, "v") < 0 || sd_bus_message_exit_container(m) < 0)
                return 0;
        }
        if (sd_bus_message_exit_container(m) < 0)
            return 0;
    }
    if (sd_bus_message_enter_container(m, 'a', "s") > 0) {
        const char *key = nullptr;
        while (sd_bus_message_read(m, "s", &key) > 0 && key) {
            std::string_view k(key);
            relevant |= k == "Zone" || k == "Name";
        }
    }
    if (relevant)
        self->request_read();
    return 0;
}

int LinkdZones::on_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<LinkdZones *>(userdata);
    try {
        self->call_slot_.reset();
        if (!sd_bus_message_is_method_error(m, nullptr)) {
            if (auto zones = zones_of(m)) {
                ++self->reads_;
                if (*zones != self->zones_) {
                    self->zones_ = std::move(*zones);
                    if (self->cb_)
                        self->cb_(self->zones_);
                }
            }
        }
        if (self->again_) {
            self->again_ = false;
            self->request_read();
        }
    } catch (...) {
        // contained: the next change reads again
    }
    return 0;
}

} // namespace alopex::fwd
