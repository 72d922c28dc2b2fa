// SPDX-License-Identifier: GPL-2.0-or-later
// Whether a test runs in CI: the environment has CI=true (or 1/yes), as most CI systems
// set and .ci/run does. The same rule as tests/harness/alopex_tap.py's in_ci(): in CI a
// missing tool, corpus or kernel feature is a broken test environment, not a skip.
#pragma once

#include <cctype>
#include <cstdlib>
#include <string>

namespace alopex::test {

inline bool in_ci()
{
    const char *v = std::getenv("CI");
    std::string s = v ? v : "";
    for (auto &c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s == "true" || s == "1" || s == "yes";
}

} // namespace alopex::test
