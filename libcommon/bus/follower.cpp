// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstring>

#include "alopex/bus/follower.hpp"

namespace alopex::bus {

FollowerBase::FollowerBase(sd_bus *bus, FollowerOptions options, const PropertyReaderBase &reader)
    : reader_(reader), opt_(options), bus_(bus)
{
}

FollowerBase::~FollowerBase() = default;

bool FollowerBase::in_subtree(const char *path) const
{
    size_t n = std::strlen(opt_.subtree);
    return std::strncmp(path, opt_.subtree, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

void FollowerBase::report(const Error &e)
{
    if (on_error)
        on_error(e);
}

Result<> FollowerBase::start()
{
    ALOPEX_TRY_VOID(reader_.check());
    sd_bus_slot *slot = nullptr;
    auto fail_match = [](int r, const char *what) {
        return failf(-r, "cannot subscribe to {}: {}", what, strerror(-r));
    };
    std::string owner = fmt::format("type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                    "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{}'",
                                    opt_.service);
    int r = sd_bus_add_match_async(bus_, &slot, owner.c_str(), &FollowerBase::on_owner, nullptr, this);
    if (r < 0)
        return fail_match(r, "NameOwnerChanged");
    owner_slot_.reset(slot);
    std::string om = fmt::format("type='signal',sender='{}',path='{}',interface='org.freedesktop.DBus.ObjectManager',",
                                 opt_.service, opt_.manager);
    std::string added = om + "member='InterfacesAdded'";
    if ((r = sd_bus_add_match_async(bus_, &slot, added.c_str(), &FollowerBase::on_added, nullptr, this)) < 0)
        return fail_match(r, "InterfacesAdded");
    added_slot_.reset(slot);
    std::string removed = om + "member='InterfacesRemoved'";
    if ((r = sd_bus_add_match_async(bus_, &slot, removed.c_str(), &FollowerBase::on_removed, nullptr, this)) < 0)
        return fail_match(r, "InterfacesRemoved");
    removed_slot_.reset(slot);
    // Only the followed interface's changes below the subtree reach us at all. The
    // matches are installed asynchronously; the bus daemon handles AddMatch before the
    // GetManagedObjects sent after it, so no change falls between.
    std::string props = fmt::format("type='signal',sender='{}',path_namespace='{}',"
                                    "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                                    "arg0='{}'",
                                    opt_.service, opt_.subtree, reader_.spec().name);
    if ((r = sd_bus_add_match_async(bus_, &slot, props.c_str(), &FollowerBase::on_properties, nullptr, this)) < 0)
        return fail_match(r, "PropertiesChanged");
    props_slot_.reset(slot);
    refresh();
    return {};
}

void FollowerBase::refresh()
{
    if (call_slot_) {
        again_ = true;   // read again once the read in flight is in
        return;
    }
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_, &raw, opt_.service, opt_.manager,
                                           "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
    if (r < 0) {
        report(Error{-r, fmt::format("cannot ask {} for its objects: {}", opt_.service, strerror(-r)), {}});
        return;
    }
    MessagePtr call(raw);
    (void)sd_bus_message_set_auto_start(raw, 0);   // follow, never start it
    sd_bus_slot *slot = nullptr;
    r = sd_bus_call_async(bus_, &slot, raw, &FollowerBase::on_reply, this, opt_.timeout_usec);
    if (r < 0) {
        report(Error{-r, fmt::format("cannot ask {} for its objects: {}", opt_.service, strerror(-r)), {}});
        return;
    }
    call_slot_.reset(slot);
}

int FollowerBase::on_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<FollowerBase *>(userdata);
    try {
        self->call_slot_.reset();
        if (sd_bus_message_is_method_error(m, nullptr)) {
            const sd_bus_error *e = sd_bus_message_get_error(m);
            // No owner: nothing to follow until it appears (NameOwnerChanged).
            self->present_ = false;
            bool absent = e && e->name &&
                          (std::strcmp(e->name, SD_BUS_ERROR_SERVICE_UNKNOWN) == 0 ||
                           std::strcmp(e->name, SD_BUS_ERROR_NAME_HAS_NO_OWNER) == 0);
            if (!absent)
                self->report(Error{EIO, fmt::format("{}: {}", self->opt_.service, e && e->message ? e->message : "error"), {}});
            else if (self->on_absent)
                self->on_absent();
        } else if (auto r = self->full(m); !r) {
            self->report(r.error());
        } else {
            self->present_ = true;
            self->synced_ = true;
            ++self->full_reads_;
            if (self->on_synced)
                self->on_synced();
        }
        if (self->again_) {
            self->again_ = false;
            self->refresh();
        }
    } catch (const std::exception &e) {
        self->report(Error{EIO, e.what(), {}});
    }
    return 0;
}

int FollowerBase::on_owner(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<FollowerBase *>(userdata);
    try {
        const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
            return 0;
        if (new_owner && *new_owner) {
            self->synced_ = false;
            self->refresh();   // a (re)start: everything may be new
        } else {
            self->present_ = false;
            self->synced_ = false;
            self->vanished();
            if (self->on_vanished)
                self->on_vanished();
        }
    } catch (const std::exception &e) {
        self->report(Error{EIO, e.what(), {}});
    }
    return 0;
}

int FollowerBase::on_added(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<FollowerBase *>(userdata);
    try {
        const char *path = nullptr;
        if (sd_bus_message_read_basic(m, 'o', &path) <= 0 || !self->in_subtree(path))
            return 0;
        std::string p = path;
        if (sd_bus_message_enter_container(m, 'a', "{sa{sv}}") <= 0)
            return 0;
        while (sd_bus_message_enter_container(m, 'e', "sa{sv}") > 0) {
            const char *iface = nullptr;
            if (sd_bus_message_read_basic(m, 's', &iface) <= 0)
                return 0;
            if (std::strcmp(iface, self->reader_.spec().name) == 0) {
                if (auto r = self->added(p, m); !r)
                    self->report(r.error());
                return 0;
            }
            if (sd_bus_message_skip(m, "a{sv}") < 0 || sd_bus_message_exit_container(m) < 0)
                return 0;
        }
    } catch (const std::exception &e) {
        self->report(Error{EIO, e.what(), {}});
    }
    return 0;
}

int FollowerBase::on_removed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<FollowerBase *>(userdata);
    try {
        const char *path = nullptr;
        if (sd_bus_message_read_basic(m, 'o', &path) <= 0 || !self->in_subtree(path))
            return 0;
        std::string p = path;
        char **ifaces = nullptr;
        if (sd_bus_message_read_strv(m, &ifaces) < 0)
            return 0;
        bool ours = false;
        for (char **i = ifaces; i && *i; ++i) {
            ours = ours || std::strcmp(*i, self->reader_.spec().name) == 0;
            free(*i);
        }
        free(ifaces);
        if (ours)
            self->removed(p);
    } catch (const std::exception &e) {
        self->report(Error{EIO, e.what(), {}});
    }
    return 0;
}

int FollowerBase::on_properties(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<FollowerBase *>(userdata);
    try {
        const char *path = sd_bus_message_get_path(m);
        const char *iface = nullptr;
        if (!path || !self->in_subtree(path) || sd_bus_message_read_basic(m, 's', &iface) <= 0 ||
            std::strcmp(iface, self->reader_.spec().name) != 0)
            return 0;
        if (auto r = self->changed(path, m); !r) {
            self->report(r.error());
            return 0;
        }
        // Invalidated properties carry no value: read everything again (our daemons send
        // values; this is for the odd one that does not).
        char **inval = nullptr;
        if (sd_bus_message_read_strv(m, &inval) >= 0 && inval) {
            bool any = inval[0] != nullptr;
            for (char **i = inval; *i; ++i)
                free(*i);
            free(inval);
            if (any)
                self->refresh();
        }
    } catch (const std::exception &e) {
        self->report(Error{EIO, e.what(), {}});
    }
    return 0;
}

} // namespace alopex::bus
