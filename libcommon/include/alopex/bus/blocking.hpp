// SPDX-License-Identifier: GPL-2.0-or-later
// Blocking calls for command-line tools (alopexctl): the same typed declarations as the
// asynchronous bus::Calls (method specs generated from ipc/*.xml, the codecs, property
// readers), but each call waits for its reply on the calling thread, up to the
// connection's method-call timeout (sd_bus_set_method_call_timeout).
//
// NOT FOR DAEMONS: nothing on an event loop may wait for a reply. Daemons use
// bus::Calls (client.hpp) and bus::Follower (follower.hpp).
//
//   auto v = bus::blocking::call<std::string>(bus, f1::service, f1::path, api::spec,
//                                             api::method::Version);   // Result<std::tuple<std::string>>
//
// A D-Bus error reply comes back as an Error with the error's name in bus_name and its
// message in message.
#pragma once

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/bus/client.hpp"
#include "alopex/bus/codec.hpp"
#include "alopex/bus/reader.hpp"
#include "alopex/bus/spec.hpp"
#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::bus::blocking {

// Sends `msg` and waits for the reply; an error reply (or a failure to send, a timeout)
// is an Error.
Result<MessagePtr> send(sd_bus *bus, sd_bus_message *msg);

// Calls `m` of `iface` with `in...` and reads the reply as `Out...`; signatures that
// differ from the XML's are refused before anything is sent.
template <typename... Out, typename... In>
Result<std::tuple<Out...>> call(sd_bus *bus, const char *service, const char *path, const InterfaceSpec &iface,
                                const MethodSpec &m, const In &...in)
{
    ALOPEX_TRY(msg, detail::new_method_call(bus, service, path, iface, m, signature_of_all<In...>(),
                                            signature_of_all<Out...>()));
    if (bus::detail::append_each(msg.get(), in...) < 0)
        return failf(EINVAL, "{}.{}: cannot append the arguments", iface.name, m.name);
    ALOPEX_TRY(reply, send(bus, msg.get()));
    std::tuple<Out...> out;
    ALOPEX_TRY_VOID(std::apply([&](auto &...v) { return bus::detail::read_each(reply.get(), m.name, v...); }, out));
    return out;
}

// org.freedesktop.DBus.Properties.Get of one property, read as T (T's signature must be
// the XML's).
Result<MessagePtr> get_property_reply(sd_bus *bus, const char *service, const char *path, const InterfaceSpec &iface,
                                      const PropertySpec &p, const std::string &have);
template <typename T>
Result<T> get(sd_bus *bus, const char *service, const char *path, const InterfaceSpec &iface, const PropertySpec &p)
{
    ALOPEX_TRY(reply, get_property_reply(bus, service, path, iface, p, signature_of<T>()));
    return bus::detail::read_property<T>(reply.get(), p);
}

// org.freedesktop.DBus.Properties.GetAll of the reader's interface, read into an S.
Result<MessagePtr> get_all_reply(sd_bus *bus, const char *service, const char *path, const InterfaceSpec &iface);
template <typename S>
Result<S> get_all(sd_bus *bus, const char *service, const char *path, const PropertyReader<S> &reader)
{
    ALOPEX_TRY(reply, get_all_reply(bus, service, path, reader.spec()));
    S s{};
    ALOPEX_TRY_VOID(reader.read_dict(reply.get(), s));
    return s;
}

// org.freedesktop.DBus.ObjectManager.GetManagedObjects at `manager`: the objects having
// the reader's interface, in path order.
Result<MessagePtr> managed_objects_reply(sd_bus *bus, const char *service, const char *manager);
template <typename S>
Result<std::vector<std::pair<std::string, S>>> managed_objects(sd_bus *bus, const char *service, const char *manager,
                                                               const PropertyReader<S> &reader)
{
    ALOPEX_TRY(reply, managed_objects_reply(bus, service, manager));
    return read_managed_objects(reply.get(), reader);
}

} // namespace alopex::bus::blocking
