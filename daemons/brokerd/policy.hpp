// SPDX-License-Identifier: GPL-2.0-or-later
// The broker's decisions, pure: may caller `uid` do operation X on this id or path?
// Root is not special: only what the table lists is allowed.
#pragma once

#include <sys/types.h>

#include <string_view>

#include "alopex/error.hpp"
#include "config.hpp"

namespace alopex::broker {

// Absolute, at most PATH_MAX-1 bytes, no "." / ".." components, no "//", no trailing '/'.
// Else PathNotAllowed naming `path`.
Result<void> check_device_path(std::string_view path);

// PathNotAllowed when the path is malformed or matches no [[device]] glob; NotAuthorized
// when globs match but none lists the caller.
Result<const DeviceRule *> allow_device(const Config &c, uid_t uid, std::string_view path);
// NoSuchId for an unknown id; NotAuthorized when the caller is not listed.
Result<const FileRule *> allow_file(const Config &c, uid_t uid, std::string_view id);
Result<const BlockRule *> allow_block(const Config &c, uid_t uid, std::string_view id);
// NotAuthorized unless [ovsdb] / [record] lists the caller.
Result<const OvsdbRule *> allow_ovsdb(const Config &c, uid_t uid);
Result<void> allow_record(const Config &c, uid_t uid);

// Record(action, details): action 1..64 bytes of [A-Za-z0-9._:-] (InvalidArgument naming
// `action`); details at most 64 KiB (TooLarge naming `details`) of valid UTF-8.
inline constexpr size_t max_record_details = 64 * 1024;
Result<void> check_record_args(std::string_view action, std::string_view details);

} // namespace alopex::broker
