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

// A caller cannot tell what the table holds for others: an unknown id and an id the
// caller is not listed for get the same error, NotAuthorized "id: uid N may not write
// file|block 'ID'"; a path that matches no glob and one whose globs do not list the caller
// get NotAuthorized "path: uid N may not open 'PATH'". Only a malformed path is told
// apart (PathNotAllowed, check_device_path), which says nothing about the table.
Result<const DeviceRule *> allow_device(const Config &c, uid_t uid, std::string_view path);
Result<const FileRule *> allow_file(const Config &c, uid_t uid, std::string_view id);
Result<const BlockRule *> allow_block(const Config &c, uid_t uid, std::string_view id);
// NotAuthorized unless [ovsdb] / [record] lists the caller.
Result<const OvsdbRule *> allow_ovsdb(const Config &c, uid_t uid);
Result<void> allow_record(const Config &c, uid_t uid);

// "broker" and "broker" followed by one of ".:-_", in any case: the broker's own actions
// (broker.OpenDevice, broker.WriteManagedFile.intent, ...), which no caller may forge.
bool reserved_action(std::string_view action);

// Record(action, details): action 1..64 bytes of [A-Za-z0-9._:-], not reserved_action()
// (InvalidArgument naming `action`); details at most 64 KiB (TooLarge naming `details`)
// of valid UTF-8.
inline constexpr size_t max_record_details = 64 * 1024;
Result<void> check_record_args(std::string_view action, std::string_view details);

} // namespace alopex::broker
