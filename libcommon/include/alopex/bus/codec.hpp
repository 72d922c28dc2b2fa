// SPDX-License-Identifier: GPL-2.0-or-later
// One codec per C++ type: its D-Bus signature, how it is appended, how it is read. The
// server (method arguments, property getters, replies), the client (property readers)
// and the signature checks against ipc/*.xml all go through these, so a type is
// described once.
//
//   basic:      bool b, uint8_t y, int16_t n, uint16_t q, int32_t i, uint32_t u,
//               int64_t x, uint64_t t, double d, std::string s, ObjectPath o, UnixFd h
//   containers: std::vector<T> aT, std::map<K, V> a{KV}, std::tuple<T...> (T...)
//   structs:    a specialization of bus::Fields<S> listing its members in order
//   variants:   bus::Value (writes v), bus::Options (reads a{sv}, see options.hpp)
//
// Reading never trusts the peer: a value of another type is an error naming `what` (the
// argument or property), never a default.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"

namespace alopex::bus {

// Marker types for signatures that std types cannot express unambiguously.
struct ObjectPath {
    std::string value;
    bool operator==(const ObjectPath &) const = default;
    auto operator<=>(const ObjectPath &) const = default;
};
struct UnixFd {
    int fd = -1;   // on read: borrowed from the message (dup it to keep it)
};

// Lists the members of a struct sent as a D-Bus struct, in order:
//   template <> struct bus::Fields<AddressInfo> {
//       static constexpr auto members = std::make_tuple(&AddressInfo::family, ...);
//   };
template <typename T> struct Fields;

template <typename T, typename = void> struct Codec;

// "cannot read WHAT: strerror" as InvalidArgument.
Error read_error(std::string_view what, int r);

namespace detail {
template <char C, typename T, typename Wire = T> struct BasicCodec {
    static std::string signature() { return std::string(1, C); }
    static int append(sd_bus_message *m, const T &v)
    {
        Wire w = static_cast<Wire>(v);
        return sd_bus_message_append_basic(m, C, &w);
    }
    static Result<> read(sd_bus_message *m, T &v, std::string_view what)
    {
        Wire w{};
        int r = sd_bus_message_read_basic(m, C, &w);
        if (r <= 0)
            return std::unexpected(read_error(what, r));
        v = static_cast<T>(w);
        return {};
    }
};
} // namespace detail

template <> struct Codec<bool> : detail::BasicCodec<'b', bool, int> {};
template <> struct Codec<uint8_t> : detail::BasicCodec<'y', uint8_t> {};
template <> struct Codec<int16_t> : detail::BasicCodec<'n', int16_t> {};
template <> struct Codec<uint16_t> : detail::BasicCodec<'q', uint16_t> {};
template <> struct Codec<int32_t> : detail::BasicCodec<'i', int32_t> {};
template <> struct Codec<uint32_t> : detail::BasicCodec<'u', uint32_t> {};
template <> struct Codec<int64_t> : detail::BasicCodec<'x', int64_t> {};
template <> struct Codec<uint64_t> : detail::BasicCodec<'t', uint64_t> {};
template <> struct Codec<double> : detail::BasicCodec<'d', double> {};

template <> struct Codec<std::string> {
    static std::string signature() { return "s"; }
    static int append(sd_bus_message *m, const std::string &v)
    {
        return sd_bus_message_append_basic(m, 's', v.c_str());
    }
    static Result<> read(sd_bus_message *m, std::string &v, std::string_view what);
};
template <> struct Codec<ObjectPath> {
    static std::string signature() { return "o"; }
    static int append(sd_bus_message *m, const ObjectPath &v)
    {
        return sd_bus_message_append_basic(m, 'o', v.value.c_str());
    }
    static Result<> read(sd_bus_message *m, ObjectPath &v, std::string_view what);
};
template <> struct Codec<UnixFd> {
    static std::string signature() { return "h"; }
    static int append(sd_bus_message *m, const UnixFd &v)
    {
        return sd_bus_message_append_basic(m, 'h', &v.fd);
    }
    static Result<> read(sd_bus_message *m, UnixFd &v, std::string_view what);
};

template <typename T> std::string signature_of() { return Codec<std::decay_t<T>>::signature(); }
template <typename... T> std::string signature_of_all() { return (std::string() + ... + signature_of<T>()); }

template <typename T> int append_value(sd_bus_message *m, const T &v)
{
    return Codec<std::decay_t<T>>::append(m, v);
}
template <typename T> Result<> read_value(sd_bus_message *m, T &v, std::string_view what)
{
    return Codec<std::decay_t<T>>::read(m, v, what);
}

// Reads the container's end: anything left in it is an error.
Result<> leave_container(sd_bus_message *m, std::string_view what);

template <typename T> struct Codec<std::vector<T>> {
    static std::string signature() { return "a" + signature_of<T>(); }
    static int append(sd_bus_message *m, const std::vector<T> &v)
    {
        if constexpr (std::is_same_v<T, uint8_t>) {
            return sd_bus_message_append_array(m, 'y', v.data(), v.size());
        } else {
            std::string inner = signature_of<T>();
            int r = sd_bus_message_open_container(m, 'a', inner.c_str());
            for (auto it = v.begin(); r >= 0 && it != v.end(); ++it)
                r = append_value(m, *it);
            return r < 0 ? r : sd_bus_message_close_container(m);
        }
    }
    static Result<> read(sd_bus_message *m, std::vector<T> &v, std::string_view what)
    {
        v.clear();
        if constexpr (std::is_same_v<T, uint8_t>) {
            const void *p = nullptr;
            size_t n = 0;
            int r = sd_bus_message_read_array(m, 'y', &p, &n);
            if (r < 0)
                return std::unexpected(read_error(what, r));
            const auto *b = static_cast<const uint8_t *>(p);
            v.assign(b, b + n);
            return {};
        } else {
            std::string inner = signature_of<T>();
            int r = sd_bus_message_enter_container(m, 'a', inner.c_str());
            if (r <= 0)
                return std::unexpected(read_error(what, r));
            while ((r = sd_bus_message_at_end(m, false)) == 0) {
                T item{};
                ALOPEX_TRY_VOID(read_value(m, item, what));
                v.push_back(std::move(item));
            }
            if (r < 0)
                return std::unexpected(read_error(what, r));
            return leave_container(m, what);
        }
    }
};

template <typename K, typename V> struct Codec<std::map<K, V>> {
    static std::string entry() { return signature_of<K>() + signature_of<V>(); }
    static std::string signature() { return "a{" + entry() + "}"; }
    static int append(sd_bus_message *m, const std::map<K, V> &v)
    {
        std::string e = "{" + entry() + "}";
        std::string inner = entry();
        int r = sd_bus_message_open_container(m, 'a', e.c_str());
        for (auto it = v.begin(); r >= 0 && it != v.end(); ++it) {
            r = sd_bus_message_open_container(m, 'e', inner.c_str());
            if (r >= 0)
                r = append_value(m, it->first);
            if (r >= 0)
                r = append_value(m, it->second);
            if (r >= 0)
                r = sd_bus_message_close_container(m);
        }
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    static Result<> read(sd_bus_message *m, std::map<K, V> &v, std::string_view what)
    {
        v.clear();
        std::string e = "{" + entry() + "}";
        std::string inner = entry();
        int r = sd_bus_message_enter_container(m, 'a', e.c_str());
        if (r <= 0)
            return std::unexpected(read_error(what, r));
        for (;;) {
            r = sd_bus_message_enter_container(m, 'e', inner.c_str());
            if (r < 0)
                return std::unexpected(read_error(what, r));
            if (r == 0)
                break;
            K key{};
            V value{};
            ALOPEX_TRY_VOID(read_value(m, key, what));
            ALOPEX_TRY_VOID(read_value(m, value, what));
            ALOPEX_TRY_VOID(leave_container(m, what));
            v.insert_or_assign(std::move(key), std::move(value));
        }
        return leave_container(m, what);
    }
};

namespace detail {
// Appends / reads each element of a tuple of values (or references) in order.
template <typename... T> int append_each(sd_bus_message *m, const T &...v)
{
    (void)m;   // unused when T is empty
    int r = 0;
    ((r >= 0 ? (r = append_value(m, v)) : r), ...);
    return r;
}
template <typename... T> Result<> read_each(sd_bus_message *m, std::string_view what, T &...v)
{
    (void)m;
    (void)what;
    Result<> r;
    ((r ? (r = read_value(m, v, what)) : r), ...);
    return r;
}
} // namespace detail

template <typename... T> struct Codec<std::tuple<T...>> {
    static std::string signature() { return "(" + signature_of_all<T...>() + ")"; }
    static int append(sd_bus_message *m, const std::tuple<T...> &v)
    {
        std::string inner = signature_of_all<T...>();
        int r = sd_bus_message_open_container(m, 'r', inner.c_str());
        if (r >= 0)
            r = std::apply([m](const auto &...x) { return detail::append_each(m, x...); }, v);
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    static Result<> read(sd_bus_message *m, std::tuple<T...> &v, std::string_view what)
    {
        std::string inner = signature_of_all<T...>();
        int r = sd_bus_message_enter_container(m, 'r', inner.c_str());
        if (r <= 0)
            return std::unexpected(read_error(what, r));
        ALOPEX_TRY_VOID(std::apply(
            [m, what](auto &...x) { return detail::read_each(m, what, x...); }, v));
        return leave_container(m, what);
    }
};

// Structs described by Fields<S>.
template <typename S> struct Codec<S, std::void_t<decltype(Fields<S>::members)>> {
    template <typename F> static auto member_type(F S::*) -> F;
    static std::string inner()
    {
        return std::apply(
            [](auto... mp) { return (std::string() + ... + signature_of<decltype(member_type(mp))>()); },
            Fields<S>::members);
    }
    static std::string signature() { return "(" + inner() + ")"; }
    static int append(sd_bus_message *m, const S &v)
    {
        std::string in = inner();
        int r = sd_bus_message_open_container(m, 'r', in.c_str());
        if (r >= 0)
            r = std::apply([&](auto... mp) { return detail::append_each(m, (v.*mp)...); },
                           Fields<S>::members);
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    static Result<> read(sd_bus_message *m, S &v, std::string_view what)
    {
        std::string in = inner();
        int r = sd_bus_message_enter_container(m, 'r', in.c_str());
        if (r <= 0)
            return std::unexpected(read_error(what, r));
        ALOPEX_TRY_VOID(std::apply(
            [&](auto... mp) { return detail::read_each(m, what, (v.*mp)...); }, Fields<S>::members));
        return leave_container(m, what);
    }
};

// A value sent as a variant ('v'): what a{sv} dictionaries written by the suite hold.
using Value = std::variant<bool, uint8_t, int32_t, uint32_t, int64_t, uint64_t, double,
                           std::string, ObjectPath, std::vector<std::string>>;
template <> struct Codec<Value> {
    static std::string signature() { return "v"; }
    static int append(sd_bus_message *m, const Value &v);
    // Reads a variant holding one of Value's alternatives; anything else is an error.
    static Result<> read(sd_bus_message *m, Value &v, std::string_view what);
};

} // namespace alopex::bus
