// SPDX-License-Identifier: GPL-2.0-or-later
// Asynchronous calls to another daemon's methods, typed by the same declarations the
// server uses (the method specs generated from ipc/*.xml, the codecs): the arguments and
// the reply's values must have the XML's signatures, the reply arrives in a callback from
// the event loop, every call has a deadline, and destroying the Calls object cancels what
// is outstanding (no callback runs after).
//
//   bus::Calls calls(bus);
//   calls.call<std::string>(broker1::service, broker1::path, b1::spec, b1::method::Version,
//                           [](Result<std::tuple<std::string>> r) { ... });
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>

#include <systemd/sd-bus.h>

#include "alopex/bus/codec.hpp"
#include "alopex/bus/spec.hpp"
#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::bus {

// An error reply as an Error: bus_name is the D-Bus error name, code its errno.
Error error_of_reply(sd_bus_message *reply);

namespace detail {
// A method call of `m` whose argument and reply signatures (`have_in`, `have_out`, from
// the caller's C++ types) must be the XML's; it never starts the daemon by activation.
Result<MessagePtr> new_method_call(sd_bus *bus, const char *service, const char *path, const InterfaceSpec &iface,
                                   const MethodSpec &m, const std::string &have_in, const std::string &have_out);
// org.freedesktop.DBus.Properties.Get of `p`, to be read as a value of signature `have`
// (which must be the XML's); it never starts the daemon by activation.
Result<MessagePtr> new_property_get(sd_bus *bus, const char *service, const char *path, const InterfaceSpec &iface,
                                    const PropertySpec &p, const std::string &have);
// The value in Get's reply (a variant of p's signature).
template <typename T> Result<T> read_property(sd_bus_message *reply, const PropertySpec &p)
{
    if (int r = sd_bus_message_enter_container(reply, 'v', p.signature); r <= 0)
        return std::unexpected(read_error(p.name, r));
    T v{};
    ALOPEX_TRY_VOID(read_value(reply, v, p.name));
    ALOPEX_TRY_VOID(leave_container(reply, p.name));
    return v;
}
} // namespace detail

class Calls {
public:
    explicit Calls(sd_bus *bus, uint64_t timeout_usec = 25'000'000) : bus_(bus), timeout_(timeout_usec) {}
    Calls(const Calls &) = delete;
    Calls &operator=(const Calls &) = delete;
    ~Calls();

    // Calls `m` of `iface` at service/path with `in...`; `done` gets the reply's values.
    // A signature that differs from the XML's fails at once (in the callback, from the loop).
    template <typename... Out, typename... In>
    void call(const char *service, const char *path, const InterfaceSpec &iface, const MethodSpec &m,
              std::type_identity_t<std::function<void(Result<std::tuple<Out...>>)>> done, const In &...in)
    {
        std::string have_in = signature_of_all<In...>(), have_out = signature_of_all<Out...>();
        auto reader = [done = std::move(done), &m](Result<MessagePtr> reply) {
            if (!reply) {
                done(std::unexpected(reply.error()));
                return;
            }
            std::tuple<Out...> out;
            auto r = std::apply([&](auto &...v) { return detail::read_each(reply->get(), m.name, v...); }, out);
            if (!r) {
                done(std::unexpected(r.error()));
                return;
            }
            done(std::move(out));
        };
        auto msg = start(service, path, iface, m, have_in, have_out);
        if (msg && detail::append_each(msg->get(), in...) < 0)
            msg = failf(EINVAL, "{}.{}: cannot append the arguments", iface.name, m.name);
        send(std::move(msg), std::move(reader));
    }

    // Reads property `p` of `iface` at service/path (org.freedesktop.DBus.Properties.Get);
    // T must have the XML's signature (else the callback gets the error at once).
    template <typename T>
    void get(const char *service, const char *path, const InterfaceSpec &iface, const PropertySpec &p,
             std::type_identity_t<std::function<void(Result<T>)>> done)
    {
        auto reader = [done = std::move(done), &p](Result<MessagePtr> reply) {
            done(reply ? detail::read_property<T>(reply->get(), p) : std::unexpected(reply.error()));
        };
        send(detail::new_property_get(bus_, service, path, iface, p, signature_of<T>()), std::move(reader));
    }

    size_t pending() const noexcept { return pending_.size(); }
    uint64_t timeout_usec() const noexcept { return timeout_; }

private:
    struct Entry {
        Calls *owner = nullptr;
        uint64_t id = 0;
        SlotPtr slot;
        std::function<void(Result<MessagePtr>)> done;
    };
    Result<MessagePtr> start(const char *service, const char *path, const InterfaceSpec &iface, const MethodSpec &m,
                             const std::string &have_in, const std::string &have_out);
    void send(Result<MessagePtr> msg, std::function<void(Result<MessagePtr>)> done);
    static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_failed(sd_event_source *, void *userdata) noexcept;

    sd_bus *bus_;
    uint64_t timeout_;
    uint64_t next_id_ = 1;
    std::map<uint64_t, std::unique_ptr<Entry>> pending_;
    std::vector<std::pair<std::function<void(Result<MessagePtr>)>, Error>> failed_;
    EventSourcePtr failed_src_;
};

} // namespace alopex::bus
