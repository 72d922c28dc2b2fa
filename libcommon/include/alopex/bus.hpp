// SPDX-License-Identifier: GPL-2.0-or-later
// Thin helpers over sd-bus: exception-safe trampolines for static vtables, typed
// reads/appends, named errors, PropertiesChanged coalescing and signals.
#pragma once

#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::bus {

// Marker types for signatures that std types cannot express unambiguously.
struct ObjectPath {
    std::string value;
};
struct UnixFd {
    int fd = -1;   // on read: borrowed from the message (dup it to keep it)
};

// Sets *ret from an Error and returns the negative errno sd-bus expects.
int set_error(sd_bus_error *ret, const Error &e);
// Sets *ret to a named error with a message.
int set_error(sd_bus_error *ret, const char *name, std::string message);

// ---- typed reads and appends -------------------------------------------------------

namespace detail {
int read_one(sd_bus_message *m, std::string &v);
int read_one(sd_bus_message *m, bool &v);
int read_one(sd_bus_message *m, uint8_t &v);
int read_one(sd_bus_message *m, int32_t &v);
int read_one(sd_bus_message *m, uint32_t &v);
int read_one(sd_bus_message *m, int64_t &v);
int read_one(sd_bus_message *m, uint64_t &v);
int read_one(sd_bus_message *m, double &v);
int read_one(sd_bus_message *m, ObjectPath &v);
int read_one(sd_bus_message *m, UnixFd &v);
int read_one(sd_bus_message *m, std::vector<uint8_t> &v);
int read_one(sd_bus_message *m, std::vector<std::string> &v);

int append_one(sd_bus_message *m, const std::string &v);
int append_one(sd_bus_message *m, const char *v);
int append_one(sd_bus_message *m, bool v);
int append_one(sd_bus_message *m, uint8_t v);
int append_one(sd_bus_message *m, int32_t v);
int append_one(sd_bus_message *m, uint32_t v);
int append_one(sd_bus_message *m, int64_t v);
int append_one(sd_bus_message *m, uint64_t v);
int append_one(sd_bus_message *m, double v);
int append_one(sd_bus_message *m, const ObjectPath &v);
int append_one(sd_bus_message *m, UnixFd v);
int append_one(sd_bus_message *m, const std::vector<uint8_t> &v);
int append_one(sd_bus_message *m, const std::vector<std::string> &v);
} // namespace detail

// Reads the next values of the message in order; a type mismatch is an error.
template <typename... T> Result<std::tuple<T...>> read(sd_bus_message *m)
{
    std::tuple<T...> out;
    int r = 0;
    std::apply([&](auto &...v) { ((r >= 0 ? (r = detail::read_one(m, v)) : r), ...); }, out);
    if (r < 0)
        return bus_fail(bus_error::InvalidArgument, "cannot read arguments: {}",
                        std::string(strerror(-r)));
    return out;
}

template <typename... T> int append(sd_bus_message *m, const T &...v)
{
    (void)m; // unused when T is empty
    int r = 0;
    ((r >= 0 ? (r = detail::append_one(m, v)) : r), ...);
    return r;
}

// Replies to a method call with the given values; returns what sd-bus expects.
template <typename... T> int reply(sd_bus_message *call, const T &...v)
{
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_return(call, &raw);
    if (r < 0)
        return r;
    MessagePtr msg(raw);
    r = append(msg.get(), v...);
    if (r < 0)
        return r;
    return sd_bus_send(nullptr, msg.get(), nullptr);
}

// ---- exception-safe trampolines for static vtables ---------------------------------
//
//   SD_BUS_METHOD_WITH_ARGS("Ping", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
//                           bus::method<&Broker::ping>, 0)
// where the member has the signature  int Broker::ping(sd_bus_message *, sd_bus_error *).
// The object registered with the vtable is the userdata.

template <typename M> struct member_class;
template <typename C, typename R, typename... A> struct member_class<R (C::*)(A...)> {
    using type = C;
};

int exception_to_error(sd_bus_error *ret) noexcept;

template <auto Method>
int method(sd_bus_message *m, void *userdata, sd_bus_error *ret) noexcept
{
    using C = typename member_class<decltype(Method)>::type;
    try {
        return (static_cast<C *>(userdata)->*Method)(m, ret);
    } catch (...) {
        return exception_to_error(ret);
    }
}

// Member signature: int C::get(sd_bus_message *reply, sd_bus_error *)
template <auto Getter>
int property(sd_bus *, const char *, const char *, const char *, sd_bus_message *reply,
             void *userdata, sd_bus_error *ret) noexcept
{
    using C = typename member_class<decltype(Getter)>::type;
    try {
        return (static_cast<C *>(userdata)->*Getter)(reply, ret);
    } catch (...) {
        return exception_to_error(ret);
    }
}

// Generic handler for sd_bus_call_async / match callbacks:
// int C::on_reply(sd_bus_message *m, sd_bus_error *ret)
template <auto Handler>
int handler(sd_bus_message *m, void *userdata, sd_bus_error *ret) noexcept
{
    return method<Handler>(m, userdata, ret);
}

// ---- PropertiesChanged, coalesced per event-loop iteration -----------------------

// Collects (path, interface, property) triples and emits one PropertiesChanged per
// (path, interface) from a defer source, i.e. once per loop iteration.
// Non-movable: it hands `this` to sd-event.
class PropertiesCoalescer {
public:
    PropertiesCoalescer(sd_bus *bus, sd_event *event);
    PropertiesCoalescer(const PropertiesCoalescer &) = delete;
    PropertiesCoalescer &operator=(const PropertiesCoalescer &) = delete;

    void mark(std::string path, std::string interface, std::string property);
    // Emits now (also called from the defer source).
    void flush();

private:
    static int on_defer(sd_event_source *s, void *userdata) noexcept;
    sd_bus *bus_;
    sd_event *event_;
    EventSourcePtr defer_;
    std::set<std::tuple<std::string, std::string, std::string>> pending_;
};

// Emits a signal with the given arguments.
template <typename... T>
int emit_signal(sd_bus *bus, const char *path, const char *interface, const char *member,
                const T &...v)
{
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_signal(bus, &raw, path, interface, member);
    if (r < 0)
        return r;
    MessagePtr msg(raw);
    r = append(msg.get(), v...);
    if (r < 0)
        return r;
    return sd_bus_send(bus, msg.get(), nullptr);
}

} // namespace alopex::bus
