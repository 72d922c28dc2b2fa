// SPDX-License-Identifier: GPL-2.0-or-later
// Sections of alopex-slirp.toml(5) parsed outside settings.cpp (which keeps the rest).
#pragma once

#include "alopex/config.hpp"
#include "alopex/error.hpp"
#include "settings.hpp"

namespace alopex::slirp::detail {

// [auth] (settings_auth.cpp).
Result<void> parse_auth(const config::Table &root, Settings &s);

} // namespace alopex::slirp::detail
