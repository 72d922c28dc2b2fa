// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <systemd/sd-journal.h>

#include "alopex/log.hpp"

namespace alopex::log {
namespace {

std::string g_ident = "alopex";
Level g_level = Level::info;
bool g_journal = false;

constexpr const char *level_names[] = {"emerg", "alert", "crit", "err",
                                       "warning", "notice", "info", "debug"};

bool stderr_is_journal()
{
    const char *js = getenv("JOURNAL_STREAM");
    if (!js)
        return false;
    unsigned long long dev = 0, ino = 0;
    if (sscanf(js, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st{};
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return st.st_dev == dev && st.st_ino == ino;
}

// Caller-controlled text must not forge log lines on stderr: control characters and the
// backslash become \xNN escapes. (The journal takes each field whole; no escaping there.)
std::string escaped(std::string_view in)
{
    std::string out;
    out.reserve(in.size());
    for (unsigned char c : in) {
        if (c < 0x20 || c == 0x7f || c == '\\')
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

} // namespace

void init(std::string_view ident)
{
    g_ident = std::string(ident);
    g_journal = stderr_is_journal();
    if (const char *l = getenv("ALOPEX_LOG_LEVEL")) {
        for (int i = 3; i <= 7; ++i)
            if (strcmp(l, level_names[i]) == 0)
                g_level = static_cast<Level>(i);
    }
}

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
bool enabled(Level l) { return static_cast<int>(l) <= static_cast<int>(g_level); }
bool to_journal() { return g_journal; }

void emit(Level l, std::initializer_list<Field> fields, std::string message)
{
    int prio = static_cast<int>(l);
    if (g_journal) {
        std::vector<std::string> items;
        items.reserve(fields.size() + 3);
        items.push_back("MESSAGE=" + message);
        items.push_back("PRIORITY=" + std::to_string(prio));
        items.push_back("SYSLOG_IDENTIFIER=" + g_ident);
        for (const auto &f : fields)
            items.push_back(std::string(f.key) + "=" + f.value);
        std::vector<iovec> iov;
        iov.reserve(items.size());
        for (auto &s : items)
            iov.push_back(iovec{s.data(), s.size()});
        if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0)
            return;
    }
    std::string line = fmt::format("{}[{}]: {}: {}", g_ident, getpid(), level_names[prio],
                                   escaped(message));
    for (const auto &f : fields)
        line += fmt::format(" {}={}", f.key, escaped(f.value));
    line += '\n';
    fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace alopex::log
