// SPDX-License-Identifier: GPL-2.0-or-later
#include "alopex/bus/audit.hpp"

#include <cstring>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

namespace alopex::bus {

namespace {

using json = nlohmann::json;
using CredsPtr = std::unique_ptr<sd_bus_creds, CDeleter<sd_bus_creds_unref>>;

template <typename T> int basic(sd_bus_message *m, char type, json &out)
{
    T v{};
    int r = sd_bus_message_read_basic(m, type, &v);
    if (r > 0)
        out = v;
    return r;
}

int read_value(sd_bus_message *m, json &out, unsigned depth);

// The elements of the container just entered, until its end.
int read_elements(sd_bus_message *m, json &out, unsigned depth)
{
    out = json::array();
    for (;;) {
        json v;
        int r = read_value(m, v, depth);
        if (r <= 0)
            return r;
        out.push_back(std::move(v));
    }
}

int read_dict(sd_bus_message *m, const char *contents, json &out, unsigned depth)
{
    std::string entry(contents + 1, std::strlen(contents) - 2);   // "{sv}" -> "sv"
    out = json::object();
    for (;;) {
        int r = sd_bus_message_enter_container(m, 'e', entry.c_str());
        if (r <= 0)
            return r;
        json key, value;
        if ((r = read_value(m, key, depth)) <= 0 || (r = read_value(m, value, depth)) <= 0)
            return r < 0 ? r : -EBADMSG;
        if ((r = sd_bus_message_exit_container(m)) < 0)
            return r;
        out[key.is_string() ? key.get<std::string>() : key.dump()] = std::move(value);
    }
}

// 1: one value read into `out`; 0: the end of the current container; < 0: an error.
int read_value(sd_bus_message *m, json &out, unsigned depth)
{
    char type = 0;
    const char *contents = nullptr;
    int r = sd_bus_message_peek_type(m, &type, &contents);
    if (r <= 0)
        return r;
    if (depth > 64)
        return -EBADMSG;
    switch (type) {
    case 'y': return basic<uint8_t>(m, type, out);
    case 'n': return basic<int16_t>(m, type, out);
    case 'q': return basic<uint16_t>(m, type, out);
    case 'i': return basic<int32_t>(m, type, out);
    case 'u': return basic<uint32_t>(m, type, out);
    case 'x': return basic<int64_t>(m, type, out);
    case 't': return basic<uint64_t>(m, type, out);
    case 'd': return basic<double>(m, type, out);
    case 'b': {
        int v = 0;
        r = sd_bus_message_read_basic(m, type, &v);
        out = v != 0;
        return r;
    }
    case 'h': {
        int fd = -1;
        r = sd_bus_message_read_basic(m, type, &fd);
        out = nullptr;
        return r;
    }
    case 's':
    case 'o':
    case 'g': {
        const char *s = nullptr;
        r = sd_bus_message_read_basic(m, type, &s);
        out = s ? s : "";
        return r;
    }
    case 'a':
    case 'r':
    case 'v':
        break;
    default:
        return -EBADMSG;
    }
    if ((r = sd_bus_message_enter_container(m, type, contents)) <= 0)
        return r < 0 ? r : -EBADMSG;
    if (type == 'a' && contents[0] == '{')
        r = read_dict(m, contents, out, depth + 1);
    else if (type == 'v')
        r = read_value(m, out, depth + 1) > 0 ? 0 : -EBADMSG;
    else
        r = read_elements(m, out, depth + 1);
    if (r < 0)
        return r;
    r = sd_bus_message_exit_container(m);
    return r < 0 ? r : 1;
}

} // namespace

std::string arguments_json(sd_bus_message *m, const MethodSpec &spec)
{
    json args = json::object();
    if (sd_bus_message_rewind(m, 1) >= 0) {
        for (size_t i = 0;; ++i) {
            json v;
            int r = read_value(m, v, 0);
            if (r <= 0)
                break;
            std::string_view name = nth_name(spec.in_names, i);
            args[name.empty() ? fmt::format("arg{}", i) : std::string(name)] = std::move(v);
        }
        (void)sd_bus_message_rewind(m, 1);
    }
    return args.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

std::string details_text(std::string_view sender, std::optional<uid_t> uid, const std::string &args,
                         std::string_view result_json)
{
    json d = json::object();
    d["sender"] = std::string(sender);
    d["uid"] = uid ? json(*uid) : json(nullptr);
    d["args"] = json::parse(args);
    if (!result_json.empty())
        d["result"] = json::parse(result_json, nullptr, false);
    return d.dump(-1, ' ', false, json::error_handler_t::replace);
}

struct AsyncEuid {
    std::function<void(Result<uid_t>)> done;
};

int on_euid(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *a = static_cast<AsyncEuid *>(userdata);
    try {
        uint32_t u = 0;
        if (sd_bus_message_is_method_error(m, nullptr)) {
            const sd_bus_error *e = sd_bus_message_get_error(m);
            a->done(bus_fail(bus_error::NotAuthorized, "the bus cannot tell who called: {}",
                             e && e->message ? e->message : "error"));
        } else if (sd_bus_message_read(m, "u", &u) <= 0) {
            a->done(bus_fail(bus_error::NotAuthorized, "the bus did not tell who called"));
        } else {
            a->done(static_cast<uid_t>(u));
        }
    } catch (...) {
    }
    return 0;
}

void free_euid(void *userdata) noexcept { delete static_cast<AsyncEuid *>(userdata); }

} // namespace

void sender_euid_async(sd_bus_message *m, std::function<void(Result<uid_t>)> done)
{
    const char *sender = sd_bus_message_get_sender(m);
    auto a = std::make_unique<AsyncEuid>(AsyncEuid{std::move(done)});
    sd_bus_slot *slot = nullptr;
    int r = !sender ? -ENXIO
                    : sd_bus_call_method_async(sd_bus_message_get_bus(m), &slot, "org.freedesktop.DBus",
                                               "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                               "GetConnectionUnixUser", on_euid, a.get(), "s", sender);
    if (r < 0) {
        a->done(bus_fail(bus_error::NotAuthorized, "cannot ask the bus who called: {}", strerror(-r)));
        return;
    }
    sd_bus_slot_set_destroy_callback(slot, free_euid);
    sd_bus_slot_set_floating(slot, 1);
    sd_bus_slot_unref(slot);
    (void)a.release();
}

void call_details_async(const Call &c, std::string_view result_json, std::function<void(std::string)> done)
{
    sender_euid_async(c.message(), [sender = std::string(c.sender()), args = arguments_json(c.message(), c.spec()),
                                    result = std::string(result_json), done = std::move(done)](Result<uid_t> uid) {
        done(details_text(sender, uid ? std::optional<uid_t>(*uid) : std::nullopt, args, result));
    });
}

} // namespace alopex::bus
