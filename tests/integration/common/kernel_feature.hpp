// SPDX-License-Identifier: GPL-2.0-or-later
// What a C++ kernel test does when this kernel lacks a feature a test case needs (a link
// kind, NFT_TABLE_F_PERSIST): the same rule as a Skip in tests/harness/alopex_tap.py.
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "ci.hpp"

namespace alopex::itest {

// The current test case cannot test what it is about on this kernel. Under CI=true that
// is a failure (the machine's kernel is part of the test environment, as a missing tool
// is). Elsewhere it is a skip, which Catch2 v2 cannot express: a warning that names what
// was not tested, and one SUCCEED so that -w NoAssertions lets the case pass. The VM
// (tests/harness/alopex_vm.py) runs with CI=true: its kernel is known to have everything.
inline void kernel_lacks(const std::string &what)
{
    if (alopex::test::in_ci())
        FAIL("this kernel lacks " << what << " (CI=true: a missing kernel feature is a failure)");
    WARN("SKIPPED, this kernel lacks " << what);
    SUCCEED("skipped for want of " << what);
}

} // namespace alopex::itest
