// SPDX-License-Identifier: GPL-2.0-or-later
// a{sv} arguments ("options"): read once with every integer type widened to int64_t,
// then taken key by key with typed accessors whose errors name "ARG.KEY". Keys nobody
// took are refused, so a misspelt option is an error instead of being ignored.
//
//   void Manager::create(bus::Call &c, std::string name, std::string kind, bus::Options opts) {
//       auto mtu = opts.integer("mtu", 68, 65535);      // Result<std::optional<int64_t>>
//       if (!c.ok(mtu)) return;
//       ...
//       if (!c.ok(opts.done())) return;                  // "options.foo: unknown option"
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "alopex/bus/codec.hpp"

namespace alopex::bus {

class Options {
public:
    using Item = std::variant<bool, int64_t, std::string>;

    Options() = default;
    Options(std::string arg, std::map<std::string, Item> values)
        : arg_(std::move(arg)), values_(std::move(values)) {}

    const std::string &arg() const noexcept { return arg_; }
    const std::map<std::string, Item> &values() const noexcept { return values_; }
    bool contains(std::string_view key) const { return values_.contains(std::string(key)); }

    // Each marks the key as taken; absent keys are nullopt, a wrong type or range is an
    // InvalidArgument naming "ARG.KEY".
    Result<std::optional<int64_t>> integer(std::string_view key, int64_t min, int64_t max) const;
    Result<std::optional<std::string>> string(std::string_view key) const;
    Result<std::optional<bool>> boolean(std::string_view key) const;
    // InvalidArgument "ARG.KEY: unknown option" for the first key no accessor took.
    Result<> done(std::string_view context = {}) const;
    // "ARG.KEY: what" as InvalidArgument.
    Error error(std::string_view key, std::string_view what) const;

private:
    const Item *take(std::string_view key) const;
    std::string arg_ = "options";
    std::map<std::string, Item> values_;
    mutable std::set<std::string, std::less<>> taken_;
};

// Reads a{sv} with boolean, integer (y n q i u x t; t above INT64_MAX refused) and
// string values; other value types, duplicate keys and more than max_entries entries
// are refused naming the argument `what`.
template <> struct Codec<Options> {
    static constexpr size_t max_entries = 256;
    static std::string signature() { return "a{sv}"; }
    static int append(sd_bus_message *m, const Options &v);
    static Result<> read(sd_bus_message *m, Options &v, std::string_view what);
};

} // namespace alopex::bus
