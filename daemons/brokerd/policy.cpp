// SPDX-License-Identifier: GPL-2.0-or-later
#include <fnmatch.h>
#include <limits.h>

#include <algorithm>
#include <string>

#include "policy.hpp"

namespace alopex::broker {

namespace {

bool listed(const std::vector<uid_t> &callers, uid_t uid)
{
    return std::find(callers.begin(), callers.end(), uid) != callers.end();
}

bool valid_utf8(std::string_view s)
{
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = p[i];
        size_t n = 0;
        uint32_t cp = c;
        if (c >= 0x80) {
            if ((c & 0xe0) == 0xc0)
                n = 1, cp = c & 0x1f;
            else if ((c & 0xf0) == 0xe0)
                n = 2, cp = c & 0x0f;
            else if ((c & 0xf8) == 0xf0)
                n = 3, cp = c & 0x07;
            else
                return false;
        }
        if (n >= s.size() - i)
            return n == 0;
        for (size_t k = 1; k <= n; ++k) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

} // namespace

bool reserved_action(std::string_view action)
{
    constexpr std::string_view prefix = "broker";
    if (action.size() < prefix.size())
        return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        char c = action[i];
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i])
            return false;
    }
    return action.size() == prefix.size() || action[prefix.size()] == '.' ||
           action[prefix.size()] == ':' || action[prefix.size()] == '-' ||
           action[prefix.size()] == '_';
}

Result<void> check_device_path(std::string_view path)
{
    if (path.empty() || path.front() != '/')
        return bus_fail(bus_error::PathNotAllowed, "path: '{}' is not absolute", path);
    if (path.size() >= PATH_MAX)
        return bus_fail(bus_error::PathNotAllowed, "path: longer than {} bytes", PATH_MAX - 1);
    if (path.find('\0') != std::string_view::npos)
        return bus_fail(bus_error::PathNotAllowed, "path: contains a NUL byte");
    if (path.size() > 1 && path.back() == '/')
        return bus_fail(bus_error::PathNotAllowed, "path: '{}' ends in '/'", path);
    size_t pos = 1;
    while (pos <= path.size()) {
        size_t slash = path.find('/', pos);
        size_t stop = slash == std::string_view::npos ? path.size() : slash;
        std::string_view comp = path.substr(pos, stop - pos);
        if (comp.empty() && stop != path.size())
            return bus_fail(bus_error::PathNotAllowed, "path: '{}' contains '//'", path);
        if (comp == "." || comp == "..")
            return bus_fail(bus_error::PathNotAllowed, "path: '{}' contains a '{}' component",
                            path, comp);
        if (slash == std::string_view::npos)
            break;
        pos = slash + 1;
    }
    return {};
}

Result<const DeviceRule *> allow_device(const Config &c, uid_t uid, std::string_view path)
{
    if (auto r = check_device_path(path); !r)
        return std::unexpected<Error>(std::move(r.error()));
    std::string p(path);
    for (const auto &d : c.devices)
        if (listed(d.callers, uid) && fnmatch(d.glob.c_str(), p.c_str(), FNM_PATHNAME) == 0)
            return &d;
    // The same answer whether a glob matched for somebody else or none did at all.
    return bus_fail(bus_error::NotAuthorized, "path: uid {} may not open '{}'", uid, path);
}

template <typename Rule>
static Result<const Rule *> allow_id(const std::vector<Rule> &rules, uid_t uid,
                                     std::string_view id, const char *what)
{
    for (const auto &r : rules)
        if (r.id == id && listed(r.callers, uid))
            return &r;
    // The same answer for an unknown id and a known one the caller may not write, so no
    // caller can probe which ids exist.
    return bus_fail(bus_error::NotAuthorized, "id: uid {} may not write {} '{}'", uid, what, id);
}

Result<const FileRule *> allow_file(const Config &c, uid_t uid, std::string_view id)
{
    return allow_id(c.files, uid, id, "file");
}

Result<const BlockRule *> allow_block(const Config &c, uid_t uid, std::string_view id)
{
    return allow_id(c.blocks, uid, id, "block");
}

Result<const OvsdbRule *> allow_ovsdb(const Config &c, uid_t uid)
{
    if (c.ovsdb && listed(c.ovsdb->callers, uid))
        return &*c.ovsdb;
    return bus_fail(bus_error::NotAuthorized, "uid {} may not open the ovsdb socket", uid);
}

Result<void> allow_record(const Config &c, uid_t uid)
{
    if (listed(c.record_callers, uid))
        return {};
    return bus_fail(bus_error::NotAuthorized, "uid {} may not write ledger records", uid);
}

Result<void> check_record_args(std::string_view action, std::string_view details)
{
    bool ok = !action.empty() && action.size() <= 64;
    for (char ch : action)
        ok = ok && ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' || ch == '-');
    if (!ok)
        return bus_fail(bus_error::InvalidArgument,
                        "action: must be 1..64 characters of [A-Za-z0-9._:-]");
    if (reserved_action(action))
        return bus_fail(bus_error::InvalidArgument,
                        "action: '{}' is reserved for the broker's own records", action);
    if (details.size() > max_record_details)
        return bus_fail(bus_error::TooLarge, "details: {} bytes, at most {}", details.size(),
                        max_record_details);
    if (!valid_utf8(details))
        return bus_fail(bus_error::InvalidArgument, "details: not valid UTF-8");
    return {};
}

} // namespace alopex::broker
