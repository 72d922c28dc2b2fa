// SPDX-License-Identifier: GPL-2.0-or-later
// Catch2's main for every test executable (unit and kernel tests). It always runs as with
// `-w NoAssertions -w NoTests`: a test case (or leaf section) that asserts nothing fails,
// and so does a run whose test filter matches no test case — a test that cannot fail, or
// a filter that selects nothing (the VM runs tagged cases), must not pass for a success.
// A WARN is not an assertion: a case that only warns fails.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char *argv[])
{
    Catch::Session session;
    session.configData().warnings = static_cast<Catch::WarnAbout::What>(
        Catch::WarnAbout::NoAssertions | Catch::WarnAbout::NoTests);
    if (int rc = session.applyCommandLine(argc, argv); rc != 0)
        return rc;
    return session.run();
}
