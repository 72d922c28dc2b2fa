// SPDX-License-Identifier: GPL-2.0-or-later
// The unbound validator over arbitrary contents. Any verdict but a crash; a refusal is
// InvalidArgument naming `contents`; and what passes is checked again here, line by
// line, against what unbound must never read from dnsd-controller: a control character
// or a backslash, a clause other than server:, forward-zone: and dnstap:, or a key that
// loads, runs or moves anything (include, python-script, module-config, chroot,
// directory, username, pidfile, logfile, *-file, control-*, tls-service-*).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "block_validator.hpp"

namespace {

void check_line(std::string_view line)
{
    for (char c : line)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f || c == '\\')
            abort();
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
        line.remove_prefix(1);
    if (line.empty() || line.front() == '#')
        return;
    std::string_view key = line.substr(0, line.find(':'));
    for (std::string_view bad : {"include", "include-toplevel", "python", "python-script", "module-config", "chroot",
                                 "directory", "username", "pidfile", "logfile", "remote-control", "dynlib",
                                 "auth-zone", "stub-zone", "view", "rpz", "cachedb", "port"})
        if (key == bad)
            abort();
    if (key.ends_with("-file") || key.starts_with("control-") || key.starts_with("tls-service-"))
        abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace alopex;
    std::string_view contents(reinterpret_cast<const char *>(data), size);
    auto v = broker::validate_block(broker::Validator::unbound, contents);
    if (!v) {
        if (v.error().bus_name != bus_error::InvalidArgument || !v.error().message.starts_with("contents:"))
            abort();
        return 0;
    }
    size_t start = 0;
    while (start <= contents.size()) {
        size_t nl = contents.find('\n', start);
        size_t stop = nl == std::string_view::npos ? contents.size() : nl;
        std::string_view line = contents.substr(start, stop - start);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        check_line(line);
        if (nl == std::string_view::npos)
            break;
        start = nl + 1;
    }
    return 0;
}
