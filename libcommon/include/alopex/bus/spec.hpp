// SPDX-License-Identifier: GPL-2.0-or-later
// The shape of a D-Bus interface as ipc/*.xml declares it. ipc/gen/gen_ipc.py turns each
// XML file into constexpr instances of these (alopex/ipc/<name>_spec.hpp); the server side
// (bus::Vtable) and the client side (bus::PropertyReader) bind C++ code to them, and both
// refuse a binding whose signature differs from the XML's.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace alopex::bus {

enum class PropertyFlags : uint8_t {
    None = 0,               // EmitsChangedSignal=false
    EmitsChange = 1,        // the default: PropertiesChanged carries the new value
    EmitsInvalidation = 2,  // PropertiesChanged names it without a value
    Const = 4,              // never changes while the object exists
    Explicit = 8,           // not part of GetAll (org.freedesktop.systemd1.Explicit)
};
constexpr PropertyFlags operator|(PropertyFlags a, PropertyFlags b)
{
    return PropertyFlags(uint8_t(a) | uint8_t(b));
}
constexpr bool has(PropertyFlags set, PropertyFlags f) { return (uint8_t(set) & uint8_t(f)) != 0; }

struct MethodSpec {
    const char *name;
    const char *in;          // input signature
    const char *in_names;    // "a\0b\0": one NUL-terminated name per input argument
    const char *out;         // output signature
    const char *out_names;
    const char *names;       // in_names then out_names, as sd-bus' vtable wants them
};

struct PropertySpec {
    const char *name;
    const char *signature;
    PropertyFlags flags;
    bool emits() const
    {
        return has(flags, PropertyFlags::EmitsChange) || has(flags, PropertyFlags::EmitsInvalidation);
    }
};

struct SignalSpec {
    const char *name;
    const char *signature;
    const char *names;
};

struct InterfaceSpec {
    const char *name;
    std::span<const MethodSpec *const> methods;
    std::span<const PropertySpec *const> properties;
    std::span<const SignalSpec *const> signals;
};

// The i-th name of a NUL-separated list ("" past the end).
inline std::string_view nth_name(const char *names, size_t i)
{
    while (names && *names) {
        std::string_view s(names);
        if (i == 0)
            return s;
        names += s.size() + 1;
        --i;
    }
    return {};
}

} // namespace alopex::bus
