// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstring>

#include "alopex/bus/client.hpp"
#include "alopex/log.hpp"

namespace alopex::bus {

Error error_of_reply(sd_bus_message *reply)
{
    const sd_bus_error *e = sd_bus_message_get_error(reply);
    Error out;
    out.code = e ? sd_bus_error_get_errno(e) : EIO;
    if (out.code <= 0)
        out.code = EIO;
    out.bus_name = e && e->name ? e->name : "org.freedesktop.DBus.Error.Failed";
    out.message = e && e->message ? e->message : out.bus_name;
    return out;
}

Calls::~Calls()
{
    // Unreferencing the slots cancels the calls: no callback runs after this.
    pending_.clear();
}

namespace detail {

Result<MessagePtr> new_method_call(sd_bus *bus, const char *service, const char *path, const InterfaceSpec &iface,
                                   const MethodSpec &m, const std::string &have_in, const std::string &have_out)
{
    if (have_in != m.in || have_out != m.out)
        return bus_fail(bus_error::Internal, "{}.{}: called as '{}' -> '{}', the XML says '{}' -> '{}'", iface.name,
                        m.name, have_in, have_out, m.in, m.out);
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_call(bus, &raw, service, path, iface.name, m.name);
    if (r < 0)
        return failf(-r, "cannot build {}.{}: {}", iface.name, m.name, strerror(-r));
    MessagePtr msg(raw);
    // Never start a daemon by calling it: a daemon that does not run is an error.
    (void)sd_bus_message_set_auto_start(raw, 0);
    return msg;
}

} // namespace detail

Result<MessagePtr> Calls::start(const char *service, const char *path, const InterfaceSpec &iface,
                                const MethodSpec &m, const std::string &have_in, const std::string &have_out)
{
    return detail::new_method_call(bus_, service, path, iface, m, have_in, have_out);
}

Result<MessagePtr> detail::new_property_get(sd_bus *bus, const char *service, const char *path,
                                            const InterfaceSpec &iface, const PropertySpec &p, const std::string &have)
{
    if (have != p.signature)
        return bus_fail(bus_error::Internal, "{}.{}: read as '{}', the XML says '{}'", iface.name, p.name, have,
                        p.signature);
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_call(bus, &raw, service, path, "org.freedesktop.DBus.Properties", "Get");
    if (r < 0)
        return failf(-r, "cannot build Get of {}.{}: {}", iface.name, p.name, strerror(-r));
    MessagePtr msg(raw);
    (void)sd_bus_message_set_auto_start(raw, 0);
    if (r = sd_bus_message_append(raw, "ss", iface.name, p.name); r < 0)
        return failf(-r, "cannot build Get of {}.{}: {}", iface.name, p.name, strerror(-r));
    return msg;
}

void Calls::send(Result<MessagePtr> msg, std::function<void(Result<MessagePtr>)> done)
{
    if (msg) {
        auto e = std::make_unique<Entry>();
        e->owner = this;
        e->id = next_id_++;
        e->done = std::move(done);
        sd_bus_slot *slot = nullptr;
        int r = sd_bus_call_async(bus_, &slot, msg->get(), &Calls::on_reply, e.get(), timeout_);
        if (r >= 0) {
            e->slot.reset(slot);
            uint64_t id = e->id;
            pending_.emplace(id, std::move(e));
            return;
        }
        done = std::move(e->done);
        msg = failf(-r, "cannot send the call: {}", strerror(-r));
    }
    // Failed before sending: the callback still runs from the loop, never from here.
    failed_.emplace_back(std::move(done), msg.error());
    sd_event *ev = sd_bus_get_event(bus_);
    if (!failed_src_ && ev) {
        sd_event_source *s = nullptr;
        if (sd_event_add_defer(ev, &s, &Calls::on_failed, this) >= 0)
            failed_src_.reset(s);
    }
}

int Calls::on_failed(sd_event_source *, void *userdata) noexcept
{
    auto *self = static_cast<Calls *>(userdata);
    self->failed_src_.reset();
    auto list = std::move(self->failed_);
    self->failed_.clear();
    for (auto &[done, err] : list) {
        try {
            done(std::unexpected(err));
        } catch (const std::exception &e) {
            log::err("D-Bus call callback: {}", e.what());
        }
    }
    return 0;
}

int Calls::on_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *e = static_cast<Entry *>(userdata);
    Calls *self = e->owner;
    auto done = std::move(e->done);
    // Forget the call first: the callback may destroy `self` or start new calls.
    self->pending_.erase(e->id);
    try {
        if (sd_bus_message_is_method_error(m, nullptr))
            done(std::unexpected(error_of_reply(m)));
        else
            done(ref(m));
    } catch (const std::exception &ex) {
        log::err("D-Bus call callback: {}", ex.what());
    }
    return 0;
}

} // namespace alopex::bus
