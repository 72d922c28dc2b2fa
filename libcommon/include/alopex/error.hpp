// SPDX-License-Identifier: GPL-2.0-or-later
// Errors are values: Result<T> = std::expected<T, Error>.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace alopex {

// Named D-Bus errors used across the suite. A reply names the argument in its message.
namespace bus_error {
inline constexpr const char *InvalidArgument = "org.alopex.Error.InvalidArgument";
inline constexpr const char *NotAuthorized = "org.alopex.Error.NotAuthorized";
inline constexpr const char *NoSuchId = "org.alopex.Error.NoSuchId";
inline constexpr const char *PathNotAllowed = "org.alopex.Error.PathNotAllowed";
inline constexpr const char *TooLarge = "org.alopex.Error.TooLarge";
inline constexpr const char *BadMarkers = "org.alopex.Error.BadMarkers";
inline constexpr const char *IOError = "org.alopex.Error.IOError";
inline constexpr const char *WrongFileType = "org.alopex.Error.WrongFileType";
inline constexpr const char *Internal = "org.alopex.Error.Internal";
inline constexpr const char *RateLimited = "org.alopex.Error.RateLimited";
inline constexpr const char *NoSuchLink = "org.alopex.Error.NoSuchLink";
// Too many requests of this caller (or of everyone) are waiting already.
inline constexpr const char *Busy = "org.alopex.Error.Busy";
} // namespace bus_error

struct Error {
    int code = EIO;          // positive errno
    std::string message;     // human text; names the argument or file:line where it applies
    std::string bus_name;    // optional named D-Bus error (bus_error::...)

    std::string to_string() const;
};

template <typename T = void> using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(int code, std::string message)
{
    return std::unexpected<Error>(Error{code < 0 ? -code : code, std::move(message), {}});
}

template <typename... A>
std::unexpected<Error> failf(int code, fmt::format_string<A...> f, A &&...args)
{
    return fail(code, fmt::format(f, std::forward<A>(args)...));
}

// A failure that maps to a named D-Bus error.
template <typename... A>
std::unexpected<Error> bus_fail(const char *bus_name, fmt::format_string<A...> f, A &&...args)
{
    return std::unexpected<Error>(
        Error{EINVAL, fmt::format(f, std::forward<A>(args)...), bus_name});
}

// A failed system call, as org.alopex.Error.IOError: "WHAT: strerror(err)".
inline std::unexpected<Error> io_fail(int err, std::string_view what)
{
    return std::unexpected<Error>(
        Error{err, fmt::format("{}: {}", what, std::strerror(err)), bus_error::IOError});
}

inline std::string Error::to_string() const
{
    if (!message.empty())
        return message;
    return fmt::format("errno {}", code);
}

} // namespace alopex

// Early returns in a function that returns a Result. ALOPEX_TRY(v, expr) evaluates a
// Result<T> and binds its value to the reference `v` (the Result lives in `v_r`);
// ALOPEX_TRY_VOID(expr) only passes an error on.
#define ALOPEX_TRY(var, expr)                                                             \
    auto var##_r = (expr);                                                                \
    if (!var##_r)                                                                         \
        return std::unexpected<::alopex::Error>(std::move(var##_r.error()));              \
    auto &var = *var##_r
#define ALOPEX_TRY_VOID(expr)                                                             \
    do {                                                                                  \
        if (auto r_ = (expr); !r_)                                                        \
            return std::unexpected<::alopex::Error>(std::move(r_.error()));               \
    } while (0)
