// SPDX-License-Identifier: GPL-2.0-or-later
// Objects on the bus, declared once. A Vtable<T> binds the methods and properties of one
// interface spec (generated from ipc/*.xml, alopex/ipc/*_spec.hpp) to members of T:
//
//   const bus::Vtable<Manager> &manager_vtable() {
//       namespace m = ipc::link1::manager;
//       static const auto vt = bus::Vtable<Manager>(m::spec)
//           .method(m::method::SetMtu, &Manager::set_mtu)       // void (Call &, int32_t, uint32_t)
//           .property(m::property::Connectivity,
//                     [](const Manager &x) { return std::string(to_string(x.connectivity())); });
//       return vt;
//   }
//
// The argument and value types are checked against the XML's signatures, and every
// method and property of the XML must be bound: Service::add() refuses a Vtable that
// disagrees with its spec (the daemon does not start), and check() tells the same to
// unit tests. Getters run whenever sd-bus serializes the property (Get, GetAll,
// GetManagedObjects, PropertiesChanged); Service::changed() marks a property for the
// coalesced PropertiesChanged of this loop iteration.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus/call.hpp"
#include "alopex/bus/codec.hpp"
#include "alopex/bus/spec.hpp"
#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::polkit {
class Authority;
}

namespace alopex::bus {

namespace detail {
template <typename F> struct callable : callable<decltype(&F::operator())> {};
template <typename C, typename R, typename... A> struct callable<R (C::*)(A...) const> {
    using ret = R;
    using args = std::tuple<A...>;
};
template <typename C, typename R, typename... A> struct callable<R (C::*)(A...)> {
    using ret = R;
    using args = std::tuple<A...>;
};
template <typename R, typename... A> struct callable<R (*)(A...)> {
    using ret = R;
    using args = std::tuple<A...>;
};
template <typename T> struct is_result : std::false_type {};
template <typename T> struct is_result<Result<T>> : std::true_type {};

// Reads the call's arguments as `Args` (names from the spec, for errors).
template <typename... A, size_t... I>
Result<std::tuple<std::decay_t<A>...>> read_args(sd_bus_message *m, const MethodSpec &spec,
                                                 std::index_sequence<I...>)
{
    (void)m;
    (void)spec;
    std::tuple<std::decay_t<A>...> out;
    Result<> r;
    ((r ? (r = read_value(m, std::get<I>(out), nth_name(spec.in_names, I))) : r), ...);
    if (!r)
        return std::unexpected(r.error());
    return out;
}
int rewind(sd_bus_message *m);
} // namespace detail

class VtableBase {
public:
    explicit VtableBase(const InterfaceSpec &spec) : spec_(spec) {}
    VtableBase(const VtableBase &) = delete;
    VtableBase &operator=(const VtableBase &) = delete;
    VtableBase(VtableBase &&) = default;

    const InterfaceSpec &spec() const noexcept { return spec_; }
    // Every method and property of the spec bound, every binding in the spec, every
    // signature equal to the XML's. The error lists each disagreement.
    Result<> check() const;
    // The sd-bus vtable (built once).
    const sd_bus_vtable *table() const;

