// SPDX-License-Identifier: GPL-2.0-or-later
// The stderr form of the log: structured fields after the message, and no way for
// caller-controlled text to forge a second line.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

#include "alopex/log.hpp"

using namespace alopex;

namespace {
// Runs f with stderr redirected into a temporary file and returns what it wrote.
template <typename F> std::string capture_stderr(F f)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    REQUIRE(tmp);
    int saved = dup(STDERR_FILENO);
    REQUIRE(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    f();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    std::string out;
    rewind(tmp);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, tmp)) > 0)
        out.append(buf, n);
    fclose(tmp);
    return out;
}
} // namespace

TEST_CASE("stderr log lines carry level, message and fields")
{
    unsetenv("JOURNAL_STREAM");
    log::init("alopex-test");
    log::set_level(log::Level::info);
    auto out = capture_stderr([] {
        log::info({{"ALOPEX_OP", "WriteManagedFile"}, {"ALOPEX_ID", "x"}}, "wrote {} bytes", 3);
        log::debug("not shown at info");
    });
    std::string want = fmt::format("alopex-test[{}]: info: wrote 3 bytes ALOPEX_OP=WriteManagedFile "
                                   "ALOPEX_ID=x\n", getpid());
    CHECK(out == want);
}

TEST_CASE("control characters cannot forge a log line")
{
    unsetenv("JOURNAL_STREAM");
    log::init("alopex-test");
    auto out = capture_stderr([] {
        log::notice({{"ALOPEX_TAG", "a\nalopex-brokerd[1]: info: ok ALOPEX_RESULT=ok"}},
                    "refused tag {}", "t\r\n\\x");
    });
    CHECK(out.find('\n') == out.size() - 1);
    CHECK(out.find("refused tag t\\x0d\\x0a\\x5cx") != std::string::npos);
    CHECK(out.find("ALOPEX_TAG=a\\x0aalopex-brokerd[1]") != std::string::npos);
}
