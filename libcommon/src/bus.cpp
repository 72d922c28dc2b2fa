// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstring>

#include "alopex/bus.hpp"

namespace alopex::bus {

int set_error(sd_bus_error *ret, const char *name, std::string message)
{
    return sd_bus_error_set(ret, name, message.c_str());
}

int set_error(sd_bus_error *ret, const Error &e)
{
    if (!e.bus_name.empty())
        return sd_bus_error_set(ret, e.bus_name.c_str(), e.to_string().c_str());
    // Known errnos map to sd-bus' standard names; give ours a message anyway.
    return sd_bus_error_set_errnof(ret, e.code ? e.code : EIO, "%s", e.to_string().c_str());
}

int exception_to_error(sd_bus_error *ret) noexcept
{
    try {
        throw;
    } catch (const std::bad_alloc &) {
        return -ENOMEM;
    } catch (const std::exception &e) {
        return sd_bus_error_set(ret, bus_error::Internal, e.what());
    } catch (...) {
        return sd_bus_error_set(ret, bus_error::Internal, "unknown exception");
    }
}

namespace detail {

int read_one(sd_bus_message *m, std::string &v)
{
    const char *s = nullptr;
    int r = sd_bus_message_read_basic(m, 's', &s);
    if (r == 0)
        return -ENXIO;
    if (r > 0)
        v = s;
    return r;
}
int read_one(sd_bus_message *m, ObjectPath &v)
{
    const char *s = nullptr;
    int r = sd_bus_message_read_basic(m, 'o', &s);
    if (r == 0)
        return -ENXIO;
    if (r > 0)
        v.value = s;
    return r;
}
template <char C, typename T, typename W = T> int read_basic(sd_bus_message *m, T &v)
{
    W w{};
    int r = sd_bus_message_read_basic(m, C, &w);
    if (r == 0)
        return -ENXIO;
    if (r > 0)
        v = static_cast<T>(w);
    return r;
}
int read_one(sd_bus_message *m, bool &v) { return read_basic<'b', bool, int>(m, v); }
int read_one(sd_bus_message *m, uint8_t &v) { return read_basic<'y'>(m, v); }
int read_one(sd_bus_message *m, int32_t &v) { return read_basic<'i'>(m, v); }
int read_one(sd_bus_message *m, uint32_t &v) { return read_basic<'u'>(m, v); }
int read_one(sd_bus_message *m, int64_t &v) { return read_basic<'x'>(m, v); }
int read_one(sd_bus_message *m, uint64_t &v) { return read_basic<'t'>(m, v); }
int read_one(sd_bus_message *m, double &v) { return read_basic<'d'>(m, v); }
int read_one(sd_bus_message *m, UnixFd &v) { return read_basic<'h', int>(m, v.fd); }
int read_one(sd_bus_message *m, std::vector<uint8_t> &v)
{
    const void *p = nullptr;
    size_t n = 0;
    int r = sd_bus_message_read_array(m, 'y', &p, &n);
    if (r < 0)
        return r;
    const auto *b = static_cast<const uint8_t *>(p);
    v.assign(b, b + n);
    return 1;
}
int read_one(sd_bus_message *m, std::vector<std::string> &v)
{
    char **strv = nullptr;
    int r = sd_bus_message_read_strv(m, &strv);
    if (r < 0)
        return r;
    v.clear();
    for (char **s = strv; s && *s; ++s) {
        v.emplace_back(*s);
        free(*s);
    }
    free(strv);
    return 1;
}

int append_one(sd_bus_message *m, const std::string &v)
{
    return sd_bus_message_append_basic(m, 's', v.c_str());
}
int append_one(sd_bus_message *m, const char *v) { return sd_bus_message_append_basic(m, 's', v); }
int append_one(sd_bus_message *m, bool v)
{
    int i = v ? 1 : 0;
    return sd_bus_message_append_basic(m, 'b', &i);
}
int append_one(sd_bus_message *m, uint8_t v) { return sd_bus_message_append_basic(m, 'y', &v); }
int append_one(sd_bus_message *m, int32_t v) { return sd_bus_message_append_basic(m, 'i', &v); }
int append_one(sd_bus_message *m, uint32_t v) { return sd_bus_message_append_basic(m, 'u', &v); }
int append_one(sd_bus_message *m, int64_t v) { return sd_bus_message_append_basic(m, 'x', &v); }
int append_one(sd_bus_message *m, uint64_t v) { return sd_bus_message_append_basic(m, 't', &v); }
int append_one(sd_bus_message *m, double v) { return sd_bus_message_append_basic(m, 'd', &v); }
int append_one(sd_bus_message *m, const ObjectPath &v)
{
    return sd_bus_message_append_basic(m, 'o', v.value.c_str());
}
int append_one(sd_bus_message *m, UnixFd v) { return sd_bus_message_append_basic(m, 'h', &v.fd); }
int append_one(sd_bus_message *m, const std::vector<uint8_t> &v)
{
    return sd_bus_message_append_array(m, 'y', v.data(), v.size());
}
int append_one(sd_bus_message *m, const std::vector<std::string> &v)
{
    int r = sd_bus_message_open_container(m, 'a', "s");
    if (r < 0)
        return r;
    for (const auto &s : v)
        if ((r = sd_bus_message_append_basic(m, 's', s.c_str())) < 0)
            return r;
    return sd_bus_message_close_container(m);
}

} // namespace detail

PropertiesCoalescer::PropertiesCoalescer(sd_bus *bus, sd_event *event) : bus_(bus), event_(event) {}

void PropertiesCoalescer::mark(std::string path, std::string interface, std::string property)
{
    pending_.emplace(std::move(path), std::move(interface), std::move(property));
    if (!defer_ && event_) {
        sd_event_source *s = nullptr;
        if (sd_event_add_defer(event_, &s, &PropertiesCoalescer::on_defer, this) >= 0)
            defer_.reset(s);
    }
}

int PropertiesCoalescer::on_defer(sd_event_source *, void *userdata) noexcept
{
    auto *self = static_cast<PropertiesCoalescer *>(userdata);
    try {
        self->flush();
    } catch (...) {
    }
    return 0;
}

void PropertiesCoalescer::flush()
{
    defer_.reset();
    auto pending = std::move(pending_);
    pending_.clear();
    auto it = pending.begin();
    while (it != pending.end()) {
        const auto &[path, iface, _] = *it;
        std::vector<std::string> names;
        auto jt = it;
        for (; jt != pending.end() && std::get<0>(*jt) == path && std::get<1>(*jt) == iface; ++jt)
            names.push_back(std::get<2>(*jt));
        std::vector<char *> argv;
        for (auto &n : names)
            argv.push_back(n.data());
        argv.push_back(nullptr);
        sd_bus_emit_properties_changed_strv(bus_, path.c_str(), iface.c_str(), argv.data());
        it = jt;
    }
}

} // namespace alopex::bus
