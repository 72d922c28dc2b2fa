// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers shared by the ledger's translation units.
#pragma once

#include <string_view>

namespace alopex::ledger::detail {
bool is_hex64(std::string_view s);
bool valid_utf8(std::string_view s);
} // namespace alopex::ledger::detail
