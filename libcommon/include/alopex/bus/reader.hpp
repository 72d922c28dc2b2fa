// SPDX-License-Identifier: GPL-2.0-or-later
// The client side of an interface declared once: a PropertyReader<S> binds properties of
// an interface spec (generated from ipc/*.xml) to members of a plain struct S, with the
// same codecs (and so the same signatures) the server uses, and reads a{sv} property
// dictionaries (GetAll, GetManagedObjects, PropertiesChanged) into S:
//
//   static const auto reader = bus::PropertyReader<LinkInfo>(ipc::link1::link::spec)
//       .field(link::property::Name, &LinkInfo::name)
//       .field(link::property::Addresses, &LinkInfo::addresses);   // Fields<AddressInfo>
//
// A known property of another type than the XML's is an error naming it; properties the
// reader does not bind (or that a newer server added) are skipped.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/bus/codec.hpp"
#include "alopex/bus/spec.hpp"
#include "alopex/error.hpp"

namespace alopex::bus {

class PropertyReaderBase {
public:
    explicit PropertyReaderBase(const InterfaceSpec &spec) : spec_(spec) {}
    const InterfaceSpec &spec() const noexcept { return spec_; }
    // Every binding names a property of the spec with the spec's signature.
    Result<> check() const;

protected:
    struct Field {
        const PropertySpec *spec;
        std::function<Result<>(sd_bus_message *, void *)> read;   // inside the variant
    };
    void bind(const PropertySpec &p, const std::string &have, Field f);
    // Reads a{sv} into `obj`; `changed` (if set) collects the names read.
    Result<> read_dict_erased(sd_bus_message *m, void *obj, std::vector<std::string> *changed) const;
    const Field *field(std::string_view name) const;

private:
    const InterfaceSpec &spec_;
    std::map<std::string_view, Field> fields_;
    std::vector<std::string> errors_;
};

template <typename S> class PropertyReader : public PropertyReaderBase {
public:
    explicit PropertyReader(const InterfaceSpec &spec) : PropertyReaderBase(spec) {}

    template <typename M> PropertyReader &field(const PropertySpec &p, M S::*member) &
    {
        bind(p, signature_of<M>(), Field{&p, [member, &p](sd_bus_message *m, void *obj) {
                                         return read_value(m, static_cast<S *>(obj)->*member, p.name);
                                     }});
        return *this;
    }
    template <typename M> PropertyReader &&field(const PropertySpec &p, M S::*member) &&
    {
        return std::move(field(p, member));
    }
    // A setter void (S &, V): for values stored differently from how they are sent.
    template <typename V> PropertyReader &field(const PropertySpec &p, void (*set)(S &, V)) &
    {
        using T = std::decay_t<V>;
        bind(p, signature_of<T>(), Field{&p, [set, &p](sd_bus_message *m, void *obj) -> Result<> {
                                         T v{};
                                         ALOPEX_TRY_VOID(read_value(m, v, p.name));
                                         set(*static_cast<S *>(obj), std::move(v));
                                         return {};
                                     }});
        return *this;
    }
    template <typename V> PropertyReader &&field(const PropertySpec &p, void (*set)(S &, V)) &&
    {
        return std::move(field(p, set));
    }

    Result<> read_dict(sd_bus_message *m, S &out, std::vector<std::string> *changed = nullptr) const
    {
        return read_dict_erased(m, &out, changed);
    }
};

// A GetManagedObjects reply (a{oa{sa{sv}}}): every object that has `reader`'s interface,
// read into an S, in path order. Other interfaces are skipped.
template <typename S>
Result<std::vector<std::pair<std::string, S>>> read_managed_objects(sd_bus_message *m, const PropertyReader<S> &reader);

namespace detail {
// Walks a{oa{sa{sv}}}; `object` is called for each path having `iface`, positioned at its
// a{sv} (it must read it whole).
Result<> walk_managed_objects(sd_bus_message *m, std::string_view iface,
                              const std::function<Result<>(const char *path)> &object);
} // namespace detail

template <typename S>
Result<std::vector<std::pair<std::string, S>>> read_managed_objects(sd_bus_message *m, const PropertyReader<S> &reader)
{
    std::vector<std::pair<std::string, S>> out;
    ALOPEX_TRY_VOID(detail::walk_managed_objects(m, reader.spec().name, [&](const char *path) -> Result<> {
        S s{};
        ALOPEX_TRY_VOID(reader.read_dict(m, s));
        out.emplace_back(path, std::move(s));
        return {};
    }));
    return out;
}

} // namespace alopex::bus
