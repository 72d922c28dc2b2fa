// SPDX-License-Identifier: GPL-2.0-or-later
// Sections of alopex-slirp.toml(5) parsed outside settings.cpp (which keeps the rest).
#pragma once

#include "alopex/config.hpp"
#include "alopex/error.hpp"
#include "settings.hpp"

namespace alopex::slirp::detail {

// Where a secret is read from, as its table gives it: the file (an absolute path) at
// `file_key` or the credential (a name) at `cred_key`, either or both absent. Fills in
// what is there; refuses a relative path or a name with '/' at file:line:col.
Result<void> secret_source(const config::Table &t, std::string_view file_key, std::string_view cred_key,
                           std::string &file, std::string &credential);

// [auth] (settings_auth.cpp).
Result<void> parse_auth(const config::Table &root, Settings &s);

} // namespace alopex::slirp::detail
