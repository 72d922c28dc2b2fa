// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstring>

#include "alopex/bus/options.hpp"

namespace alopex::bus {

Error Options::error(std::string_view key, std::string_view what) const
{
    return Error{EINVAL, fmt::format("{}.{}: {}", arg_, key, what), bus_error::InvalidArgument};
}

const Options::Item *Options::take(std::string_view key) const
{
    auto it = values_.find(std::string(key));
    if (it == values_.end())
        return nullptr;
    taken_.emplace(key);
    return &it->second;
}

Result<std::optional<int64_t>> Options::integer(std::string_view key, int64_t min, int64_t max) const
{
    const Item *v = take(key);
    if (!v)
        return std::nullopt;
    const auto *i = std::get_if<int64_t>(v);
    if (!i || *i < min || *i > max)
        return std::unexpected(error(key, fmt::format("must be an integer from {} to {}", min, max)));
    return *i;
}

Result<std::optional<std::string>> Options::string(std::string_view key) const
{
    const Item *v = take(key);
    if (!v)
        return std::nullopt;
    const auto *s = std::get_if<std::string>(v);
    if (!s)
        return std::unexpected(error(key, "must be a string"));
    return *s;
}

Result<std::optional<bool>> Options::boolean(std::string_view key) const
{
    const Item *v = take(key);
    if (!v)
        return std::nullopt;
    const auto *b = std::get_if<bool>(v);
    if (!b)
        return std::unexpected(error(key, "must be a boolean"));
    return *b;
}

Result<> Options::done(std::string_view context) const
{
    for (const auto &[key, _] : values_)
        if (!taken_.contains(key))
            return std::unexpected(error(
                key, context.empty() ? std::string("unknown option") : fmt::format("unknown option {}", context)));
    return {};
}

int Codec<Options>::append(sd_bus_message *m, const Options &v)
{
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    for (auto it = v.values().begin(); r >= 0 && it != v.values().end(); ++it) {
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
            r = sd_bus_message_append_basic(m, 's', it->first.c_str());
        if (r >= 0)
            r = std::visit(
                [m](const auto &x) {
                    using T = std::decay_t<decltype(x)>;
                    std::string sig = signature_of<T>();
                    int q = sd_bus_message_open_container(m, 'v', sig.c_str());
                    if (q >= 0)
                        q = append_value(m, x);
                    return q < 0 ? q : sd_bus_message_close_container(m);
                },
                it->second);
        if (r >= 0)
            r = sd_bus_message_close_container(m);
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

namespace {

Result<Options::Item> read_item(sd_bus_message *m, std::string_view what, const std::string &key)
{
    auto bad = [&](std::string_view why) {
        return bus_fail(bus_error::InvalidArgument, "{}.{}: {}", what, key, why);
    };
    char type = 0;
    const char *contents = nullptr;
    if (sd_bus_message_peek_type(m, &type, &contents) <= 0 || type != 'v' || !contents ||
        std::strlen(contents) != 1 || std::string_view("bynqiuxts").find(contents[0]) == std::string_view::npos)
        return bad("must hold a boolean, an integer or a string");
    char c = contents[0];
    if (sd_bus_message_enter_container(m, 'v', contents) <= 0)
        return bad("malformed value");
    union {
        int b;
        uint8_t y;
        int16_t n;
        uint16_t q;
        int32_t i;
        uint32_t u;
        int64_t x;
        uint64_t t;
        const char *s;
    } raw{};
    if (sd_bus_message_read_basic(m, c, &raw) <= 0)
        return bad("malformed value");
    Options::Item v;
    switch (c) {
    case 'b': v = raw.b != 0; break;
    case 'y': v = int64_t{raw.y}; break;
    case 'n': v = int64_t{raw.n}; break;
    case 'q': v = int64_t{raw.q}; break;
    case 'i': v = int64_t{raw.i}; break;
    case 'u': v = int64_t{raw.u}; break;
    case 'x': v = raw.x; break;
    case 't':
        if (raw.t > uint64_t(INT64_MAX))
            return bad("is out of range");
        v = static_cast<int64_t>(raw.t);
        break;
    default: v = std::string(raw.s); break;
    }
    if (sd_bus_message_exit_container(m) < 0)
        return bad("malformed value");
    return v;
}

} // namespace

Result<> Codec<Options>::read(sd_bus_message *m, Options &v, std::string_view what)
{
    auto bad = [&](std::string_view why) { return bus_fail(bus_error::InvalidArgument, "{}: {}", what, why); };
    if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
        return bad("not an a{sv}");
    std::map<std::string, Options::Item> out;
    for (;;) {
        int r = sd_bus_message_enter_container(m, 'e', "sv");
        if (r < 0)
            return bad("malformed entry");
        if (r == 0)
            break;
        if (out.size() >= max_entries)
            return bad(fmt::format("more than {} entries", max_entries));
        const char *key = nullptr;
        if (sd_bus_message_read_basic(m, 's', &key) <= 0)
            return bad("malformed key");
        std::string k(key);
        ALOPEX_TRY(item, read_item(m, what, k));
        if (sd_bus_message_exit_container(m) < 0)
            return bad("malformed entry");
        if (!out.emplace(k, std::move(item)).second)
            return bus_fail(bus_error::InvalidArgument, "{}.{}: given twice", what, k);
    }
    if (sd_bus_message_exit_container(m) < 0)
        return bad("malformed array");
    v = Options(std::string(what), std::move(out));
    return {};
}

} // namespace alopex::bus