    struct Method {
        const MethodSpec *spec;
        std::function<void(void *obj, Call &)> run;
    };
    struct Property {
        const PropertySpec *spec;
        std::function<int(const void *obj, sd_bus_message *reply, sd_bus_error *ret)> get;
    };
    const Method *method(std::string_view name) const;
    const Property *property(std::string_view name) const;

protected:
    void bind_method(const MethodSpec &m, const std::string &have, Method b);
    void bind_property(const PropertySpec &p, const std::string &have, Property b);

private:
    const InterfaceSpec &spec_;
    std::map<std::string_view, Method> methods_;
    std::map<std::string_view, Property> properties_;
    std::vector<std::string> errors_;
    mutable std::vector<sd_bus_vtable> table_;
};

template <typename T> class Vtable : public VtableBase {
public:
    explicit Vtable(const InterfaceSpec &spec) : VtableBase(spec) {}

    // void T::fn(Call &, A...)
    template <typename... A> Vtable &method(const MethodSpec &m, void (T::*fn)(Call &, A...)) &
    {
        add_method<A...>(m, [fn](T &obj, Call &c, std::decay_t<A> &&...a) {
            (obj.*fn)(c, std::move(a)...);
        });
        return *this;
    }
    template <typename... A> Vtable &&method(const MethodSpec &m, void (T::*fn)(Call &, A...)) &&
    {
        return std::move(method(m, fn));
    }
    // A callable void (T &, Call &, A...).
    template <typename F> Vtable &method(const MethodSpec &m, F fn) &
    {
        using args = typename detail::callable<F>::args;
        bind_callable(m, fn, static_cast<args *>(nullptr));
        return *this;
    }
    template <typename F> Vtable &&method(const MethodSpec &m, F fn) &&
    {
        return std::move(method(m, fn));
    }

    // A callable R (const T &) or Result<R> (const T &); R's signature must be the XML's.
    template <typename F> Vtable &property(const PropertySpec &p, F getter) &
    {
        using R = std::decay_t<typename detail::callable<F>::ret>;
        if constexpr (detail::is_result<R>::value) {
            using V = typename R::value_type;
            bind_property(p, signature_of<V>(),
                          Property{&p, [getter](const void *obj, sd_bus_message *reply, sd_bus_error *ret) {
                                       auto v = getter(*static_cast<const T *>(obj));
                                       if (!v)
                                           return sd_bus_error_set(ret, v.error().bus_name.empty()
                                                                            ? bus_error::IOError
                                                                            : v.error().bus_name.c_str(),
                                                                   v.error().to_string().c_str());
                                       return append_value(reply, *v);
                                   }});
        } else {
            bind_property(p, signature_of<R>(),
                          Property{&p, [getter](const void *obj, sd_bus_message *reply, sd_bus_error *) {
                                       return append_value(reply, getter(*static_cast<const T *>(obj)));
                                   }});
        }
        return *this;
    }
    template <typename F> Vtable &&property(const PropertySpec &p, F getter) &&
    {
        return std::move(property(p, getter));
    }

private:
    template <typename... A, typename F> void add_method(const MethodSpec &m, F body)
    {
        bind_method(m, signature_of_all<std::decay_t<A>...>(),
                    Method{&m, [body, &m](void *obj, Call &c) {
                               if (int r = detail::rewind(c.message()); r < 0) {
                                   c.fail(read_error("arguments", r));
                                   return;
                               }
                               auto args = detail::read_args<A...>(c.message(), m,
                                                                    std::index_sequence_for<A...>{});
                               if (!args) {
                                   c.fail(args.error());
                                   return;
                               }
                               std::apply([&](auto &...a) { body(*static_cast<T *>(obj), c, std::move(a)...); },
                                          *args);
                           }});
    }
    template <typename F, typename Obj, typename CallRef, typename... A>
    void bind_callable(const MethodSpec &m, F fn, std::tuple<Obj, CallRef, A...> *)
    {
        add_method<A...>(m, [fn](T &obj, Call &c, std::decay_t<A> &&...a) { fn(obj, c, std::move(a)...); });
    }
};

class Service;

// One interface registered at a path (or a subtree); unregisters when destroyed.
class Registration {
public:
    // Out of line, where Impl is complete (an empty Registration can be a member).
    Registration() noexcept;
    Registration(Registration &&) noexcept;
    Registration &operator=(Registration &&) noexcept;
    ~Registration();
    struct Impl;

private:
    friend class Service;
    explicit Registration(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

struct ServiceOptions {
    ErrorMapper error_mapper = default_error_name;
    // Pending polkit checks allowed per caller and in total; more get org.alopex.Error.Busy.
    unsigned max_pending_checks_per_sender = 16;
    unsigned max_pending_checks = 256;
    // A refused call is logged (notice: method, sender, error). A service that journals
    // every call itself, with fields of its own (the broker), turns this off.
    bool log_refusals = true;
};

// The daemon's side of one bus connection: registrations, polkit, coalesced property
// changes, signals. Non-movable: registrations point at it.
class Service {
public:
    Service(sd_bus *bus, sd_event *event, ServiceOptions options = {});
    ~Service();
    Service(const Service &) = delete;
    Service &operator=(const Service &) = delete;

    sd_bus *bus() const noexcept { return bus_; }
    sd_event *event() const noexcept { return event_; }
    ErrorMapper error_mapper() const noexcept { return options_.error_mapper; }
    bool log_refusals() const noexcept { return options_.log_refusals; }
    polkit::Authority &authority() noexcept { return *authority_; }

    // `vt` must outlive the registration (a function-local static, typically).
    template <typename T> Result<Registration> add(const char *path, const Vtable<T> &vt, T &obj)
    {
        return add_object(path, vt, static_cast<void *>(&obj), {});
    }
    // Objects below `prefix` found by path (null: no such object); `enumerate` lists the
    // paths for introspection and the object manager.
    template <typename T>
    Result<Registration> add_subtree(const char *prefix, const Vtable<T> &vt,
                                     std::function<T *(std::string_view path)> find,
                                     std::function<std::vector<std::string>()> enumerate)
    {
        auto erased = [f = std::move(find)](std::string_view p) -> void * { return f(p); };
        return add_object(prefix, vt, nullptr, Subtree{std::move(erased), std::move(enumerate)});
    }
    Result<SlotPtr> add_object_manager(const char *path);

    // Marks `property` of `iface` at `path` changed; one PropertiesChanged per (path,
    // interface) goes out at the end of this loop iteration.
    void changed(std::string_view path, const InterfaceSpec &iface, const PropertySpec &property);
    void flush_changes();
    void interfaces_added(const std::string &path, const InterfaceSpec &iface);
    void interfaces_removed(const std::string &path, const InterfaceSpec &iface);

    template <typename... T>
    Result<> emit(const char *path, const InterfaceSpec &iface, const SignalSpec &s, const T &...v)
    {
        auto msg = new_signal(path, iface, s, signature_of_all<T...>());
        if (!msg)
            return std::unexpected(msg.error());
        int r = detail::append_each(msg->get(), v...);
        if (r >= 0)
            r = detail::send(msg->get());
        if (r < 0)
            return failf(-r, "cannot emit {}.{}: {}", iface.name, s.name, strerror(-r));
        return {};
    }

private:
    struct Subtree {
        std::function<void *(std::string_view)> find;
        std::function<std::vector<std::string>()> enumerate;
    };
    Result<Registration> add_object(const char *path, const VtableBase &vt, void *obj, Subtree subtree);
    Result<MessagePtr> new_signal(const char *path, const InterfaceSpec &iface, const SignalSpec &s,
                                  const std::string &have);
    static int on_defer(sd_event_source *s, void *userdata) noexcept;

    sd_bus *bus_;
    sd_event *event_;
    ServiceOptions options_;
    std::unique_ptr<polkit::Authority> authority_;
    EventSourcePtr defer_;
    std::map<std::pair<std::string, std::string_view>, std::set<std::string_view>> pending_changes_;
};

} // namespace alopex::bus
