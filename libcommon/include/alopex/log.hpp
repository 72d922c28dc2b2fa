// SPDX-License-Identifier: GPL-2.0-or-later
// Logging to the journal with structured fields, or to stderr with the same fields
// ("ident[pid]: level: message KEY=value ...") when not connected to the journal.
#pragma once

#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace alopex::log {

enum class Level { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

struct Field {
    std::string_view key;   // upper case journal field name, e.g. "ALOPEX_LINK"
    std::string value;
};

// Call once from main(). Reads $ALOPEX_LOG_LEVEL (err|warning|notice|info|debug).
void init(std::string_view ident);
void set_level(Level l);
Level level();
bool enabled(Level l);
// True when stderr is the journal's stream (systemd sets $JOURNAL_STREAM).
bool to_journal();

void emit(Level l, std::initializer_list<Field> fields, std::string message);

template <typename... A> void at(Level l, fmt::format_string<A...> f, A &&...args)
{
    if (enabled(l))
        emit(l, {}, fmt::format(f, std::forward<A>(args)...));
}
template <typename... A>
void at(Level l, std::initializer_list<Field> fields, fmt::format_string<A...> f, A &&...args)
{
    if (enabled(l))
        emit(l, fields, fmt::format(f, std::forward<A>(args)...));
}

#define ALOPEX_LOG_LEVEL_FN(name)                                                        \
    template <typename... A> void name(fmt::format_string<A...> f, A &&...args)          \
    {                                                                                    \
        at(Level::name, f, std::forward<A>(args)...);                                    \
    }                                                                                    \
    template <typename... A>                                                             \
    void name(std::initializer_list<Field> fields, fmt::format_string<A...> f, A &&...args) \
    {                                                                                    \
        at(Level::name, fields, f, std::forward<A>(args)...);                            \
    }
ALOPEX_LOG_LEVEL_FN(err)
ALOPEX_LOG_LEVEL_FN(warning)
ALOPEX_LOG_LEVEL_FN(notice)
ALOPEX_LOG_LEVEL_FN(info)
ALOPEX_LOG_LEVEL_FN(debug)
#undef ALOPEX_LOG_LEVEL_FN

// Runs `f` in a C callback (sd-event, sd-bus): nothing may escape; an exception is logged
// as "WHAT: why" and contained. Returns 0, what such a callback returns.
template <typename F> int contained(const char *what, F &&f) noexcept
{
    try {
        f();
    } catch (const std::exception &e) {
        try {
            err("{}: {}", what, e.what());
        } catch (...) {
        }
    } catch (...) {
    }
    return 0;
}

} // namespace alopex::log
