// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstring>

#include "alopex/bus/codec.hpp"

namespace alopex::bus {

Error read_error(std::string_view what, int r)
{
    if (r == 0 || r == -ENXIO)
        return Error{EBADMSG, fmt::format("{}: missing", what), bus_error::InvalidArgument};
    return Error{-r, fmt::format("{}: cannot read: {}", what, strerror(-r)), bus_error::InvalidArgument};
}

Result<> leave_container(sd_bus_message *m, std::string_view what)
{
    int r = sd_bus_message_exit_container(m);
    if (r < 0)
        return std::unexpected(read_error(what, r));
    return {};
}

namespace {
Result<const char *> read_text(sd_bus_message *m, char type, std::string_view what)
{
    const char *s = nullptr;
    int r = sd_bus_message_read_basic(m, type, &s);
    if (r <= 0)
        return std::unexpected(read_error(what, r));
    return s;
}
} // namespace

Result<> Codec<std::string>::read(sd_bus_message *m, std::string &v, std::string_view what)
{
    ALOPEX_TRY(s, read_text(m, 's', what));
    v = s;
    return {};
}

Result<> Codec<ObjectPath>::read(sd_bus_message *m, ObjectPath &v, std::string_view what)
{
    ALOPEX_TRY(s, read_text(m, 'o', what));
    v.value = s;
    return {};
}

Result<> Codec<UnixFd>::read(sd_bus_message *m, UnixFd &v, std::string_view what)
{
    int fd = -1;
    int r = sd_bus_message_read_basic(m, 'h', &fd);
    if (r <= 0)
        return std::unexpected(read_error(what, r));
    v.fd = fd;
    return {};
}

int Codec<Value>::append(sd_bus_message *m, const Value &v)
{
    return std::visit(
        [m](const auto &x) {
            using T = std::decay_t<decltype(x)>;
            std::string sig = signature_of<T>();
            int r = sd_bus_message_open_container(m, 'v', sig.c_str());
            if (r >= 0)
                r = append_value(m, x);
            return r < 0 ? r : sd_bus_message_close_container(m);
        },
        v);
}

namespace {
template <typename T> Result<> read_as(sd_bus_message *m, Value &v, std::string_view what)
{
    T x{};
    ALOPEX_TRY_VOID(read_value(m, x, what));
    v = std::move(x);
    return {};
}
} // namespace

Result<> Codec<Value>::read(sd_bus_message *m, Value &v, std::string_view what)
{
    char type = 0;
    const char *contents = nullptr;
    int r = sd_bus_message_peek_type(m, &type, &contents);
    if (r <= 0 || type != 'v' || !contents)
        return std::unexpected(read_error(what, r <= 0 ? r : -EINVAL));
    std::string_view c = contents;
    if ((r = sd_bus_message_enter_container(m, 'v', contents)) <= 0)
        return std::unexpected(read_error(what, r));
    Result<> out;
    if (c == "b")
        out = read_as<bool>(m, v, what);
    else if (c == "y")
        out = read_as<uint8_t>(m, v, what);
    else if (c == "i")
        out = read_as<int32_t>(m, v, what);
    else if (c == "u")
        out = read_as<uint32_t>(m, v, what);
    else if (c == "x")
        out = read_as<int64_t>(m, v, what);
    else if (c == "t")
        out = read_as<uint64_t>(m, v, what);
    else if (c == "d")
        out = read_as<double>(m, v, what);
    else if (c == "s")
        out = read_as<std::string>(m, v, what);
    else if (c == "o")
        out = read_as<ObjectPath>(m, v, what);
    else if (c == "as")
        out = read_as<std::vector<std::string>>(m, v, what);
    else
        return bus_fail(bus_error::InvalidArgument, "{}: a variant of type '{}' is not accepted", what, c);
    if (!out)
        return out;
    return leave_container(m, what);
}

} // namespace alopex::bus
